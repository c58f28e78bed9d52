"""The production edge: nginx (deploy/nginx/) in front of gunicorn as the
Procfile starts it. Slow clients do not block the workers, chunked bodies are
parsed, and neither access log holds personal data (findings 9, 11, 12)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import string
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from cases.services.clients import api_client_create
from tests.factories import order_payload
from tests.worker.conftest import REPO, wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SLOW_CLIENTS = 6
PROBES = 10

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _procfile_web(port: int) -> list[str]:
    """The Procfile's web command, on `port`, with two workers."""
    line = next(
        line
        for line in (REPO / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    command = line.split(":", 1)[1].replace("${PORT:-8000}", str(port)).split()
    assert command[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *command[1:]]


@dataclass
class Edge:
    proxy_port: int
    web_port: int
    web_log: Path
    proxy_log: Path


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Edge]:
    db = connection.settings_dict
    web_port, proxy_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskreview.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TRUST_X_FORWARDED_FOR": "true",
    }
    template = (REPO / "deploy/nginx/default.conf.template").read_text()
    server = string.Template(template).safe_substitute(
        WEB_UPSTREAM=f"127.0.0.1:{web_port}", NGINX_PORT=f"127.0.0.1:{proxy_port}"
    )
    (tmp_path / "server.conf").write_text(server)
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\npid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/nginx-error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/fastcgi;\n"
        f"  uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f"  scgi_temp_path {tmp_path}/scgi;\n"
        f"  include {tmp_path}/server.conf;\n"
        "}\n"
    )
    result = Edge(proxy_port, web_port, tmp_path / "web.log", tmp_path / "proxy.log")
    web = subprocess.Popen(
        _procfile_web(web_port),
        cwd=REPO,
        env=env,
        stdout=result.web_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    proxy = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stdout=result.proxy_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _answers(web_port), 60, "gunicorn to answer")
        wait_for(lambda: _answers(proxy_port), 30, "nginx to answer")
        yield result
    finally:
        for process in (proxy, web):
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(port: int) -> bool:
    try:
        return _get(port, "/health/")[0] == 200
    except OSError:
        return False


def _get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def _slow_clients(port: int, count: int) -> Iterator[None]:
    """Clients that send a request a byte at a time and never finish it."""
    stop = threading.Event()
    sockets = []
    for n in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        head = "POST /api/v1/orders/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if n % 2:  # half stall in the headers, half in the body
            head += "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        s.sendall(head.encode())
        sockets.append(s)

    def trickle() -> None:
        while not stop.wait(1.0):
            for s in sockets:
                with contextlib.suppress(OSError):
                    s.send(b"x" if s.fileno() % 2 else b"X-Slow: 1\r\n"[:1])

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for s in sockets:
            s.close()


def _probes(port: int) -> list[int]:
    codes = []
    for _ in range(PROBES):
        try:
            codes.append(_get(port, "/health/")[0])
        except OSError:
            codes.append(0)  # no answer in time
    return codes


def test_slow_clients_do_not_block_the_web_workers(edge):
    with _slow_clients(edge.proxy_port, SLOW_CLIENTS):
        codes = _probes(edge.proxy_port)

    assert codes == [200] * PROBES


def test_a_chunked_body_is_parsed_behind_the_proxy_and_refused_without_it(edge):
    _client, token = api_client_create("shop-edge")
    body = json.dumps(order_payload(order_id="chunked-1")).encode()

    def post_chunked(port: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(
                "POST",
                "/api/v1/orders/",
                body=iter([body[:50], body[50:]]),
                headers={
                    "Authorization": f"Token {token}",
                    "Content-Type": "application/json",
                },
                encode_chunked=True,
            )
            return conn.getresponse().status
        finally:
            conn.close()

    assert post_chunked(edge.web_port) == 411
    assert post_chunked(edge.proxy_port) == 201


def test_access_logs_hold_no_personal_data(edge):
    for path in (
        "/api/v1/orders/jane.doe@example.com/",
        "/queue/?q=victim%40shop-a.example&ip=203.0.113.77",
    ):
        _get(edge.proxy_port, path)

    wait_for(lambda: b"/queue/" in edge.web_log.read_bytes(), 10, "the access log")
    logs = edge.web_log.read_text() + edge.proxy_log.read_text()
    access = "\n".join(line for line in logs.splitlines() if "GET" in line)
    assert "j***@example.com" in access  # the request was logged, masked
    assert not any(s in logs for s in ("jane.doe", "victim", "203.0.113.77"))
    assert "127.0.0.1" not in access  # no client address
