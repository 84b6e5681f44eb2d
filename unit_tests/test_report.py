"""The import report's lines: each says what really happened to the calls it counts."""

from __future__ import annotations

import json

from source_aircall_salescaling import import_rules
from source_aircall_salescaling.sync.report import REPORT_PREFIX, ImportReport


def text(report: ImportReport) -> list[str]:
    return [line for line in report.lines() if not line.startswith(REPORT_PREFIX)]


def test_headline_counts_imported_and_skipped_calls() -> None:
    report = ImportReport(imported=3)
    report.skip(11, import_rules.NO_RECORDING)

    assert text(report)[0] == "Recordings import report: imported 3, skipped 1."


def test_agent_not_a_salescaling_user_names_the_emails_seen() -> None:
    report = ImportReport()
    report.skip(11, import_rules.NOT_SALESCALING_USER, email="Bob@Example.com")

    assert text(report)[1] == (
        "  skipped, agent email not a Salescaling user: 1 (calls 11); "
        "agent emails seen: Bob@Example.com"
    )


def test_oversize_recording_gives_its_size() -> None:
    report = ImportReport()
    report.skip(11, import_rules.OVER_SIZE_LIMIT, size=3 * 1_048_576)

    assert text(report)[1] == (
        "  skipped, recording over the size limit: 1 (calls 11); sizes: 11=3.0 MiB"
    )


def test_a_call_that_was_never_answered_is_skipped_at_once_with_that_reason() -> None:
    report = ImportReport()
    report.skip(11, import_rules.NOT_ANSWERED)

    assert text(report)[1] == "  skipped, no recording: the call was not answered: 1 (calls 11)"


def test_giving_up_on_a_transfer_that_kept_failing_says_so_and_promises_no_retry() -> None:
    report = ImportReport()
    report.skip(11, import_rules.TRANSFERS_FAILED)

    line = text(report)[1]
    assert line == (
        "  skipped, recording unavailable: its transfer failed on every sync for a day: "
        "1 (calls 11)"
    )
    assert "retried" not in line


def test_giving_up_on_a_url_aircall_no_longer_signs_says_so() -> None:
    report = ImportReport()
    report.skip(11, import_rules.UNAVAILABLE)

    assert text(report)[1] == (
        "  skipped, recording unavailable: Aircall no longer signs a URL for it: 1 (calls 11)"
    )


def test_a_call_deleted_in_aircall_is_reported_as_deleted() -> None:
    report = ImportReport()
    report.skip(11, import_rules.CALL_DELETED)

    assert text(report)[1] == "  skipped, call deleted in Aircall: 1 (calls 11)"


def test_a_failed_transfer_still_being_retried_is_reported_as_tried_again() -> None:
    report = ImportReport(retrying=[11, 12])

    assert text(report)[1] == (
        "  recording unavailable now, tried again on the next sync: 2 (calls 11, 12)"
    )


def test_calls_still_watched_are_reported_as_waiting() -> None:
    report = ImportReport(waiting=4)

    assert text(report)[1] == "  waiting (call in progress or recording not ready yet): 4"


def test_calls_left_behind_by_the_cap_are_counted() -> None:
    report = ImportReport(left_behind=156)

    assert text(report)[1] == "  older calls left behind by the first-sync cap: 156"


def test_a_count_of_left_behind_calls_that_stopped_early_says_it_is_a_lower_bound() -> None:
    report = ImportReport(left_behind=0, left_behind_is_lower_bound=True)

    assert text(report)[1] == (
        "  older calls left behind by the first-sync cap: at least 0 (paging stopped early, "
        "older calls were not counted)"
    )
    summary = json.loads(report.lines()[-1].removeprefix(REPORT_PREFIX))
    assert summary["left_behind_by_first_sync_cap_is_lower_bound"] is True
