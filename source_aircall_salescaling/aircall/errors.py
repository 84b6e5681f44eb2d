"""How a failed Aircall request reaches the callers: typed failures, each with a message
an Aircall admin can act on (the status and what it means, or the network cause in
words, never a Python class name), and the status mapping the CDK's `HttpClient` applies.

401 and 403 both mean "these credentials are not accepted" (Aircall answers 403 to a
revoked token), so both fail as a config error that names the API ID and token and
where keys are made, quoting Aircall's own words (a 403 may give its reason: "company is
not verified").

Aircall's error bodies come in several shapes: `{"message"}`, `{"error", "troubleshoot"}`,
and `{"error", "message", "errors", "troubleshoot", ...}` for application errors, where
`message` and `troubleshoot` are codes (`BAD_REQUEST`) and `errors` holds the text.
`body_text` reads them all, so that whichever is there is quoted.
"""

from __future__ import annotations

import http
import socket
import ssl
from collections.abc import Mapping
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorResolution, ResponseAction
from airbyte_cdk.sources.streams.http.error_handlers.default_error_mapping import (
    DEFAULT_ERROR_MAPPING,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import NameResolutionError

KEYS_HELP = (
    "Check the API ID and API token in the connector settings. Keys are made by an Aircall "
    "Administrator in the Aircall Dashboard under Integrations & API -> API Keys; the token "
    "is shown only once, so generate a new key if it was lost or revoked."
)

STATUS_HELP = "try again later, or check https://status.aircall.io"


class AircallError(AirbyteTracedException):
    """A request to the Aircall API failed for good; `message` is for the admin."""

    def __init__(self, message: str, failure_type: FailureType) -> None:
        super().__init__(message=message, internal_message=message, failure_type=failure_type)


class AircallKeysRejected(AircallError):
    """401 or 403: the API ID and token are not accepted; `reason` is Aircall's text."""

    def __init__(self, status: int, reason: str | None = None) -> None:
        super().__init__(rejected_keys_message(status, reason), FailureType.config_error)
        self.status = status
        self.reason = reason


class AircallHttpError(AircallError):
    """Aircall answered, with an error status (after the retries, for 5xx and 429)."""

    def __init__(self, status: int, message: str, failure_type: FailureType) -> None:
        super().__init__(message, failure_type)
        self.status = status


class AircallUnreachable(AircallError):
    """No answer at all: `cause` says why in words (connection refused, host not found...)."""

    def __init__(self, api_url: str, cause: str) -> None:
        super().__init__(
            f"The Aircall API at {api_url} could not be reached: {cause}. Check the network, "
            "proxy or firewall, and https://status.aircall.io for outages.",
            FailureType.transient_error,
        )
        self.cause = cause


def rejected_keys_message(status: int, reason: str | None = None) -> str:
    said = f': "{reason}"' if reason else ""
    return f"Aircall rejected the API ID and API token (HTTP {status}{said}). {KEYS_HELP}"


def status_words(status: int) -> str:
    """`503 Service Unavailable`: the code and its standard reason phrase."""
    phrase = http_phrase(status)
    return f"{status} {phrase}" if phrase else str(status)


def http_error_message(status: int, body: Any = None, path: str = "") -> str:
    """What an admin reads when Aircall answered `status` (for good) to `path`."""
    if status == 429:
        return (
            f"Aircall answered {status_words(status)} until the retries ran out: the company's "
            "rate limit, shared by every integration of the company, stayed used up. Lower "
            f"requests_per_minute, or {STATUS_HELP}."
        )
    if status == 200:
        return f"Aircall answered with a body that is not JSON; {STATUS_HELP}."
    detail = body_text(body, besides=http_phrase(status))
    if status >= 500:
        said = f' ("{detail}")' if detail else ""
        return f"Aircall answered {status_words(status)}{said}; {STATUS_HELP}."
    where = f" for {path}" if path else ""
    if detail is not None:
        return f'Aircall answered {status_words(status)}{where}: "{detail}"'
    return f"Aircall answered {status_words(status)}{where}."


ERROR_TEXT_KEYS = ("error", "message", "errors", "troubleshoot")
"""Where Aircall puts an error's words, in the order they are quoted."""
MAX_ERROR_TEXT = 300


def body_text(body: Any, *, besides: str | None = None) -> str | None:
    """Aircall's words in an error body: the texts of `error`, `message`, `errors` and
    `troubleshoot`, whichever are there, each once (`BAD_REQUEST` is the same words as
    "Bad Request"), as `error: the others; joined` and cut to 300 characters; None when
    the body has none. `errors` may also be a list or an object of texts. A text that
    only repeats `besides` (the status phrase the caller already says) is left out:
    `{"message": "Forbidden"}` adds nothing to "403 Forbidden"."""
    found: list[tuple[str, str]] = []
    seen = {_folded(besides)} if besides else set()
    for key in ERROR_TEXT_KEYS:
        value = body.get(key) if isinstance(body, Mapping) else None
        for text in _texts(value):
            if _folded(text) not in seen:
                seen.add(_folded(text))
                found.append((key, text))
    if not found:
        return None
    texts = [text for _, text in found]
    if found[0][0] == "error" and len(found) > 1:  # a heading: "Forbidden: company is ..."
        joined = f"{texts[0]}: {'; '.join(texts[1:])}"
    else:
        joined = "; ".join(texts)
    return joined[:MAX_ERROR_TEXT]


def http_phrase(status: int) -> str | None:
    """`Forbidden` for 403: the standard reason phrase, or None for an unknown status."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return None


def _texts(value: Any) -> list[str]:
    """The non-empty texts of one key: a string, or the strings of a list or an object
    (`{"email": ["is invalid"]}` reads `email is invalid`)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, Mapping):
        found: list[str] = []
        for name, inner in value.items():
            found.extend(f"{name} {text}" for text in _texts(inner))
        return found
    return []


def _folded(text: str) -> str:
    return " ".join(text.replace("_", " ").lower().split())


def network_cause(error: BaseException) -> str:
    """The cause of a failed connection, in words, read from the exception types of its
    chain (requests wraps urllib3, which wraps the socket error): never from message text."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    found: list[BaseException] = []
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        links = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        links.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(link for link in links if isinstance(link, BaseException))
    kinds: list[tuple[tuple[type[BaseException], ...], str]] = [
        ((NameResolutionError, socket.gaierror), "host not found"),
        ((ConnectionRefusedError,), "connection refused"),
        ((requests.Timeout, TimeoutError, socket.timeout), "timed out"),
        ((ssl.SSLError,), "the TLS (https) handshake failed"),
        ((ConnectionResetError,), "the connection was reset"),
    ]
    for types, words in kinds:
        if any(isinstance(link, types) for link in found):
            return words
    if any(isinstance(link, requests.exceptions.ChunkedEncodingError) for link in found):
        return "the answer was cut short"
    return "the connection failed"


def _rejected(status: int) -> ErrorResolution:
    return ErrorResolution(
        response_action=ResponseAction.FAIL,
        failure_type=FailureType.config_error,
        error_message=rejected_keys_message(status),
    )


AIRCALL_ERROR_MAPPING: Mapping[int | str | type[Exception], ErrorResolution] = {
    **DEFAULT_ERROR_MAPPING,
    401: _rejected(401),
    403: _rejected(403),
    429: ErrorResolution(
        response_action=ResponseAction.RATE_LIMITED,
        failure_type=FailureType.transient_error,
        error_message="Aircall's rate limit was reached (it is shared by every integration of "
        "the company); waiting for it to reset.",
    ),
}


# What a request to Aircall fails with once the CDK's retries are spent (a typed failure
# of this module, or the CDK's own), a network error it let through, or an answer that
# cannot be read (`PayloadError` and orjson's errors are ValueErrors). Callers that can
# carry on without one answer catch these, and only these: anything else is a bug.
READ_FAILURES: tuple[type[Exception], ...] = (
    AirbyteTracedException,
    requests.RequestException,
    ValueError,
)


class CallUnavailable(Exception):
    """A call could not be fetched by id now (not a 404): it may still exist."""


class InsightsForbidden(Exception):
    """Aircall answered 403 to an Aircall AI resource: AI is not available to the company
    (the add-on is off, or the company is not verified). `message` is Aircall's."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
