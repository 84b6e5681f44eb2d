"""Pre-signed storage URLs, like the S3 links Aircall puts in ``recording``.

A URL has the query of an S3 pre-signed URL (SigV4): ``X-Amz-Algorithm``,
``X-Amz-Credential``, ``X-Amz-Date`` (when it was signed), ``X-Amz-Expires``
(seconds; 600 by default, as a recorded Aircall URL), ``X-Amz-SignedHeaders``
and ``X-Amz-Signature``, an HMAC-SHA256 over the method, path, date, lifetime
and a serial number made with a per-process secret. The serial, carried in the
credential's key id, lets the control API revoke URLs already handed out (every
URL issued before a given serial is "expired") without waiting for their expiry.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import itertools
import secrets
import threading
import time
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlencode

DEFAULT_URL_TTL = 600
_KEY_PREFIX = "ASIASANDBOX"
_DATE = "%Y%m%dT%H%M%SZ"


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

    def _signature(self, path: str, signed: str, ttl: int, serial: int) -> str:
        message = f"GET\n{path}\n{signed}\n{ttl}\n{serial}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, path: str, now: int, ttl: int | None = None) -> str:
        """A full URL for ``path`` on ``base_url`` valid for ``ttl`` seconds from ``now``."""
        lifetime = self.ttl if ttl is None else ttl
        serial = self.next_serial()
        signed = time.strftime(_DATE, time.gmtime(now))
        query = urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Credential": f"{_KEY_PREFIX}{serial}/{signed[:8]}/eu-west-1/s3/aws4_request",
                "X-Amz-Date": signed,
                "X-Amz-Expires": lifetime,
                "X-Amz-SignedHeaders": "host",
                "X-Amz-Signature": self._signature(path, signed, lifetime, serial),
            }
        )
        return f"{base_url}{path}?{query}"

    def check(self, path: str, query: dict[str, str], now: int, serial_min: int = 0) -> Check:
        """Validate a request's path and query string at sandbox time ``now``.

        The signature is checked first (a tampered URL is a signature error
        even if it also expired), then the expiry and the revocation serials.
        """
        try:
            signed = query["X-Amz-Date"]
            ttl = int(query["X-Amz-Expires"])
            key_id = query["X-Amz-Credential"].split("/", 1)[0]
            serial = int(key_id.removeprefix(_KEY_PREFIX))
            signature = query["X-Amz-Signature"]
            expires = calendar.timegm(time.strptime(signed, _DATE)) + ttl
        except (KeyError, ValueError):
            return Check(Verdict.MISSING)
        expected = self._signature(path, signed, ttl, serial)
        if not hmac.compare_digest(expected, signature):
            return Check(Verdict.BAD_SIGNATURE, expires, serial)
        if expires < now or serial < max(serial_min, self.revoked_below):
            return Check(Verdict.EXPIRED, expires, serial)
        return Check(Verdict.OK, expires, serial)

    def revoke_all(self) -> None:
        """Every URL issued so far becomes expired; new ones are valid."""
        with self._lock:
            self.revoked_below = next(self._serials)
