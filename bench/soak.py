"""Soak: mixed load on the production stack while its processes are SIGKILLed.

    DATABASE_URL=postgres://…/DB CELERY_BROKER_URL=redis://…/N \\
        python -m bench.soak --minutes 30 --port 8330

Starts, on 127.0.0.1 and ports PORT…PORT+3: gunicorn as the Procfile starts
it, nginx from deploy/nginx/ in front of it, one Celery worker per queue as in
the Procfile, beat, a slow webhook receiver (answers after 3 s) and a failing
one (always 500). The database named in DATABASE_URL is dropped and created
again. Then, for --minutes: API clients send single orders and batches of 50
and report outcomes, each request with an Idempotency-Key and retried with the
same key until it is answered (as a client should); two reviewers sign in,
claim and decide cases through the web pages; a retrain is enqueued at 40 %.
Every 5 minutes (at least twice) a gunicorn worker and, in turn, the webhook
or training worker are SIGKILLed (gunicorn starts a new worker itself; the
Celery worker is started again, as a supervisor would).

At the end it compares the database with what the API acknowledged: orders,
outcome labels, reviewer labels, cases; duplicates; webhook deliveries
(delivered / dead letters / still pending). 5xx answers are counted, and those
within 5 s after a gunicorn kill are attributed to it. Prints JSON and keeps it
in bench/out/soak-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from bench.common import REPO, fresh_database

KILL_WINDOW = 5.0
BATCH = 50


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.latencies: list[float] = []
        self.errors: list[tuple[float, str]] = []  # (time, "5xx 502" / "conn …")
        self.orders: set[str] = set()
        self.cases: set[int] = set()
        self.outcome_labels: set[int] = set()
        self.decisions = 0
        self.kills: list[tuple[float, str]] = []

    def seen(self, started: float, status: int | None, error: str = "") -> None:
        with self.lock:
            self.requests += 1
            self.latencies.append(time.monotonic() - started)
            if status is None:
                self.errors.append((time.monotonic(), f"conn {error[:60]}"))
            elif status >= 500:
                self.errors.append((time.monotonic(), f"5xx {status}"))


def _receiver(port: int, answer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers["Content-Length"]))
            answer(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _slow(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(3)
    handler.send_response(200)
    handler.end_headers()


def _failing(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(500)
    handler.end_headers()


def _order(order_id: str, rng: random.Random) -> dict:
    customer = f"c{rng.randrange(400)}"
    return {
        "order_id": order_id,
        "created_at": datetime.now(UTC).isoformat(),
        "amount": f"{rng.uniform(5, 900):.2f}",
        "currency": "EUR",
        "customer_id": customer,
        "email": f"{customer}@shop.example",
        "device_id": f"d{rng.randrange(300)}",
        "ip_address": f"198.51.100.{rng.randrange(1, 250)}",
        "card_fingerprint": f"card{rng.randrange(500)}",
        "card_bin": "411111",
        "card_country": rng.choice(["DE", "FR", "NL", "US"]),
        "billing_country": rng.choice(["DE", "FR", "NL"]),
        "shipping_country": rng.choice(["DE", "FR", "NL", "NG"]),
        "seller_id": f"s{rng.randrange(20)}",
        "channel": rng.choice(["web", "app"]),
        "item_count": rng.randrange(1, 5),
    }


class Api:
    def __init__(self, base: str, token: str, stats: Stats) -> None:
        self.base, self.stats = base, stats
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def post(self, path: str, body: dict, stop: threading.Event) -> dict | None:
        """POST until answered (2xx/4xx), same Idempotency-Key every time."""
        key = str(uuid.uuid4())
        for attempt in range(60):
            started = time.monotonic()
            try:
                r = self.session.post(
                    self.base + path,
                    json=body,
                    headers={"Idempotency-Key": key},
                    timeout=60,
                )
            except requests.RequestException as exc:
                self.stats.seen(started, None, str(exc))
            else:
                self.stats.seen(started, r.status_code)
                if r.status_code < 300:
                    return r.json()
                if r.status_code < 500 and r.status_code not in (409, 429):
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
            time.sleep(min(0.2 * 2**attempt, 3))
        raise RuntimeError(f"{path}: no answer after 60 attempts")


def _intake(api: Api, stop: threading.Event, name: str, size: int) -> None:
    """Send orders one at a time (size 1) or in batches of `size`."""
    rng, n = random.Random(name), 0
    while not stop.is_set():
        ids = [f"{name}-{n + i}" for i in range(size)]
        n += len(ids)
        if size > 1:
            answer = api.post(
                "/api/v1/orders/batch/", {"orders": [_order(i, rng) for i in ids]}, stop
            )
            results = answer["results"]
        else:
            results = [api.post("/api/v1/orders/", _order(ids[0], rng), stop)]
        with api.stats.lock:
            for r in results:
                api.stats.orders.add(r["order_id"])
                if r["case_id"]:
                    api.stats.cases.add(r["case_id"])


def _outcomes(api: Api, stop: threading.Event) -> None:
    rng, done = random.Random(3), set()
    while not stop.is_set():
        with api.stats.lock:
            todo = sorted(api.stats.orders - done)
        if not todo:
            time.sleep(0.5)
            continue
        order_id = rng.choice(todo)
        done.add(order_id)
        outcome = rng.choice(["chargeback", "confirmed_legitimate", "confirmed_fraud"])
        label = api.post(
            f"/api/v1/orders/{order_id}/outcomes/", {"outcome": outcome}, stop
        )
        with api.stats.lock:
            api.stats.outcome_labels.add(label["id"])
        time.sleep(0.3)


CLAIM = re.compile(r'name="claim" value="(\d+)"')
REASON = re.compile(r'name="reasons" value="([^"]+)"')


def _reviewer(base: str, username: str, password: str, stats: Stats, stop) -> None:
    web = requests.Session()

    def call(method: str, path: str, **kw) -> requests.Response | None:
        started = time.monotonic()
        try:
            r = web.request(
                method, base + path, timeout=60, allow_redirects=False, **kw
            )
        except requests.RequestException as exc:
            stats.seen(started, None, str(exc))
            return None
        stats.seen(started, r.status_code)
        return r

    def csrf() -> dict:
        return {"csrfmiddlewaretoken": web.cookies.get("csrftoken", "")}

    while not stop.is_set() and not web.cookies.get("sessionid"):
        call("GET", "/login/")
        call(
            "POST",
            "/login/",
            data={**csrf(), "username": username, "password": password},
        )
    while not stop.is_set():
        r = call("POST", "/cases/next/", data=csrf())
        if r is None or r.status_code != 302 or "/cases/" not in r.headers["Location"]:
            time.sleep(1)
            continue
        page = call("GET", r.headers["Location"])
        claim = CLAIM.search(page.text) if page is not None else None
        reasons = REASON.findall(page.text) if page is not None else []
        if claim is None or not reasons:
            continue
        decided = call(
            "POST",
            r.headers["Location"] + "decide/",
            data={
                **csrf(),
                "claim": claim.group(1),
                "value": random.choice(["fraud", "legitimate"]),
                "reasons": reasons[:1],
            },
        )
        if decided is not None and decided.status_code == 302:
            with stats.lock:
                stats.decisions += 1


def _nginx_conf(tmp: Path, web_port: int, proxy_port: int) -> Path:
    template = (REPO / "deploy/nginx/default.conf.template").read_text()
    server = string.Template(template).safe_substitute(
        WEB_UPSTREAM=f"127.0.0.1:{web_port}", NGINX_PORT=f"127.0.0.1:{proxy_port}"
    )
    (tmp / "server.conf").write_text(server)
    conf = tmp / "nginx.conf"
    temps = "".join(
        f"  {kind}_temp_path {tmp}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"daemon off;\nmaster_process off;\npid {tmp}/nginx.pid;\n"
        f"error_log {tmp}/nginx-error.log;\nevents {{ worker_connections 512; }}\n"
        f"http {{\n{temps}  include {tmp}/server.conf;\n}}\n"
    )
    return conf


def _procfile(port: int) -> dict[str, list[str]]:
    commands = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        command = command.replace("${PORT:-8000}", str(port)).split()
        if command and command[0] in {"gunicorn", "celery"}:
            commands[name] = [sys.executable, "-m", *command]
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--port", type=int, default=8330)
    parser.add_argument("--seed-orders", type=int, default=3000)
    args = parser.parse_args()
    web_port, proxy_port, slow_port, failing_port = range(args.port, args.port + 4)
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    db_name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    env_extra = {
        "SECRET_KEY": "soak-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VAR_DIR": str(tmp),
        "MODEL_DIR": str(tmp / "models"),
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_MAX_ATTEMPTS": "3",
        "WEBHOOK_RETRY_BASE_SECONDS": "2",
        "WEBHOOK_RETRY_MAX_SECONDS": "10",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "TRUST_X_FORWARDED_FOR": "true",
        "TRAINING_THREADS": "1",
        # The generated orders are mostly low risk: queue more of them, so the
        # reviewers have work and their decisions send webhooks.
        "RISK_REVIEW_THRESHOLD": "0.05",
    }
    os.environ.update(env_extra)
    fresh_database(db_name)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["MODEL_REFRESH_SECONDS"] = "5"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "riskreview.settings"}
    for command in (
        ["manage.py", "seed_demo", "--history-only", "--orders", str(args.seed_orders)],
        ["manage.py", "train_model"],
    ):
        subprocess.run([sys.executable, *command], cwd=REPO, env=env, check=True)

    from cases.models import Case, Label, Order, WebhookDelivery
    from cases.services.clients import api_client_create
    from cases.services.users import user_create
    from cases.services.webhooks import webhook_endpoint_create
    from cases.tasks import model_train
    from models_ml.models import ModelVersion
    from riskreview.celery import app
    from tenants.services import tenant_find

    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    demo = tenant_find("demo")  # seed_demo's tenant, with its trained model
    client, token = api_client_create("soak-shop", tenant=demo)
    for port in (slow_port, failing_port):
        webhook_endpoint_create(
            client, f"http://127.0.0.1:{port}/hook", ["case.decided"], actor="soak"
        )
    reviewers = [(f"soak-rev-{i}", "soak-password-123") for i in range(2)]
    for name, password in reviewers:
        user_create(name, password, "reviewer", tenant=demo)
    servers = [_receiver(slow_port, _slow), _receiver(failing_port, _failing)]

    commands = _procfile(web_port)
    commands["beat"] = [*commands["beat"][:-1], str(tmp / "beat-schedule")]
    procs: dict[str, subprocess.Popen] = {}

    def start(name: str, command: list[str]) -> None:
        procs[name] = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=(tmp / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    for name, command in commands.items():
        start(name, command)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    start(
        "nginx",
        [nginx, "-p", str(tmp), "-c", str(_nginx_conf(tmp, web_port, proxy_port))],
    )
    base = f"http://127.0.0.1:{proxy_port}"
    for _ in range(120):
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + "/health/", timeout=2).status_code == 200:
                break
        time.sleep(1)

    stats, stop = Stats(), threading.Event()
    api = Api(base, token, stats)
    threads = [
        threading.Thread(
            target=_intake, args=(Api(base, token, stats), stop, f"s{i}", 1)
        )
        for i in range(2)
    ]
    threads.append(threading.Thread(target=_intake, args=(api, stop, "b0", BATCH)))
    threads.append(
        threading.Thread(target=_outcomes, args=(Api(base, token, stats), stop))
    )
    threads += [
        threading.Thread(target=_reviewer, args=(base, n, p, stats, stop))
        for n, p in reviewers
    ]
    started = time.monotonic()
    for t in threads:
        t.start()

    duration = args.minutes * 60
    kills = max(2, int(args.minutes // 5))
    kill_at = [duration * (i + 0.5) / kills for i in range(kills)]
    retrained = False
    for n, at in enumerate(kill_at):
        while time.monotonic() - started < at:
            if not retrained and time.monotonic() - started > duration * 0.4:
                model_train.delay(force=True)
                retrained = True
            time.sleep(1)
        workers = subprocess.run(
            ["pgrep", "-P", str(procs["web"].pid)], capture_output=True, text=True
        ).stdout.split()
        if workers:
            os.kill(int(workers[0]), signal.SIGKILL)
            stats.kills.append((time.monotonic(), "gunicorn worker"))
        victim = "worker-webhooks" if n % 2 == 0 else "worker-training"
        os.killpg(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait()
        stats.kills.append((time.monotonic(), victim))
        start(victim, commands[victim])
    while time.monotonic() - started < duration:
        time.sleep(1)
    stop.set()
    for t in threads:
        t.join(300)
    load_seconds = time.monotonic() - started

    pending = WebhookDelivery.objects.filter(status="pending")
    for _ in range(120):  # let retries and the sweep finish the deliveries
        if not pending.exists():
            break
        time.sleep(1)

    gunicorn_kills = [t for t, what in stats.kills if what == "gunicorn worker"]
    in_kill = [
        e
        for e in stats.errors
        if any(0 <= e[0] - k <= KILL_WINDOW for k in gunicorn_kills)
    ]
    outside = [e for e in stats.errors if e not in in_kill]
    db_orders = set(
        Order.objects.filter(client=client).values_list("order_id", flat=True)
    )
    outcome_labels = Label.objects.filter(order__client=client).exclude(
        source="reviewer"
    )
    db_outcome_ids = set(outcome_labels.values_list("id", flat=True))
    reviewer_labels = Label.objects.filter(
        source="reviewer", created_by__username__startswith="soak-rev-"
    )
    cases_db = set(
        Case.objects.filter(order__client=client).values_list("id", flat=True)
    )
    lat = sorted(stats.latencies)
    report = {
        "minutes": round(load_seconds / 60, 1),
        "requests": stats.requests,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1) if lat else None,
        "kills": [what for _t, what in stats.kills],
        "errors_total": len(stats.errors),
        "errors_within_5s_of_a_gunicorn_kill": len(in_kill),
        "errors_outside_kills": [what for _t, what in outside],
        "orders_acknowledged": len(stats.orders),
        "orders_in_db": len(db_orders),
        "orders_lost": len(stats.orders - db_orders),
        "orders_stored_not_acknowledged": len(db_orders - stats.orders),
        "orders_duplicated": Order.objects.filter(client=client).count()
        - len(db_orders),
        "outcome_labels_acknowledged": len(stats.outcome_labels),
        "outcome_labels_in_db": len(db_outcome_ids),
        "outcome_labels_lost": len(stats.outcome_labels - db_outcome_ids),
        "outcome_labels_duplicated": outcome_labels.count()
        - len(set(outcome_labels.values_list("order_id", "source", "value"))),
        "reviewer_decisions_acknowledged": stats.decisions,
        "reviewer_labels_in_db": reviewer_labels.count(),
        "reviewer_labels_duplicated": reviewer_labels.count()
        - len(set(reviewer_labels.values_list("case_id", "created_by_id"))),
        "cases_acknowledged": len(stats.cases),
        "cases_in_db": len(cases_db),
        "cases_lost": len(stats.cases - cases_db),
        "webhooks": {
            s: WebhookDelivery.objects.filter(endpoint__client=client, status=s).count()
            for s in ("delivered", "dead", "pending", "cancelled")
        },
        "model_versions": list(
            ModelVersion.objects.order_by("id").values_list("id", "status")
        ),
        "workdir": str(tmp),
    }
    for name, proc in procs.items():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    for server in servers:
        server.shutdown()
    out = REPO / "bench" / "out" / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
