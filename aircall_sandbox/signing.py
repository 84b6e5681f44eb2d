"""Pre-signed storage URLs, like the S3 links Aircall puts in ``recording``.

A URL carries its expiry time, a serial number and an HMAC-SHA256 signature
over the method, path, expiry and serial made with a per-process secret. The
serial lets the control API revoke URLs already handed out (every URL issued
before a given serial is "expired") without waiting for their expiry time.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import threading
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlencode

DEFAULT_URL_TTL = 3600


class Verdict(Enum):
    """Outcome of checking a storage URL, mapped to S3-like errors by the server."""

    OK = "ok"
    MISSING = "missing"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    expires: int = 0
    serial: int = 0


class UrlSigner:
    """Issues and checks signed storage URLs; thread-safe."""

    def __init__(self, ttl: int = DEFAULT_URL_TTL, secret: bytes | None = None) -> None:
        self.ttl = ttl
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._serials = itertools.count(1)
        self._lock = threading.Lock()
        self.revoked_below = 0

    def next_serial(self) -> int:
        with self._lock:
            return next(self._serials)

    def _signature(self, path: str, expires: int, serial: int) -> str:
        message = f"GET\n{path}\n{expires}\n{serial}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, path: str, now: int, ttl: int | None = None) -> str:
        """A full URL for ``path`` on ``base_url`` valid for ``ttl`` seconds from ``now``."""
        expires = now + (self.ttl if ttl is None else ttl)
        serial = self.next_serial()
        query = urlencode(
            {
                "expires": expires,
                "serial": serial,
                "signature": self._signature(path, expires, serial),
            }
        )
        return f"{base_url}{path}?{query}"

    def check(self, path: str, query: dict[str, str], now: int, serial_min: int = 0) -> Check:
        """Validate a request's path and query string at sandbox time ``now``.

        The signature is checked first (a tampered URL is a signature error
        even if it also expired), then the expiry and the revocation serials.
        """
        try:
            expires = int(query["expires"])
            serial = int(query["serial"])
            signature = query["signature"]
        except (KeyError, ValueError):
            return Check(Verdict.MISSING)
        expected = self._signature(path, expires, serial)
        if not hmac.compare_digest(expected, signature):
            return Check(Verdict.BAD_SIGNATURE, expires, serial)
        if expires < now or serial < max(serial_min, self.revoked_below):
            return Check(Verdict.EXPIRED, expires, serial)
        return Check(Verdict.OK, expires, serial)

    def revoke_all(self) -> None:
        """Every URL issued so far becomes expired; new ones are valid."""
        with self._lock:
            self.revoked_below = next(self._serials)
