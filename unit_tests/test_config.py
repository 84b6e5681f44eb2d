"""The config rules of the spec (the spec, and docs/aircall-salescaling.md, "Step 4: Set up the source") and AIRCALL_API_URL."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Any

import pytest

from source_aircall_salescaling.config import (
    DEFAULT_API_URL,
    ConfigError,
    ConnectorConfig,
    api_url_from_environment,
    parse_config,
)

NO_ENV: dict[str, str] = {}


def raw_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "api_id": "the-api-id",
        "api_token": "the-api-token",
        "salescaling_user_emails": ["ana@example.com"],
    }
    config.update(overrides)
    return config


def without(field: str) -> dict[str, Any]:
    config = raw_config()
    del config[field]
    return config


# The contract's numbers: read from the packaged spec, the one place that states them ----


def spec_integer_fields() -> dict[str, dict[str, Any]]:
    text = resources.files("source_aircall_salescaling").joinpath("spec.json").read_text()
    properties: dict[str, dict[str, Any]] = json.loads(text)["connectionSpecification"][
        "properties"
    ]
    return {name: field for name, field in properties.items() if field["type"] == "integer"}


SPEC_INTEGERS = spec_integer_fields()
DEFAULTS = [(name, field["default"]) for name, field in SPEC_INTEGERS.items()]
BOUNDED = [
    # field, lowest accepted, highest accepted (None: no upper bound)
    (name, field["minimum"], field.get("maximum"))
    for name, field in SPEC_INTEGERS.items()
]


def test_the_spec_states_every_integer_field_of_the_config() -> None:
    integers = {field.name for field in dataclasses.fields(ConnectorConfig) if field.type == "int"}

    assert integers == set(SPEC_INTEGERS)


@pytest.mark.parametrize(("field", "default"), DEFAULTS)
def test_connector_config_defaults_are_the_spec_defaults(field: str, default: int) -> None:
    config = ConnectorConfig(api_id="i", api_token="t", salescaling_user_emails=frozenset())

    assert getattr(config, field) == default


# Defaults ------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "default"), DEFAULTS)
def test_optional_integer_field_takes_its_default_when_absent(field: str, default: int) -> None:
    config = parse_config(raw_config(), environ=NO_ENV)

    assert getattr(config, field) == default


@pytest.mark.parametrize(("field", "default"), DEFAULTS)
def test_optional_integer_field_set_to_null_takes_its_default(field: str, default: int) -> None:
    config = parse_config(raw_config(**{field: None}), environ=NO_ENV)

    assert getattr(config, field) == default


def test_api_url_defaults_to_the_real_aircall_api() -> None:
    config = parse_config(raw_config(), environ=NO_ENV)

    assert config.api_url == "https://api.aircall.io"


# Bounds --------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "low", "high"), BOUNDED)
def test_integer_field_accepts_its_lowest_allowed_value(field: str, low: int, high: int) -> None:
    config = parse_config(raw_config(**{field: low}), environ=NO_ENV)

    assert getattr(config, field) == low


@pytest.mark.parametrize(("field", "low", "high"), BOUNDED)
def test_integer_field_below_its_lowest_value_names_the_field(
    field: str, low: int, high: int
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(**{field: low - 1}), environ=NO_ENV)

    assert field in raised.value.message


@pytest.mark.parametrize(
    ("field", "high"), [(field, high) for field, _, high in BOUNDED if high is not None]
)
def test_integer_field_accepts_its_highest_allowed_value(field: str, high: int) -> None:
    config = parse_config(raw_config(**{field: high}), environ=NO_ENV)

    assert getattr(config, field) == high


@pytest.mark.parametrize(
    ("field", "high"), [(field, high) for field, _, high in BOUNDED if high is not None]
)
def test_integer_field_above_its_highest_value_names_the_field(field: str, high: int) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(**{field: high + 1}), environ=NO_ENV)

    assert field in raised.value.message


@pytest.mark.parametrize("field", [field for field, _, high in BOUNDED if high is None])
def test_integer_field_without_upper_bound_accepts_a_large_value(field: str) -> None:
    config = parse_config(raw_config(**{field: 1_000_000}), environ=NO_ENV)

    assert getattr(config, field) == 1_000_000


def test_recording_size_limit_is_the_configured_mebibytes_in_bytes() -> None:
    config = parse_config(raw_config(max_recording_size_mb=3), environ=NO_ENV)

    assert config.recording_size_limit == 3 * 1024 * 1024


# Types ---------------------------------------------------------------------------------

INTEGER_FIELDS = [field for field, _, _ in BOUNDED]


@pytest.mark.parametrize("field", INTEGER_FIELDS)
@pytest.mark.parametrize("value", [True, False], ids=["true", "false"])
def test_boolean_for_an_integer_field_is_refused_naming_the_field(field: str, value: bool) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(**{field: value}), environ=NO_ENV)

    assert field in raised.value.message


@pytest.mark.parametrize("field", INTEGER_FIELDS)
@pytest.mark.parametrize("value", ["14", 14.0, 2.5, [14], {"days": 14}])
def test_non_integer_for_an_integer_field_is_refused_naming_the_field(
    field: str, value: Any
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(**{field: value}), environ=NO_ENV)

    assert field in raised.value.message


@pytest.mark.parametrize("field", ["api_id", "api_token"])
def test_missing_credential_field_is_refused_naming_the_field(field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(without(field), environ=NO_ENV)

    assert field in raised.value.message


@pytest.mark.parametrize("field", ["api_id", "api_token"])
@pytest.mark.parametrize("value", ["", "   ", 12345, None, ["id"]])
def test_empty_or_non_string_credential_is_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(**{field: value}), environ=NO_ENV)

    assert field in raised.value.message


def test_config_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ConfigError):
        parse_config(["api_id", "api_token"], environ=NO_ENV)  # type: ignore[arg-type]


# Emails --------------------------------------------------------------------------------


def test_missing_email_list_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(without("salescaling_user_emails"), environ=NO_ENV)

    assert "salescaling_user_emails" in raised.value.message


@pytest.mark.parametrize(
    "value",
    [[], "ana@example.com", None, {"ana@example.com": True}],
    ids=["empty-list", "bare-string", "null", "object"],
)
def test_email_list_that_is_empty_or_not_a_list_is_refused_naming_the_field(value: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(salescaling_user_emails=value), environ=NO_ENV)

    assert "salescaling_user_emails" in raised.value.message


@pytest.mark.parametrize(
    "item",
    ["not-an-email", "", "   ", "ana@", "@example.com", "ana@example", "a b@example.com", 7, None],
)
def test_email_list_with_an_invalid_entry_is_refused_naming_the_field(item: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(salescaling_user_emails=["ok@example.com", item]), environ=NO_ENV)

    assert "salescaling_user_emails" in raised.value.message


def test_emails_are_trimmed_and_lowercased() -> None:
    config = parse_config(
        raw_config(salescaling_user_emails=["  Ana.Lopez@Example.COM ", "BOB@example.com"]),
        environ=NO_ENV,
    )

    assert config.salescaling_user_emails == frozenset({"ana.lopez@example.com", "bob@example.com"})


def test_emails_differing_only_in_case_and_spaces_are_one_user() -> None:
    config = parse_config(
        raw_config(salescaling_user_emails=["ana@example.com", " ANA@example.com"]),
        environ=NO_ENV,
    )

    assert config.salescaling_user_emails == frozenset({"ana@example.com"})


# Extra fields --------------------------------------------------------------------------


def test_unknown_extra_fields_are_ignored() -> None:
    plain = parse_config(raw_config(), environ=NO_ENV)

    with_extras = parse_config(
        raw_config(api_url="https://evil.example", something_else={"x": 1}), environ=NO_ENV
    )

    assert with_extras == plain


def test_api_url_in_the_config_does_not_change_the_api_host() -> None:
    config = parse_config(raw_config(api_url="https://evil.example"), environ=NO_ENV)

    assert config.api_url == DEFAULT_API_URL


# AIRCALL_API_URL -----------------------------------------------------------------------


def test_empty_aircall_api_url_means_the_default() -> None:
    assert api_url_from_environment({"AIRCALL_API_URL": ""}) == DEFAULT_API_URL


def test_https_aircall_api_url_is_accepted() -> None:
    url = api_url_from_environment({"AIRCALL_API_URL": "https://proxy.example.com:8443"})

    assert url == "https://proxy.example.com:8443"


def test_trailing_slash_of_aircall_api_url_is_removed() -> None:
    assert api_url_from_environment({"AIRCALL_API_URL": "https://a.example/"}) == (
        "https://a.example"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.5.5.5",
        "http://localhost:9000",
        "http://[::1]:8080",
    ],
)
def test_plain_http_aircall_api_url_is_accepted_for_a_loopback_host(url: str) -> None:
    assert api_url_from_environment({"AIRCALL_API_URL": url}) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.aircall.io",
        "http://10.0.0.5:8000",
        "http://128.0.0.1",
        "http://localhost.evil.example",
        "http://127.0.0.1.evil.example",
        "http://127.0.0.1@evil.example",
        "http://[::2]",
    ],
)
def test_plain_http_aircall_api_url_to_a_non_loopback_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        api_url_from_environment({"AIRCALL_API_URL": url})

    assert "AIRCALL_API_URL" in raised.value.message


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "api.aircall.io", "https://", "file:///x"])
def test_aircall_api_url_without_scheme_and_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        api_url_from_environment({"AIRCALL_API_URL": url})


def test_parse_config_refuses_an_insecure_aircall_api_url() -> None:
    with pytest.raises(ConfigError):
        parse_config(raw_config(), environ={"AIRCALL_API_URL": "http://api.example.com"})


def test_parse_config_reads_aircall_api_url_from_the_given_environment() -> None:
    config = parse_config(raw_config(), environ={"AIRCALL_API_URL": "http://127.0.0.1:9"})

    assert config.api_url == "http://127.0.0.1:9"


# Secrets -------------------------------------------------------------------------------


def test_repr_of_the_config_never_shows_the_token() -> None:
    config = parse_config(raw_config(api_token="s3cr3t-T0KEN-value"), environ=NO_ENV)

    assert "s3cr3t-T0KEN-value" not in repr(config)
    assert "s3cr3t-T0KEN-value" not in str(config)
    assert "s3cr3t-T0KEN-value" not in f"{config!r} {[config]}"


# delivery_method -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "delivery",
    [None, {}, {"delivery_type": "use_records_transfer"}],
)
def test_records_only_is_the_default_delivery(delivery: Any) -> None:
    overrides = {} if delivery is None else {"delivery_method": delivery}
    assert parse_config(raw_config(**overrides), environ=NO_ENV).file_transfer is False


def test_copy_raw_files_turns_file_transfer_on() -> None:
    config = parse_config(
        raw_config(delivery_method={"delivery_type": "use_file_transfer"}), environ=NO_ENV
    )
    assert config.file_transfer is True


@pytest.mark.parametrize(
    ("delivery", "named"),
    [
        ("use_file_transfer", "'delivery_method'"),
        (["use_file_transfer"], "'delivery_method'"),
        ({"delivery_type": "copy_files"}, "'delivery_method.delivery_type'"),
        ({"delivery_type": True}, "'delivery_method.delivery_type'"),
    ],
)
def test_a_bad_delivery_method_names_the_field(delivery: Any, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        parse_config(raw_config(delivery_method=delivery), environ=NO_ENV)


# use_file_transfer: the platform's other file-mode flag --------------------------------
#
# The platform runs a job in file mode when the source config holds a top-level
# `use_file_transfer: true` or `delivery_method.delivery_type = use_file_transfer`:
# airbyte-platform, airbyte-server/src/main/kotlin/io/airbyte/server/services/
# JobInputService.kt, `isDeprecatedFileTransfer` (the same in airbyte-commons-server's
# JobInputHandler.kt): `useFileTransfer || deliveryMethod.deliveryType == "use_file_transfer"`,
# after mapping the config onto `SourceActorConfig` (a `Boolean use_file_transfer`) with
# Jackson's default coercions (jackson-databind 2.19, `StdDeserializer._parseBoolean`).

RECORDS_DELIVERY = {"delivery_type": "use_records_transfer"}
FILES_DELIVERY = {"delivery_type": "use_file_transfer"}


def test_top_level_use_file_transfer_true_turns_file_transfer_on() -> None:
    config = parse_config(raw_config(use_file_transfer=True), environ=NO_ENV)

    assert config.file_transfer is True


def test_top_level_use_file_transfer_false_leaves_records_only() -> None:
    config = parse_config(raw_config(use_file_transfer=False), environ=NO_ENV)

    assert config.file_transfer is False


def test_top_level_use_file_transfer_null_is_as_if_absent() -> None:
    config = parse_config(raw_config(use_file_transfer=None), environ=NO_ENV)

    assert config.file_transfer is False


def test_use_file_transfer_true_wins_over_a_delivery_method_that_says_records() -> None:
    """The platform ORs the two: the job is in file mode, so the connector must be."""
    config = parse_config(
        raw_config(use_file_transfer=True, delivery_method=RECORDS_DELIVERY), environ=NO_ENV
    )

    assert config.file_transfer is True


def test_a_delivery_method_that_says_files_wins_over_use_file_transfer_false() -> None:
    config = parse_config(
        raw_config(use_file_transfer=False, delivery_method=FILES_DELIVERY), environ=NO_ENV
    )

    assert config.file_transfer is True


@pytest.mark.parametrize(
    ("value", "file_transfer"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        (" true ", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        (1, True),
        (2, True),
        (0, False),
    ],
)
def test_use_file_transfer_is_read_as_the_platform_reads_a_boolean(
    value: Any, file_transfer: bool
) -> None:
    """Jackson coerces these strings and integers: the connector must agree with the
    platform on file mode, or the destination fails every record (or no one takes the
    files)."""
    config = parse_config(raw_config(use_file_transfer=value), environ=NO_ENV)

    assert config.file_transfer is file_transfer


@pytest.mark.parametrize("value", ["yes", "1", "on", "tru", "", "   ", "null", 1.0, [True], {}])
def test_a_use_file_transfer_the_platform_cannot_read_as_a_boolean_names_the_field(
    value: Any,
) -> None:
    with pytest.raises(ConfigError, match="'use_file_transfer'"):
        parse_config(raw_config(use_file_transfer=value), environ=NO_ENV)


def test_a_bad_use_file_transfer_is_refused_even_when_delivery_method_says_files() -> None:
    with pytest.raises(ConfigError, match="'use_file_transfer'"):
        parse_config(
            raw_config(use_file_transfer="yes", delivery_method=FILES_DELIVERY), environ=NO_ENV
        )
