"""Who may use a served app: a request from the served origin that carries the token.

A page of another site must not drive the app, even from the browser of someone who has the
URL open: its websocket carries ``Origin: http://evil.example``, which is refused. DNS
rebinding (evil.example made to resolve to 127.0.0.1) reaches the server under the attacker's
name, ``Host: evil.example:8000``, which is refused too. A name a browser may use here is the
address given to ``--host``, ``localhost`` when the server listens on loopback, this machine's
name when it listens on every address, or any IP address (an address cannot be rebound); the
port must be the served one.

The token is the secret part of the printed URL (``/?token=...``), as with Jupyter: the page
asks for it in its query, the page's websocket carries it in its path (``/ws/TOKEN``: the page
script appends ``?width=..`` to that URL). ``--no-token`` serves without one.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

WILDCARDS = ("0.0.0.0", "::", "")


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 bits


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is a loopback one (127.0.0.0/8, ::1)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0])).is_loopback for info in infos)


def bracketed(host: str) -> str:
    """An IPv6 address as a URL writes it: ``[::1]``."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Access:
    port: int
    token: str | None  # None: --no-token
    names: frozenset[str]  # the host names (lower case) that a browser may use for this server

    @classmethod
    def of(cls, host: str, port: int, token: str | None) -> Access:
        names = {host.strip("[]").lower()}
        if host in WILDCARDS:
            names |= {"localhost", socket.gethostname().lower()}
        elif is_loopback(host):
            names.add("localhost")
        return cls(port, token, frozenset(names - {""}))

    def _ours(self, netloc: str) -> bool:
        """``netloc`` (``host:port``) names this server."""
        try:
            parts = urlsplit(f"//{netloc}")
            port = parts.port or 80
        except ValueError:  # a port that is not a number, a bracket left open
            return False
        name = parts.hostname or ""
        return port == self.port and (name in self.names or _is_ip(name))

    def origin_refusal(self, headers: Mapping[str, str]) -> str | None:
        """Why a request from elsewhere is refused (for a 403), or None."""
        host = headers.get("Host")
        if host is None:
            return "no Host header"
        if not self._ours(host):
            return "the Host header does not name this server"
        origin = headers.get("Origin")
        if origin is not None and not self._our_origin(origin):
            return "a page of another origin may not use this server"
        return None

    def _our_origin(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
        except ValueError:  # a bracket left open
            return False
        return parts.scheme == "http" and not parts.path and self._ours(parts.netloc)

    def token_refusal(self, given: str | None) -> str | None:
        """Why a request without the right token is refused, or None."""
        if self.token is None:
            return None
        if not given:
            return "this page needs the token: open the URL that backprop-tui --serve printed"
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode()):
            return "wrong token: open the URL that backprop-tui --serve printed"
        return None
