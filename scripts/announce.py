"""Print where the product answers, once it does (the last lines of `make run`).

Run by honcho beside web, worker and beat: their start-up banners would
otherwise bury the URL and the demo accounts. It waits for the web process to
answer, prints, and then idles until honcho stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

# honcho gives each process its own PORT; the Makefile passes the web one.
PORT = os.environ.get("WEB_PORT", "8000")
URL = f"http://127.0.0.1:{PORT}/"


def _answers() -> bool:
    try:
        with urllib.request.urlopen(URL + "login/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deadline = time.monotonic() + 300
    while not _answers():
        if time.monotonic() > deadline:
            print(f"riskreview did not answer on {URL} within 5 minutes", flush=True)
            break
        time.sleep(1)
    else:
        accounts = subprocess.run(
            [sys.executable, "manage.py", "create_demo_users"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        line = "=" * 60
        print(f"\n{line}\nriskreview is up: open {URL}", flush=True)
        print(accounts.rstrip(), flush=True)
        print(f"API docs: {URL}api/v1/docs/  ·  stop with Ctrl-C\n{line}", flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
