"""The validated connector configuration.

The Airbyte UI validates the spec's JSON schema before a sync, but `python main.py`,
PyAirbyte and the API do not always do so; every rule of the spec is therefore checked
again here, and a broken config fails with a message that names the field.

The numbers of the contract (defaults, lowest and highest values) are stated once, in the
packaged `spec.json`: the parser and `ConnectorConfig`'s defaults read them from there, so
the spec the platform shows and the rules applied here cannot disagree.

The API base URL is an environment variable (`AIRCALL_API_URL`), never a config field,
so that no connection config can send the Aircall credentials to another host.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

DEFAULT_API_URL = "https://api.aircall.io"
MIB = 1_048_576
DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_TIMEOUT_SECONDS = 3600.0

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# `delivery_method.delivery_type`, in the form Airbyte's own file sources use. The
# platform reads the same field of the source config: with `use_file_transfer` it runs
# the job in file mode (a staging volume, and a destination that takes every record as a
# file), whatever the catalog says.
RECORDS_TRANSFER = "use_records_transfer"
FILE_TRANSFER = "use_file_transfer"
DELIVERY_TYPES = (RECORDS_TRANSFER, FILE_TRANSFER)
# The platform's other file-mode flag: a top-level boolean `use_file_transfer` (the older
# form of the same switch). The platform runs the job in file mode when either says so
# (`JobInputService.isDeprecatedFileTransfer`), so the connector does too.
LEGACY_FILE_TRANSFER_FIELD = "use_file_transfer"
# The strings the platform's JSON mapper (Jackson 2.x, `StdDeserializer._parseBoolean`)
# reads as a boolean once trimmed; any other string it refuses, or reads as null.
_TRUE_TEXTS = ("true", "True", "TRUE")
_FALSE_TEXTS = ("false", "False", "FALSE")


@dataclass(frozen=True)
class IntegerRule:
    """An optional integer field of the spec: taken as `default` when absent or null."""

    default: int
    minimum: int
    maximum: int | None  # None: no upper bound


def _load_specification() -> Mapping[str, Any]:
    text = resources.files(__package__).joinpath("spec.json").read_text(encoding="utf-8")
    specification: Mapping[str, Any] = json.loads(text)["connectionSpecification"]
    return specification


def _integer_rules(specification: Mapping[str, Any]) -> dict[str, IntegerRule]:
    return {
        name: IntegerRule(field["default"], field["minimum"], field.get("maximum"))
        for name, field in specification["properties"].items()
        if field.get("type") == "integer"
    }


INTEGER_RULES: Mapping[str, IntegerRule] = _integer_rules(_load_specification())


class ConfigError(AirbyteTracedException):
    """A config (or environment) value that breaks the spec: a user has to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message=message, internal_message=message, failure_type=FailureType.config_error
        )


def normalize_email(email: str) -> str:
    """Emails are matched trimmed and case-insensitive (Aircall keeps whatever was typed)."""
    return email.strip().lower()


@dataclass(frozen=True)
class ConnectorConfig:
    api_id: str
    api_token: str
    salescaling_user_emails: frozenset[str]
    import_window_days: int = INTEGER_RULES["import_window_days"].default
    first_sync_max_calls: int = INTEGER_RULES["first_sync_max_calls"].default
    max_recording_size_mb: int = INTEGER_RULES["max_recording_size_mb"].default
    requests_per_minute: int = INTEGER_RULES["requests_per_minute"].default
    lookback_minutes: int = INTEGER_RULES["lookback_minutes"].default
    insights_lookback_minutes: int = INTEGER_RULES["insights_lookback_minutes"].default
    api_url: str = DEFAULT_API_URL
    # The emails as the admin typed them (trimmed), in order, for messages: matching uses
    # the normalized set above, but a message should name what the admin will look for.
    salescaling_user_emails_as_typed: tuple[str, ...] = ()
    file_transfer: bool = False

    @property
    def recording_size_limit(self) -> int:
        """The largest recording, in bytes, that is imported (exactly this size is kept)."""
        return self.max_recording_size_mb * MIB

    @property
    def import_window_seconds(self) -> int:
        return self.import_window_days * 86_400

    @property
    def lookback_seconds(self) -> int:
        return self.lookback_minutes * 60

    @property
    def insights_lookback_seconds(self) -> int:
        return self.insights_lookback_minutes * 60

    def __repr__(self) -> str:  # never show the token, even in a debugger or a traceback
        return f"ConnectorConfig(api_id={self.api_id!r}, api_token='****', ...)"


def _integer(raw: Mapping[str, Any], field: str) -> int:
    rule = INTEGER_RULES[field]
    low, high = rule.minimum, rule.maximum
    value = raw.get(field)
    if value is None:
        return rule.default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            f"Config field '{field}' must be a whole number, got {type(value).__name__}."
        )
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"Config field '{field}' must be {bounds}, got {value}.")
    return value


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"Config field '{field}' is required and must be a non-empty string.")
    return value.strip()


def _emails(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """The emails trimmed, as typed, first spelling of each address kept."""
    field = "salescaling_user_emails"
    value = raw.get(field)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"Config field '{field}' must be a list of at least one email.")
    emails: dict[str, str] = {}
    for position, item in enumerate(value):
        if not isinstance(item, str) or not _EMAIL.match(item.strip()):
            raise ConfigError(
                f"Config field '{field}' item {position} is not an email address: {item!r}."
            )
        emails.setdefault(normalize_email(item), item.strip())
    return tuple(emails.values())


def _file_transfer(raw: Mapping[str, Any]) -> bool:
    """True for "Copy Raw Files". Absent or null means the default, records only."""
    value = raw.get("delivery_method")
    if value is None:
        return False
    if not isinstance(value, Mapping):
        raise ConfigError(
            "Config field 'delivery_method' must be an object such as "
            f'{{"delivery_type": "{RECORDS_TRANSFER}"}}, got {type(value).__name__}.'
        )
    kind = value.get("delivery_type", RECORDS_TRANSFER)
    if kind not in DELIVERY_TYPES:
        raise ConfigError(
            "Config field 'delivery_method.delivery_type' must be one of "
            f"{', '.join(DELIVERY_TYPES)}, got {kind!r}."
        )
    return bool(kind == FILE_TRANSFER)


def _legacy_file_transfer(raw: Mapping[str, Any]) -> bool:
    """The top-level `use_file_transfer`, read as the platform reads it, so that the two
    never disagree on whether a job is in file mode (a disagreement would either fail
    every record at a file destination or write files nothing collects).

    The platform maps the config onto a `Boolean` with Jackson's default coercions:
    true/false; an integer (0 is false, any other true); the strings true/True/TRUE and
    false/False/FALSE, trimmed. Everything else it refuses (a float, an object, an array,
    another string), or reads as null ("", blank, "null"), which its `||` cannot take:
    the connector refuses all of those, naming the field. Absent or JSON null: not set,
    like every optional field here."""
    field = LEGACY_FILE_TRANSFER_FIELD
    value = raw.get(field)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip() in _TRUE_TEXTS + _FALSE_TEXTS:
        return value.strip() in _TRUE_TEXTS
    shown = repr(value) if isinstance(value, str) else type(value).__name__
    raise ConfigError(f"Config field '{field}' must be true or false, got {shown}.")


def api_url_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """`AIRCALL_API_URL`, or the real API; plain http only towards a loopback host."""
    env = os.environ if environ is None else environ
    url = (env.get("AIRCALL_API_URL") or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    raise ConfigError(
        "AIRCALL_API_URL must be an https:// URL (plain http:// is accepted only for a "
        f"loopback host such as 127.0.0.1 or localhost), got {url!r}."
    )


def request_timeout(environ: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(connect, read) seconds for every HTTP request; `AIRCALL_TIMEOUT_SECONDS` sets the
    read timeout (default 60). A value that is not a number of seconds above 0 (`abc`,
    `nan`, `-1`, `inf`) is a config error naming the variable, not a bare ValueError."""
    env = os.environ if environ is None else environ
    name = "AIRCALL_TIMEOUT_SECONDS"
    text = env.get(name)
    if text is None or not text.strip():
        read = DEFAULT_TIMEOUT_SECONDS
    else:
        try:
            read = float(text)
        except ValueError:
            read = math.nan
        if not math.isfinite(read) or not 0 < read <= MAX_TIMEOUT_SECONDS:
            raise ConfigError(
                f"{name} must be a number of seconds above 0 and at most "
                f"{MAX_TIMEOUT_SECONDS:.0f}, got {text!r}."
            )
    return (min(10.0, read), read)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_config(
    raw: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> ConnectorConfig:
    """Validate a raw Airbyte config; unknown extra fields are ignored."""
    if not isinstance(raw, Mapping):
        raise ConfigError("The config must be a JSON object.")
    emails = _emails(raw)
    return ConnectorConfig(
        api_id=_text(raw, "api_id"),
        api_token=_text(raw, "api_token"),
        salescaling_user_emails=frozenset(normalize_email(email) for email in emails),
        import_window_days=_integer(raw, "import_window_days"),
        first_sync_max_calls=_integer(raw, "first_sync_max_calls"),
        max_recording_size_mb=_integer(raw, "max_recording_size_mb"),
        requests_per_minute=_integer(raw, "requests_per_minute"),
        lookback_minutes=_integer(raw, "lookback_minutes"),
        insights_lookback_minutes=_integer(raw, "insights_lookback_minutes"),
        api_url=api_url_from_environment(environ),
        salescaling_user_emails_as_typed=emails,
        # Both flags are read (and a bad one refused); either turns file mode on, as on
        # the platform: `use_file_transfer: true` wins over a delivery_method that says
        # records, and a delivery_method that says files wins over `false`.
        file_transfer=_file_transfer(raw) | _legacy_file_transfer(raw),
    )
