"""Aircall's short error shape, for every part of the sandbox that answers with it.

Besides ``{"message": ...}`` and the long application-error shape (``server.bad_request_body``),
Aircall answers ``{"error": "...", "troubleshoot": "..."}``: the AI endpoints' 403 for a
company that may not use them, for one. A client that reads only ``message`` finds no
words in it, and reports a bare status.
"""

from __future__ import annotations

FORBIDDEN_REASON = "company is not verified"
"""One of the 403 reasons Aircall documents ("company is not active" is the other)."""


def troubleshoot_body(error: str, troubleshoot: str) -> dict[str, str]:
    """``{"error": "Forbidden", "troubleshoot": "company is not verified"}``."""
    return {"error": error, "troubleshoot": troubleshoot}
