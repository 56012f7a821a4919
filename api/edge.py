"""What every response passes on its way out, and every request on its way in, at the HTTP edge.

**Host allow-list.** A web page on another site can point its own name at 127.0.0.1 (DNS rebinding) and
then read the API as if it were its own origin: the browser sends that name in ``Host``. A request whose
``Host`` is not an IP address, a loopback name, this machine's own name (and its ``.local``) or a name in
``[api] allowed_hosts`` (nor the bind address itself when that is a name) is refused with 400 before any
handler runs. An IP address is safe to answer:
a page can only make the browser send it from that very origin.

**Security headers.** ``X-Content-Type-Options: nosniff`` (a JSON or CSV answer is never run as a
script), and a Content-Security-Policy whose ``frame-ancestors 'none'`` (with ``X-Frame-Options: DENY``
for older browsers) keeps the dashboard out of another site's frame: the dashboard loads only its own
script, style and icon, and talks only to its own origin.

**Bind warning.** :func:`bind_warning` says when the API listens beyond loopback without TLS in front: the
tokens of every request would cross the network in clear.
"""

from __future__ import annotations

import ipaddress
import json
import socket

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.config import ApiConfig
from monitor.config.services import loopback_only

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})

# The dashboard and the JSON: nothing from elsewhere, no inline script or style, no frame around it.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port, brackets or trailing dot, in lower case."""
    text = header.strip().lower()
    if text.startswith("["):  # [::1]:8000
        return text[1 : text.find("]")] if "]" in text else text
    if text.count(":") == 1:
        text = text.partition(":")[0]
    return text.rstrip(".")


def own_names() -> set[str]:
    """This machine's own name and its mDNS name (``vialguard-pi``, ``vialguard-pi.local``): a page
    elsewhere cannot make a browser send them, as it can its own name pointed at this address."""
    name = host_name(socket.gethostname())
    return {name, f"{name}.local"} if name else set()


def allowed_names(api: ApiConfig) -> frozenset[str]:
    """The names, besides IP addresses, that requests may carry in ``Host``."""
    names = set(LOOPBACK_NAMES) | own_names() | {host_name(n) for n in api.allowed_hosts}
    if api.host and not _is_ip(api.host):  # bound to a name: that name is this server's
        names.add(host_name(api.host))
    return frozenset(names)


def host_allowed(header: str | None, names: frozenset[str]) -> bool:
    if header is None:  # HTTP/1.0 without Host: no browser sends that, so no rebinding page either
        return True
    name = host_name(header)
    return _is_ip(name) or name in names


def bind_warning(api: ApiConfig) -> str | None:
    """Why binding to ``api.host`` needs TLS in front, or None (loopback, or TLS said to be there)."""
    if loopback_only(api.host) or api.behind_tls_proxy:
        return None
    return (
        f"the API listens on {api.host}:{api.port}, beyond loopback, without TLS in front: API tokens and"
        " acknowledgements cross the network in clear. Put a TLS-terminating proxy in front and set"
        " [api] behind_tls_proxy = true, or bind to 127.0.0.1"
    )


class Edge:
    """ASGI wrapper: refuses unknown ``Host`` names and adds the security headers to every response."""

    def __init__(self, app: ASGIApp, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if not host_allowed(host, self.names):
            await _refuse(send, host or "")
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                given = {k.lower() for k, _ in headers}
                # A page that states its own policy keeps it (/docs and /redoc, served from the package
                # with what their viewers need): a second policy would be enforced beside it.
                added = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", PAGE_POLICY.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                headers += [(k, v) for k, v in added if k not in given]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Send, host: str) -> None:
    body = json.dumps(
        {
            "error": "unknown host",
            "message": f"Host {host!r} is not a name this server answers to: use its IP address or a loopback"
            " name, or add the name to [api] allowed_hosts",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
