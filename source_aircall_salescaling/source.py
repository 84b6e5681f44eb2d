"""The Airbyte source: check, and the streams of one sync."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    SyncMode,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.utils.files_directory import get_files_directory
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_aircall_salescaling.ai_records import INSIGHT_KINDS
from source_aircall_salescaling.aircall.client import AircallClient
from source_aircall_salescaling.aircall.errors import AircallError, AircallUnreachable
from source_aircall_salescaling.aircall.models import User
from source_aircall_salescaling.config import (
    ConfigError,
    ConnectorConfig,
    normalize_email,
    parse_config,
)
from source_aircall_salescaling.streams.calls import CallsStream
from source_aircall_salescaling.streams.import_decisions import ImportDecisionsStream
from source_aircall_salescaling.streams.insights import InsightsStream
from source_aircall_salescaling.streams.recordings import RecordingsStream
from source_aircall_salescaling.streams.users import UsersStream
from source_aircall_salescaling.sync.context import SyncContext, SyncRequest

CHECK_RETRIES = 2
# What discover and read offer with "Copy Raw Files": the streams whose every record
# brings a file.
FILE_MODE_STREAMS = ("recordings",)


class SourceAircallSalescaling(AbstractSource):
    def __init__(self) -> None:
        super().__init__()
        self._request = SyncRequest()

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """Remember what was asked before the streams are built: `calls` and `recordings`
        share one listing, which must reach back as far as either stream's state needs.

        In file mode only `recordings` exists (streams()): a file-mode destination takes
        every record as a file. Other streams of the catalog are skipped by the CDK (status
        INCOMPLETE, no record), and they must not lower the listing's bound either."""
        file_transfer = parse_config(config).file_transfer
        self._request = sync_request(catalog, state, file_transfer)
        if file_transfer:
            others = sorted({s.stream.name for s in catalog.streams} - set(FILE_MODE_STREAMS))
            if others:
                logger.warning(
                    "File mode (delivery method Copy Raw Files, or use_file_transfer: true): "
                    "only the recordings stream is read, "
                    f"not {', '.join(others)} (set up a Replicate Records connection for them)."
                )
        yield from super().read(logger, config, catalog, state)

    def check_connection(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> tuple[bool, Any]:
        """Every failure is raised as a ConfigError: the CDK then reports its message as
        it is (a returned message would be shown through repr(), in quotes). Users are
        paged only until every configured email has matched one."""
        settings = parse_config(config)
        client = AircallClient(settings, logger, max_retries=CHECK_RETRIES)
        try:
            client.ping()
            emails = _matched_emails(settings, client.users())
        except AircallError as error:
            raise ConfigError(_check_failure(error)) from None
        except AirbyteTracedException as error:  # not from an answer: the CDK's own words
            raise ConfigError(error.message or "The Aircall API check failed.") from None
        _email_match(settings, emails, logger)
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        settings = parse_config(config)
        context = SyncContext(
            settings, logging.getLogger("airbyte"), self._request, Path(get_files_directory())
        )
        if settings.file_transfer:
            return [RecordingsStream(context)]
        return [
            UsersStream(context),
            CallsStream(context),
            RecordingsStream(context),
            *(InsightsStream(context, kind) for kind in INSIGHT_KINDS),
            ImportDecisionsStream(context),
        ]


def sync_request(
    catalog: ConfiguredAirbyteCatalog,
    state: list[AirbyteStateMessage] | None,
    file_transfer: bool = False,
) -> SyncRequest:
    request = SyncRequest()
    for configured in catalog.streams:
        name = configured.stream.name
        if file_transfer and name not in FILE_MODE_STREAMS:
            continue
        request.incremental[name] = configured.sync_mode == SyncMode.incremental
        if name == "recordings":
            request.include_files = bool(configured.include_files)
    for message in state or []:
        stream = getattr(message, "stream", None)
        if stream is not None and stream.stream_descriptor is not None:
            stream_state = stream.stream_state
            raw = stream_state.__dict__ if stream_state is not None else {}
            request.states[stream.stream_descriptor.name] = dict(raw)
    return request


def _matched_emails(settings: ConnectorConfig, users: Iterable[User]) -> set[str]:
    """The configured emails (normalized) that belong to an Aircall user. Stops reading
    `users` (a lazy listing: one request a page) once all of them matched; a partial
    match reads to the end, to name the emails that match no one."""
    wanted = settings.salescaling_user_emails
    matched: set[str] = set()
    for user in users:
        if user.email and normalize_email(user.email) in wanted:
            matched.add(normalize_email(user.email))
            if matched == wanted:
                break
    return matched


def _check_failure(error: AircallError) -> str:
    """Told apart by type: the client's failures already carry a message for the admin
    (rejected keys, an HTTP status and what it means, the network cause in words)."""
    if isinstance(error, AircallUnreachable):
        return error.message or _unreachable(error.cause)
    return error.message or "Aircall answered with an error."


def _unreachable(cause: str) -> str:
    return (
        f"The Aircall API could not be reached: {cause}. Check the network, proxy or "
        "firewall, and https://status.aircall.io for outages."
    )


def _email_match(settings: ConnectorConfig, matched: set[str], logger: logging.Logger) -> None:
    """Messages name the emails as the admin typed them (trimmed), in the config's order."""
    typed = settings.salescaling_user_emails_as_typed or tuple(
        sorted(settings.salescaling_user_emails)
    )
    missing = [email for email in typed if normalize_email(email) not in matched]
    if len(missing) == len(typed):
        raise ConfigError(
            "None of the Salescaling user emails belongs to an Aircall user: "
            f"{', '.join(missing)}. Each must be the email of a user listed on Aircall's "
            "Users page (Aircall Dashboard -> Users); correct the emails in the connector "
            "settings, or add these users in Aircall."
        )
    if missing:
        logger.warning(
            "These Salescaling user emails match no Aircall user, so their calls cannot be "
            f"imported: {', '.join(missing)}. Compare them with Aircall's Users page "
            "(Aircall Dashboard -> Users)."
        )
