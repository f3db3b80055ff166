"""Posting to webhook receivers: the address check (WEBHOOK_ALLOW_PRIVATE) and one kept-alive
connection per receiver that connects only to the address it checked (no DNS rebinding).

With WEBHOOK_ALLOW_PRIVATE false the host is resolved once per connection, every address it
resolves to must be public, and the socket is opened to the first of those very addresses;
the request still names the host (Host header; TLS SNI and certificate check for https), so a
name that resolves to a public address for the check and to a private one a moment later
cannot steer the POST inside the network.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

ERROR_BODY_BYTES = 200  # of a refusing receiver's answer, kept in `error`


def addresses_checked(host: str | None, port: int | None) -> tuple[list[str], str]:
    """(the addresses `host` resolves to, why it may not receive webhooks or ""). Without
    WEBHOOK_ALLOW_PRIVATE, an address that is not public (loopback, private, link-local,
    reserved, multicast) refuses the host. A name that does not resolve gives no addresses and
    no refusal (the send reports it)."""
    try:
        infos = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return [], ""
    found = list(dict.fromkeys(info[4][0] for info in infos))
    for address in found:
        if not address_is_public(address):
            return found, (
                f"{host} is a non-public address ({address}): refused while "
                "WEBHOOK_ALLOW_PRIVATE is false."
            )
    return found, ""


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def address_refusal(host: str | None, port: int | None) -> str:
    """Why `host` may not receive webhooks ("" if it may): see `addresses_checked`."""
    if settings.WEBHOOK_ALLOW_PRIVATE or not host:
        return ""
    return addresses_checked(host, port)[1]


class Refused(OSError):
    """The receiver's host resolved to an address WEBHOOK_ALLOW_PRIVATE forbids."""


def _pinned(connection: http.client.HTTPConnection) -> http.client.HTTPConnection:
    """Make `connection` resolve its host once per connect, check the addresses, and open the
    socket to a checked one (the Host header and SNI still name the host)."""

    def create_connection(address, timeout=None, source_address=None):
        host, port = address
        found, refusal = addresses_checked(host, port)
        if refusal:
            raise Refused(refusal)
        if not found:
            raise OSError(f"{host} does not resolve.")
        return socket.create_connection((found[0], port), timeout, source_address)

    connection._create_connection = create_connection  # what HTTPConnection.connect calls
    return connection


class Poster:
    """POSTs to one webhook URL, over one connection kept alive between deliveries (when the
    receiver allows it). Redirects are never followed."""

    def __init__(self, url: str, *, timeout: float):
        self.url, self.timeout, self.client = url, timeout, None
        self.error = ""
        try:
            parts = urlsplit(url)
            self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection_class = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            self.client = connection_class(parts.hostname, parts.port, timeout=timeout)
        except ValueError as exc:
            self.error = f"Could not deliver: {exc}"
            return
        if not settings.WEBHOOK_ALLOW_PRIVATE:
            _pinned(self.client)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        """(status or None, error message or "")."""
        if self.client is None:
            return None, self.error
        reused = self.client.sock is not None
        try:
            return self._post(body, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                self.client.close()
                return None, "The receiver closed the connection without answering."
        self.client.close()  # a kept-alive connection the receiver had closed: once more, anew
        try:
            return self._post(body, headers)
        except http.client.RemoteDisconnected:
            self.client.close()
            return None, "The receiver closed the connection without answering."

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        try:
            self.client.request("POST", self.target, body=body, headers=headers)
            response = self.client.getresponse()
            answer = response.read(ERROR_BODY_BYTES)
            if not response.isclosed():
                self.client.close()  # a long answer is not read to its end
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            raise
        except Refused as exc:
            self.client.close()
            return None, f"Not sent: {exc}"
        except TimeoutError:
            self.client.close()
            return None, f"No answer within {settings.WEBHOOK_TIMEOUT:g} seconds."
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.client.close()
            return None, f"Could not deliver: {type(exc).__name__}: {exc}"
        status = response.status
        if 200 <= status < 300:
            return status, ""
        if 300 <= status < 400:
            where = response.getheader("Location", "")
            return status, f"HTTP {status}: redirects are not followed (Location: {where[:200]})."
        text = answer.decode("utf-8", "replace").strip()
        return status, f"HTTP {status}" + (f": {text}" if text else ".")


def http_post(url: str, body: bytes, headers: dict[str, str], *, timeout: float):
    """POST once on a connection of its own; (status or None, error message or "")."""
    poster = Poster(url, timeout=timeout)
    try:
        return poster.post(body, headers)
    finally:
        poster.close()
