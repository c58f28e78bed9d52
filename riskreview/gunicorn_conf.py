"""gunicorn settings (`--config python:riskreview.gunicorn_conf`).

The access log names the method, the path with emails and IP addresses masked,
the status, the size and the time: no query string (searches hold emails), no
client address, no referrer or user agent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from riskreview.security import redact

accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
timeout = 60


# Atoms never logged (client address, query, referrer, user agent, user) and
# atoms logged with emails and IP addresses masked (request line, path).
HIDDEN_ATOMS = ("h", "q", "f", "a", "u", "l")
REDACTED_ATOMS = ("r", "U")


class RedactingLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in HIDDEN_ATOMS:
            atoms[key] = "-"
        for key in REDACTED_ATOMS:
            atoms[key] = redact(unquote(str(atoms.get(key, ""))))
        return atoms


logger_class = RedactingLogger
