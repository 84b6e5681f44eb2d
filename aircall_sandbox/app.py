"""The state one running sandbox shares between its HTTP servers.

The API host, the storage host and its redirect alias run in separate
servers (different loopback addresses, like Aircall's API and its storage
provider), but they serve one account: this object is what they share.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field

from .account import SandboxWorld
from .faults import Faults, RateLimiter, RequestLog
from .render import Renderer
from .signing import UrlSigner

DEFAULT_API_ID = "demo-id"
DEFAULT_API_TOKEN = "demo-token"


@dataclass
class SandboxApp:
    """World, credentials, URL signer, faults, limiter and log of one sandbox."""

    world: SandboxWorld
    api_url: str
    storage_url: str
    redirect_url: str
    api_id: str = DEFAULT_API_ID
    api_token: str = DEFAULT_API_TOKEN
    signer: UrlSigner = field(default_factory=UrlSigner)
    faults: Faults = field(default_factory=Faults)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    log: RequestLog = field(default_factory=RequestLog)
    storage_rejects_auth: bool = True
    bulk_batches: int = 0
    media_url: str | None = None
    ai_mode: str = "pro"
    """Aircall AI for the company: ``pro`` (with AI Assist Pro), ``on``, ``off`` or
    ``unverified`` (``insights.AI_MODES``)."""
    ai_not_ready: int = 404
    """How an insight that is not there (yet) is answered: 404, or 400."""

    @property
    def control_url(self) -> str:
        return f"{self.api_url}/_sandbox"

    @property
    def renderer(self) -> Renderer:
        return Renderer(self.world, self.signer, self.api_url, self.storage_url, self.media_url)

    def check_auth(self, header: str | None) -> int:
        """200 for the right Basic credentials, 401 without a header, 403 otherwise.

        Aircall answers 403 (not 401) to wrong or revoked keys; anything that
        is not Basic with the configured pair counts as wrong.
        """
        if header is None:
            return 401
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return 403
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return 403
        user, sep, password = decoded.partition(":")
        if not sep:
            return 403
        ok_user = hmac.compare_digest(user.encode(), self.api_id.encode())
        ok_password = hmac.compare_digest(password.encode(), self.api_token.encode())
        return 200 if ok_user and ok_password else 403

    def settings(self) -> dict[str, object]:
        """The tunables the control API shows in ``/_sandbox/state``."""
        return {
            "api_id": self.api_id,
            "rate_limit_per_window": self.limiter.limit,
            "rate_window_seconds": self.limiter.window,
            "rate_bucket_burst": self.limiter.burst,
            "url_ttl_seconds": self.signer.ttl,
            "clock_offset_seconds": self.world.clock_offset,
            "storage_rejects_auth": self.storage_rejects_auth,
            "ai_mode": self.ai_mode,
            "seed": self.world.seed,
        }
