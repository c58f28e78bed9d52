"""Sending a webhook to a receiver on the public internet, and nowhere else.

A receiver URL names a host the client controls, so it is checked twice: when
it is saved (`webhook_url_check`) and again on every send, after DNS
resolution, and the connection then goes to the very address that was checked
(a host that resolves to a public address once and to 127.0.0.1 the next time
cannot pass). Loopback, private, link-local (cloud metadata), multicast,
reserved and unspecified addresses are refused unless the host is listed in
WEBHOOK_ALLOWED_HOSTS (for receivers on premises).

The send is one POST with a deadline for the whole exchange, not per read: a
receiver that trickles a byte every few seconds is cut off at the deadline.
Redirects are not followed (a 3xx is a failed attempt like any non-2xx).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings

MAX_STATUS_LINE = 1024


class WebhookUrlRefused(ValueError):
    """The URL is malformed or points at an address we never send to."""


def webhook_url_check(url: str) -> list[tuple[str, int]]:
    """The (address, port) pairs to connect to, or WebhookUrlRefused."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WebhookUrlRefused("must be an http or https URL with a host")
    if parts.username or parts.password:
        raise WebhookUrlRefused("must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlRefused("has an invalid port") from None
    if not 0 < port < 65536:
        raise WebhookUrlRefused("has an invalid port")
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookUrlRefused(f"host {host} does not resolve") from None
    addresses = [(str(info[4][0]), port) for info in infos]
    if webhook_host_allowed(host):
        return addresses
    for address, _port in addresses:
        if not _public(address):
            raise WebhookUrlRefused(f"host {host} resolves to a non-public address")
    return addresses


def webhook_host_allowed(host: str) -> bool:
    """Listed in WEBHOOK_ALLOWED_HOSTS: any address it resolves to is accepted."""
    return host.lower() in {h.lower() for h in settings.WEBHOOK_ALLOWED_HOSTS}


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_post(
    url: str, body: bytes, headers: dict[str, str], *, deadline_seconds: float
) -> int:
    """POST `body` to `url`; return the HTTP status. Raises OSError, ValueError
    (WebhookUrlRefused) or TimeoutError when the deadline passes."""
    deadline = time.monotonic() + deadline_seconds
    parts = urlsplit(url)
    address, port = webhook_url_check(url)[0]
    sock = socket.create_connection((address, port), timeout=_left(deadline))
    try:
        if parts.scheme == "https":
            context = ssl.create_default_context()
            sock.settimeout(_left(deadline))
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host = parts.netloc.rpartition("@")[2]
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        request = "\r\n".join(lines).encode("latin-1") + body
        sock.settimeout(_left(deadline))
        sock.sendall(request)
        return _status(sock, deadline)
    finally:
        sock.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("webhook deadline passed")
    return left


def _status(sock: socket.socket, deadline: float) -> int:
    """Read just the status line (`HTTP/1.1 204 No Content`)."""
    received = b""
    while b"\r\n" not in received:
        sock.settimeout(_left(deadline))
        chunk = sock.recv(256)
        if not chunk:
            break
        received += chunk
        if len(received) > MAX_STATUS_LINE:
            break
    line = received.split(b"\r\n", 1)[0].decode("latin-1")
    fields = line.split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        raise ValueError(f"not an HTTP response: {line[:80]!r}")
    return int(fields[1])
