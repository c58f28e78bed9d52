"""Order intake through the real HTTP stack, measured against a floor.

    .venv/bin/python -m bench.intake [--requests 1000] [--concurrency 4] [--batches 10]

Everything runs on 127.0.0.1. In order:

1. drop and recreate the PostgreSQL database ``riskreview_bench``; ``migrate``;
   ``seed_demo --history-only --orders 20000 --seed 7`` (30 days of history,
   75 % labelled);
   ``train_model``; ``create_api_client bench --tenant demo``; ``VACUUM ANALYZE``;
2. start ``gunicorn riskreview.wsgi --workers 2`` with
   ``DJANGO_SETTINGS_MODULE=bench.settings`` (production settings plus the
   floor endpoint, see bench/floor.py), DEBUG off, models in a temp dir;
3. warm both workers up, then measure, one phase after the other:
   (a) the floor ``POST /bench/floor/`` (validate + insert one Order),
   (b) ``POST /api/v1/orders/`` (features, scoring, SHAP, case),
   (c) ``POST /api/v1/orders/batch/`` with 1,000 orders a request;
4. profile single-order intake in-process (bench.profile_intake).

Traffic is ``generate_orders(seed=8)`` starting where the seeded 30 days end,
so history look-ups find the seeded orders; every order_id is sent once. The
floor sends the same generated orders moved a year later (other order_ids), so
its rows never fall into the history window of an intake request.

The load generator is wrk (Debian package ``wrk``) with bench/wrk_post.lua; if
wrk is missing, Python threads with http.client take over (they then share
the 2 cores with the server: say so when reporting). The batch phase always
uses the Python client: a few requests of 700 kB cost it nothing, and it
counts the last batch exactly. Every phase is bounded in requests and time.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from lab.demo_data import DEFAULT_START, TRUTH_KEYS, generate_orders

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LUA_SCRIPT = ROOT / "bench" / "wrk_post.lua"

DB_NAME = "riskreview_bench"
PG = "postgresql://postgres@127.0.0.1:5432"
WORKERS = 2

SEED_ORDERS, SEED, SEED_DAYS = 20_000, 7, 30
TRAFFIC_SEED = 8
FLOOR_SHIFT = timedelta(days=365)
BATCH_SIZE = 1000
PROFILE_BATCHES = 3  # the first one warms up

SINGLE_PATH = "/api/v1/orders/"
BATCH_PATH = "/api/v1/orders/batch/"
FLOOR_PATH = "/bench/floor/"

TARGET_P99_MS = 25.0
TARGET_FLOOR_SHARE = 0.60
TARGET_BATCH_ORDERS_S = 10000.0
TARGET_HOT_SHARE = 0.80
HOT_SELLER = "bench-hot-seller"
HOT_CONCURRENCY = 8


@dataclass
class Phase:
    name: str
    path: str
    bodies: list[bytes]
    concurrency: int
    orders_per_request: int = 1
    # wrk leaves latencies above its --timeout out of the histogram: keep it high.
    timeout_s: float = 60.0


@dataclass
class PhaseResult:
    name: str
    client: str
    concurrency: int
    requests: int
    seconds: float
    statuses: dict[str, int]
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    orders_per_request: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def req_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def orders_s(self) -> float:
        return self.req_s * self.orders_per_request


def main(argv: Sequence[str] | None = None) -> int:
    global DB_NAME, WORKERS
    args = _parse_args(argv)
    DB_NAME, WORKERS = args.database, args.workers
    machine = machine_info()
    _say("machine: " + json.dumps(machine))
    client = _pick_client(args.client)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="riskreview-bench-") as tmp:
        workdir = Path(tmp)
        env = bench_env(workdir)
        server_env = {**env, **dict(args.server_env)}
        database_recreate()
        token, setup_seconds = prepare(env)
        traffic = traffic_bodies(args)
        port = args.port or _free_port()
        results: dict[str, PhaseResult] = {}
        with gunicorn(server_env, port, workdir / "gunicorn.log") as server:
            _say("warming up")
            for phase in warmup_phases(traffic, args):
                _report_phase(run_phase(phase, client, port, token, workdir, args))
            for phase in measured_phases(traffic, args):
                _pause()
                meter = CpuMeter(server.pid)
                result = run_phase(phase, client, port, token, workdir, args)
                result.extra.update(meter.read(result.requests))
                results[phase.name] = result
                _report_phase(result)
        profile = ""
        if args.profile_requests:
            profile = profile_intake(server_env, token, traffic, args, workdir)
    if code_fingerprint() != machine["code"]:
        machine["code"] += " (changed during the run!)"
    report = render_report(machine, setup_seconds, results, args, client)
    print()
    print(report)
    if profile:
        print(profile)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = OUT_DIR / f"intake-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "machine": machine,
                "args": vars(args),
                "setup_seconds": setup_seconds,
                "results": {
                    k: {**asdict(r), "req_s": r.req_s, "orders_s": r.orders_s}
                    for k, r in results.items()
                },
                "profile": profile,
            },
            indent=2,
        )
    )
    _say(f"wrote {out.relative_to(ROOT)}")
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.intake")
    parser.add_argument(
        "--requests", type=int, default=1000, help="measured single-order intakes"
    )
    parser.add_argument(
        "--floor-requests", type=int, default=5000, help="measured floor requests"
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--batches",
        type=int,
        default=10,
        help="measured batch requests of 1,000 orders",
    )
    parser.add_argument("--batch-concurrency", type=int, default=WORKERS)
    parser.add_argument(
        "--warmup",
        type=int,
        default=200,
        help="single-order warm-up requests (floor and intake each)",
    )
    parser.add_argument(
        "--profile-requests",
        type=int,
        default=200,
        help="in-process profiled intake requests (0: no profile)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=300.0, help="time bound of each phase"
    )
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--database", default=DB_NAME, help="the throwaway database (dropped first)"
    )
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument(
        "--hot-requests",
        type=int,
        default=0,
        help="also send this many orders of one seller at concurrency 8, and as "
        "many of 8 sellers (0: skip)",
    )
    parser.add_argument(
        "--server-env",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for gunicorn and the profile, for experiments "
        "(e.g. OMP_NUM_THREADS=1); reported with the results",
    )
    args = parser.parse_args(argv)
    if min(args.requests, args.floor_requests) < 10 * args.concurrency:
        parser.error("--requests and --floor-requests must be >= 10 x --concurrency")
    if args.batches < 1 or args.batches > 200:
        parser.error("--batches must be 1..200")
    return args


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected KEY=VALUE")
    return key, value


def _say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# --- machine and setup -------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    with psycopg.connect(f"{PG}/postgres") as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        run = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
        wrk_version = (run.stdout + run.stderr).split("\n")[0].strip()
    gunicorn_version = subprocess.run(
        [GUNICORN, "--version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    return {
        "code": code_fingerprint(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "postgresql": pg_version,
        "python": platform.python_version(),
        "gunicorn": gunicorn_version,
        "wrk": wrk_version,
    }


def code_fingerprint() -> str:
    """SHA-256 (12 hex) of the application's Python files: which code was run."""
    digest = hashlib.sha256()
    for package in ("cases", "models_ml", "riskreview"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def bench_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{DB_NAME}",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DEBUG="false",
        MODEL_DIR=str(workdir / "models"),
        VAR_DIR=str(workdir / "var"),
        DJANGO_SETTINGS_MODULE="bench.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        # No worker runs here: tasks that commands enqueue (train_model asks
        # for a rescore) go to kombu's in-process transport and are dropped.
        CELERY_BROKER_URL="memory://",
    )
    (workdir / "var").mkdir()
    return env


def database_recreate() -> None:
    _say(f"recreating database {DB_NAME}")
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def prepare(env: dict[str, str]) -> tuple[str, dict[str, float]]:
    """Migrate, seed, train and create the API client; return its token."""
    steps = {
        "migrate": ["migrate", "--noinput"],
        "seed_demo": [
            *("seed_demo", "--history-only", "--orders", str(SEED_ORDERS)),
            *("--seed", str(SEED)),
        ],
        "train_model": ["train_model"],
        # The demo's tenant: its history, tiles and model (entities and models
        # are per tenant).
        "create_api_client": ["create_api_client", "bench", "--tenant", "demo"],
    }
    seconds: dict[str, float] = {}
    output = ""
    for name, command in steps.items():
        _say("manage.py " + " ".join(command))
        started = time.perf_counter()
        run = subprocess.run(
            [PYTHON, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        seconds[name] = round(time.perf_counter() - started, 1)
        if run.returncode != 0:
            sys.stderr.write(run.stdout + run.stderr)
            raise SystemExit(f"manage.py {name} failed")
        output = run.stdout.strip()
        if name != "migrate":
            last = output.splitlines()[-1] if output else ""
            _say(f"  {last.split(' Token: ')[0]} ({seconds[name]} s)")
    token = output.split()[-1]
    with psycopg.connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return token, seconds


# --- traffic -------------------------------------------------------------------


def traffic_bodies(args: argparse.Namespace) -> dict[str, list[bytes]]:
    """JSON bodies for every phase, in time order, after the seeded history."""
    warm_batches = WORKERS
    sizes = {
        "warm": args.warmup,
        "single": args.requests,
        "warm_batch": warm_batches * BATCH_SIZE,
        "batch": args.batches * BATCH_SIZE,
        "profile": _profile_orders(args.profile_requests),
        "profile_batch": PROFILE_BATCHES * BATCH_SIZE if args.profile_requests else 0,
        "distinct": args.hot_requests,
        "hot": args.hot_requests,
    }
    total = sum(sizes.values())
    per_day = SEED_ORDERS / SEED_DAYS
    days = max(1, math.ceil(total / per_day))
    start = DEFAULT_START + timedelta(days=SEED_DAYS)
    rows = generate_orders(total, seed=TRAFFIC_SEED, start=start, days=days)
    _say(f"generated {total} traffic orders over {days} days from {start:%Y-%m-%d}")
    slices: dict[str, list[dict]] = {}
    offset = 0
    for name, size in sizes.items():
        slices[name] = rows[offset : offset + size]
        offset += size
    bodies: dict[str, list[bytes]] = {
        "floor_warm": _floor_bodies(rows, args.warmup, "bench-floor-w"),
        "floor": _floor_bodies(rows, args.floor_requests, "bench-floor"),
        "warm": _bodies(slices["warm"], "bench-w"),
        "single": _bodies(slices["single"], "bench-s"),
        "profile": _bodies(slices["profile"], "bench-p"),
        "distinct": _bodies(slices["distinct"], "bench-d", sellers=HOT_CONCURRENCY),
        "hot": _bodies(slices["hot"], "bench-h", sellers=1),
    }
    for name in ("warm_batch", "batch", "profile_batch"):
        orders = [
            _order(row, f"bench-{name}-{i}") for i, row in enumerate(slices[name])
        ]
        bodies[name] = [
            json.dumps({"orders": orders[i : i + BATCH_SIZE]}).encode()
            for i in range(0, len(orders), BATCH_SIZE)
        ]
    return bodies


def _floor_bodies(rows: list[dict], n: int, prefix: str) -> list[bytes]:
    """Traffic orders moved a year (or more) later: the same payloads, but
    outside the history window of every intake request."""
    return [
        json.dumps(
            _order(
                rows[i % len(rows)],
                f"{prefix}-{i}",
                FLOOR_SHIFT * (1 + i // len(rows)),
            )
        ).encode()
        for i in range(n)
    ]


def _profile_orders(requests: int) -> int:
    from bench.profile_intake import orders_needed

    return orders_needed(requests) if requests else 0


def _bodies(
    rows: list[dict], prefix: str, shift: timedelta = timedelta(0), sellers: int = 0
) -> list[bytes]:
    """Bodies of these orders; with `sellers`, their seller is one of that many
    (in turn, so concurrent requests have different ones)."""
    out = []
    for i, row in enumerate(rows):
        body = _order(row, f"{prefix}-{i}", shift)
        if sellers:
            body["seller_id"] = f"{HOT_SELLER}-{prefix}-{i % sellers}"
        out.append(json.dumps(body).encode())
    return out


def _order(row: dict, order_id: str, shift: timedelta = timedelta(0)) -> dict:
    body = {k: v for k, v in row.items() if k not in TRUTH_KEYS}
    body["order_id"] = order_id
    body["amount"] = str(row["amount"])
    for name in ("created_at", "account_created_at"):
        body[name] = (row[name] + shift).isoformat()
    return body


def warmup_phases(traffic: dict[str, list[bytes]], args: argparse.Namespace) -> list:
    return [
        Phase("warmup floor", FLOOR_PATH, traffic["floor_warm"], args.concurrency),
        Phase("warmup intake", SINGLE_PATH, traffic["warm"], args.concurrency),
        Phase(
            "warmup batch",
            BATCH_PATH,
            traffic["warm_batch"],
            args.batch_concurrency,
            BATCH_SIZE,
            timeout_s=120.0,
        ),
    ]


def measured_phases(traffic: dict[str, list[bytes]], args: argparse.Namespace) -> list:
    hot = [
        Phase("distinct sellers", SINGLE_PATH, traffic["distinct"], HOT_CONCURRENCY),
        Phase("hot seller", SINGLE_PATH, traffic["hot"], HOT_CONCURRENCY),
    ]
    return [
        Phase("floor", FLOOR_PATH, traffic["floor"], args.concurrency),
        Phase("intake", SINGLE_PATH, traffic["single"], args.concurrency),
        Phase(
            "batch",
            BATCH_PATH,
            traffic["batch"],
            args.batch_concurrency,
            BATCH_SIZE,
            timeout_s=120.0,
        ),
        *(hot if args.hot_requests else []),
    ]


# --- server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    command = [
        GUNICORN,
        "riskreview.wsgi",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    _say(" ".join(["gunicorn", *command[1:]]))
    with log.open("wb") as handle:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        _wait_ready(port, server, log)
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        text = log.read_text(errors="replace")
        if "Traceback" in text or "WORKER TIMEOUT" in text:
            _say("gunicorn log shows errors:\n" + text[-4000:])


def _wait_ready(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited:\n" + log.read_text(errors="replace"))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", SINGLE_PATH)
            status = conn.getresponse().status
            conn.close()
            if status in (401, 405):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def _pause() -> None:
    # Lets requests abandoned at the end of the previous phase finish.
    time.sleep(3)


class CpuMeter:
    """CPU used over a phase: by gunicorn's workers, the load generator, the
    PostgreSQL backends of the bench database, and everything else.

    The machine may be shared: "other" CPU is work this benchmark did not ask
    for (other people's tests, say) and makes its numbers worse.
    """

    def __init__(self, master_pid: int) -> None:
        self.master_pid = master_pid
        self.before = self._snapshot()
        # wrk has exited (and been waited for) when the phase is read.
        self.children = _children_cpu()
        self.started = time.monotonic()

    def _snapshot(self) -> dict[int, tuple[str, float]]:
        tick = os.sysconf("SC_CLK_TCK")
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            comm = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            pid, ppid = int(stat.parent.name), int(fields[1])
            cpu = (int(fields[11]) + int(fields[12])) / tick
            found[pid] = (self._kind(pid, ppid, comm, cmdline), cpu)
        return found

    def _kind(self, pid: int, ppid: int, comm: str, cmdline: bytes) -> str:
        if ppid == self.master_pid or pid == self.master_pid:
            return "workers"
        if pid == os.getpid() or comm == "wrk":
            return "client"
        if cmdline.startswith(b"postgres: ") and f" {DB_NAME} ".encode() in cmdline:
            return "postgres"
        return "other"

    def read(self, requests: int) -> dict[str, float]:
        after = self._snapshot()
        seconds = time.monotonic() - self.started
        used: Counter[str] = Counter()
        for pid, (kind, cpu) in after.items():
            used[kind] += cpu - self.before.get(pid, (kind, 0.0))[1]
        used["client"] += _children_cpu() - self.children
        return {
            "worker_cpu_ms_per_request": round(
                1000 * used["workers"] / max(requests, 1), 2
            ),
            **{
                f"{kind}_cores": round(used[kind] / seconds, 2)
                for kind in ("workers", "postgres", "client", "other")
            },
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- load generation -------------------------------------------------------------


def _pick_client(choice: str) -> str:
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk, or --client python")
    return choice


def run_phase(
    phase: Phase,
    client: str,
    port: int,
    token: str,
    workdir: Path,
    args: argparse.Namespace,
) -> PhaseResult:
    if phase.orders_per_request > 1:
        client = "python"  # a few large requests: exact count, no client cost
    _say(
        f"{phase.name}: {len(phase.bodies)} requests, concurrency "
        f"{phase.concurrency}, {client}"
    )
    if client == "wrk" and phase.orders_per_request == 1:
        return _wrk_run(phase, port, token, workdir, args.max_seconds)
    return _python_run(phase, port, token, args.max_seconds)


def _wrk_run(
    phase: Phase, port: int, token: str, workdir: Path, max_seconds: float
) -> PhaseResult:
    slug = phase.name.replace(" ", "-")
    bodies = workdir / f"{slug}.jsonl"
    bodies.write_bytes(b"\n".join(phase.bodies) + b"\n")
    done_dir = workdir / f"{slug}.done"
    done_dir.mkdir()
    threads = 1  # one event loop drives all connections; the server needs the CPU
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(phase.concurrency),
        "-d",
        f"{int(max_seconds)}s",
        "--timeout",
        f"{int(phase.timeout_s)}s",
        "-s",
        str(LUA_SCRIPT),
        f"http://127.0.0.1:{port}{phase.path}",
        "--",
        str(bodies),
        token,
        str(done_dir),
        str(threads),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + max_seconds + 5
    while time.monotonic() < deadline and process.poll() is None:
        if len(list(done_dir.iterdir())) >= threads:
            break
        time.sleep(0.05)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    line = next((x for x in out.splitlines() if x.startswith("BENCH-JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed:\n{out}\n{err}")
    data = json.loads(line.removeprefix("BENCH-JSON "))
    statuses = Counter()
    for item in data["statuses"].split(","):
        if item:
            code, count = item.split(":")
            statuses[code] += int(count)
    errors = sum(data["errors"].values()) - data["errors"]["status"]
    return PhaseResult(
        name=phase.name,
        client="wrk",
        concurrency=phase.concurrency,
        requests=data["received"],
        seconds=(data["last_ns"] - data["first_ns"]) / 1e9,
        statuses=dict(statuses),
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        orders_per_request=phase.orders_per_request,
        extra={"wrk_requests": data["wrk_requests"], "sent": len(phase.bodies)},
    )


def _python_run(phase: Phase, port: int, token: str, max_seconds: float) -> PhaseResult:
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    next_index = itertools.count()
    deadline = time.monotonic() + max_seconds
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    spans: list[tuple[int, int]] = []

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=phase.timeout_s)
        mine: list[float] = []
        codes: Counter[str] = Counter()
        failed = 0
        first = last = 0
        while time.monotonic() < deadline:
            i = next(next_index)
            if i >= len(phase.bodies):
                break
            started = time.monotonic_ns()
            first = first or started
            try:
                conn.request("POST", phase.path, body=phase.bodies[i], headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                continue
            last = time.monotonic_ns()
            mine.append((last - started) / 1e6)
            codes[str(response.status)] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)
            errors += failed
            if first:
                spans.append((first, last))

    workers = [threading.Thread(target=worker) for _ in range(phase.concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=max_seconds + phase.timeout_s + 5)
    values = np.array(latencies or [math.nan])
    first = min((s[0] for s in spans), default=0)
    last = max((s[1] for s in spans), default=0)
    return PhaseResult(
        name=phase.name,
        client="python",
        concurrency=phase.concurrency,
        requests=len(latencies),
        seconds=(last - first) / 1e9,
        statuses=dict(statuses),
        errors=errors,
        p50_ms=float(np.percentile(values, 50)),
        p95_ms=float(np.percentile(values, 95)),
        p99_ms=float(np.percentile(values, 99)),
        max_ms=float(values.max()),
        orders_per_request=phase.orders_per_request,
        extra={"sent": len(phase.bodies)},
    )


def _report_phase(result: PhaseResult) -> None:
    _say(
        f"  {result.name}: {result.requests} in {result.seconds:.1f} s = "
        f"{result.req_s:.1f} req/s ({result.orders_s:.0f} orders/s); p50 "
        f"{result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f}, p99 {result.p99_ms:.1f}, "
        f"max {result.max_ms:.1f}; statuses {result.statuses}, errors {result.errors}"
    )


# --- profile and report ----------------------------------------------------------


def profile_intake(
    env: dict[str, str],
    token: str,
    traffic: dict[str, list[bytes]],
    args: argparse.Namespace,
    workdir: Path,
) -> str:
    path = workdir / "profile.jsonl"
    path.write_bytes(b"\n".join(traffic["profile"]) + b"\n")
    batches = workdir / "profile-batches.jsonl"
    batches.write_bytes(b"\n".join(traffic["profile_batch"]) + b"\n")
    command = [
        PYTHON,
        "-m",
        "bench.profile_intake",
        "--token",
        token,
        "--bodies",
        str(path),
        "--requests",
        str(args.profile_requests),
        "--batch-bodies",
        str(batches),
    ]
    _say("python " + " ".join(command[1:4]) + " ... (in-process profile)")
    run = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=args.max_seconds * 2,
    )
    if run.returncode != 0:
        # The HTTP numbers stand on their own: report them anyway.
        sys.stderr.write(run.stdout + run.stderr[-6000:])
        _say("bench.profile_intake failed (output above); no profile this run")
        return ""
    return run.stdout


def render_report(
    machine: dict[str, Any],
    setup_seconds: dict[str, float],
    results: dict[str, PhaseResult],
    args: argparse.Namespace,
    client: str,
) -> str:
    floor, intake, batch = results["floor"], results["intake"], results["batch"]
    share = intake.req_s / floor.req_s if floor.req_s else math.nan
    lines = [
        f"Machine: {machine['nproc']} cores, {machine['cpu']}, "
        f"PostgreSQL {machine['postgresql']}, Python {machine['python']}, "
        f"{machine['gunicorn']} ({WORKERS} sync workers), load: "
        f"{machine['wrk'] if client == 'wrk' else 'Python threads (same cores)'}",
        f"Code fingerprint: {machine['code']} (bench.intake.code_fingerprint); "
        f"setup seconds: {setup_seconds}",
        f"Server environment overrides: {dict(args.server_env) or 'none'}",
        "",
        "| phase | conc. | requests | p50 ms | p95 ms | p99 ms | max ms | req/s "
        "| orders/s | vs floor | worker CPU ms/req | cores: workers / PG / client "
        "/ other | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    hot = [results[n] for n in ("distinct sellers", "hot seller") if n in results]
    for result in (floor, intake, batch, *hot):
        ratio = result.req_s / floor.req_s if floor.req_s else math.nan
        lines.append(
            f"| {result.name} | {result.concurrency} | {result.requests} | "
            f"{result.p50_ms:.1f} | {result.p95_ms:.1f} | {result.p99_ms:.1f} | "
            f"{result.max_ms:.1f} | {result.req_s:.1f} | {result.orders_s:.0f} | "
            f"{ratio:.0%} | {result.extra.get('worker_cpu_ms_per_request', '')} | "
            f"{_cores(result)} | {_statuses(result)} |"
        )
    lines += [
        "",
        "| target | wanted | measured | met |",
        "|---|---|---|---|",
        _target_row(
            "single-order intake p99",
            f"<= {TARGET_P99_MS:.0f} ms",
            f"{intake.p99_ms:.1f} ms",
            met=intake.p99_ms <= TARGET_P99_MS,
        ),
        _target_row(
            "intake req/s vs floor",
            f">= {TARGET_FLOOR_SHARE:.0%}",
            f"{share:.0%}",
            met=share >= TARGET_FLOOR_SHARE,
        ),
        _target_row(
            "batch intake",
            f">= {TARGET_BATCH_ORDERS_S:,.0f} orders/s",
            f"{batch.orders_s:,.0f} orders/s",
            met=batch.orders_s >= TARGET_BATCH_ORDERS_S,
        ),
    ]
    if hot:
        distinct, one = hot
        hot_share = one.req_s / distinct.req_s if distinct.req_s else math.nan
        lines.append(
            _target_row(
                f"one hot seller vs {HOT_CONCURRENCY} sellers, concurrency "
                f"{HOT_CONCURRENCY}",
                f">= {TARGET_HOT_SHARE:.0%} of the req/s",
                f"{hot_share:.0%}",
                met=hot_share >= TARGET_HOT_SHARE,
            )
        )
    return "\n".join(lines)


def _cores(result: PhaseResult) -> str:
    kinds = ("workers", "postgres", "client", "other")
    return " / ".join(f"{result.extra.get(f'{k}_cores', 0):.2f}" for k in kinds)


def _statuses(result: PhaseResult) -> str:
    text = " ".join(f"{k}×{v}" for k, v in sorted(result.statuses.items()))
    return text + (f", {result.errors} errors" if result.errors else "")


def _target_row(name: str, wanted: str, measured: str, *, met: bool) -> str:
    return f"| {name} | {wanted} | {measured} | {'yes' if met else '**no**'} |"


if __name__ == "__main__":
    sys.exit(main())
