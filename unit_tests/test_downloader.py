"""Recording files: size from one byte, and a streamed download under the size limit."""

from __future__ import annotations

import hashlib
import http.client
import io
import logging
from pathlib import Path
from typing import Any

import pytest
import requests_mock as requests_mock_module

from source_aircall_salescaling.recordings.downloader import (
    RecordingDownloader,
    RecordingExpired,
    RecordingTooLarge,
    RecordingUnavailable,
    file_name_for,
)

URL = "https://storage.example/recordings/abc.mp3?X-Amz-Signature=secret"
LIMIT = 4_000
LOGGER = logging.getLogger("test_downloader")


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)


@pytest.fixture
def downloader(tmp_path: Path) -> RecordingDownloader:
    return RecordingDownloader(tmp_path, LIMIT, LOGGER)


def audio(size: int) -> bytes:
    return bytes((n * 7 + 3) % 256 for n in range(size))


def files_under(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


# probe ---------------------------------------------------------------------------------


def test_probe_asks_for_the_first_byte_only(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(
        URL, status_code=206, content=b"\x00", headers={"Content-Range": "bytes 0-0/123456"}
    )

    downloader.probe(URL)

    assert requests_mock.last_request.headers["Range"] == "bytes=0-0"
    assert requests_mock.last_request.method == "GET"


def test_probe_reads_the_total_size_from_content_range(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(
        URL,
        status_code=206,
        content=b"\x00",
        headers={"Content-Range": "bytes 0-0/123456", "Content-Type": "audio/mpeg"},
    )

    size = downloader.probe(URL)

    assert (size.size_bytes, size.content_type) == (123_456, "audio/mpeg")


def test_probe_of_a_file_larger_than_the_limit_still_reports_its_size(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(
        URL, status_code=206, content=b"\x00", headers={"Content-Range": "bytes 0-0/999999999"}
    )

    assert downloader.probe(URL).size_bytes == 999_999_999


def test_probe_of_a_host_that_ignores_range_reads_content_length(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, status_code=200, content=audio(300), headers={"Content-Length": "300"})

    assert downloader.probe(URL).size_bytes == 300


def test_probe_without_size_headers_counts_the_body(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, status_code=200, content=audio(LIMIT))

    assert downloader.probe(URL).size_bytes == LIMIT


def test_probe_without_size_headers_stops_counting_past_the_limit(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, status_code=200, content=audio(LIMIT + 1))

    with pytest.raises(RecordingTooLarge):
        downloader.probe(URL)


def test_probe_refused_with_403_means_the_url_expired(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, status_code=403, text="<Error>AccessDenied</Error>")

    with pytest.raises(RecordingExpired):
        downloader.probe(URL)


class CutBody(io.RawIOBase):
    """A body whose connection is cut before its first byte arrives."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise http.client.IncompleteRead(b"", 1)


@pytest.mark.parametrize(
    "headers",
    [{"Content-Range": "bytes 0-0/123456"}, {}],
    ids=["one-byte-range", "counted-body"],
)
def test_probe_cut_short_is_an_unavailable_recording_not_a_crash(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    headers: dict[str, str],
) -> None:
    status = 206 if headers else 200
    requests_mock.get(URL, status_code=status, body=CutBody(), headers=headers)

    with pytest.raises(RecordingUnavailable) as raised:
        downloader.probe(URL)

    assert "X-Amz-Signature" not in str(raised.value)


def test_probe_sends_no_authorization_header(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(
        URL, status_code=206, content=b"\x00", headers={"Content-Range": "bytes 0-0/10"}
    )

    downloader.probe(URL)

    assert "Authorization" not in requests_mock.last_request.headers


# download ------------------------------------------------------------------------------


def test_download_writes_the_file_under_recordings_named_after_the_call(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    tmp_path: Path,
) -> None:
    body = audio(1_500)
    requests_mock.get(URL, content=body, headers={"Content-Type": "audio/mpeg"})

    saved = downloader.download(URL, 2100000123)

    assert saved.absolute_path == tmp_path / "recordings" / "2100000123.mp3"
    assert saved.absolute_path.read_bytes() == body
    assert (saved.file_name, saved.relative_path) == (
        "2100000123.mp3",
        "recordings/2100000123.mp3",
    )


def test_download_reports_the_sha256_and_size_of_the_file(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    body = audio(1_500)
    requests_mock.get(URL, content=body, headers={"Content-Length": "1500"})

    saved = downloader.download(URL, 7)

    assert saved.sha256 == hashlib.sha256(body).hexdigest()
    assert saved.size_bytes == 1_500


def test_download_leaves_no_part_file_behind(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    tmp_path: Path,
) -> None:
    requests_mock.get(URL, content=audio(10))

    downloader.download(URL, 7)

    assert files_under(tmp_path) == ["7.mp3"]


def test_download_of_a_wav_recording_gets_the_wav_extension(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, content=audio(10), headers={"Content-Type": "audio/wav"})

    assert downloader.download(URL, 7).file_name == "7.wav"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-content-length"])
def test_recording_of_exactly_the_limit_is_kept(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    declared: bool,
) -> None:
    headers = {"Content-Length": str(LIMIT)} if declared else {}
    requests_mock.get(URL, content=audio(LIMIT), headers=headers)

    saved = downloader.download(URL, 7)

    assert saved.size_bytes == LIMIT
    assert saved.absolute_path.stat().st_size == LIMIT


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-content-length"])
def test_recording_one_byte_over_the_limit_raises_too_large(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    declared: bool,
) -> None:
    headers = {"Content-Length": str(LIMIT + 1)} if declared else {}
    requests_mock.get(URL, content=audio(LIMIT + 1), headers=headers)

    with pytest.raises(RecordingTooLarge):
        downloader.download(URL, 7)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-content-length"])
def test_recording_over_the_limit_leaves_no_file_final_or_partial(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    tmp_path: Path,
    declared: bool,
) -> None:
    headers = {"Content-Length": str(3 * LIMIT)} if declared else {}
    requests_mock.get(URL, content=audio(3 * LIMIT), headers=headers)

    with pytest.raises(RecordingTooLarge):
        downloader.download(URL, 7)

    assert files_under(tmp_path) == []


def test_declared_size_over_the_limit_is_refused_with_that_exact_size(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, content=audio(3 * LIMIT), headers={"Content-Length": str(3 * LIMIT)})

    with pytest.raises(RecordingTooLarge) as raised:
        downloader.download(URL, 7)

    assert (raised.value.size_bytes, raised.value.exact) == (3 * LIMIT, True)


def test_body_over_the_limit_behind_a_small_content_length_is_still_refused(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    tmp_path: Path,
) -> None:
    requests_mock.get(URL, content=audio(LIMIT + 500), headers={"Content-Length": "100"})

    with pytest.raises(RecordingTooLarge):
        downloader.download(URL, 7)

    assert files_under(tmp_path) == []


def test_body_shorter_than_its_content_length_is_retried_and_leaves_no_file(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    tmp_path: Path,
) -> None:
    requests_mock.get(URL, content=audio(100), headers={"Content-Length": "1000"})

    with pytest.raises(RecordingUnavailable):
        downloader.download(URL, 7)

    assert requests_mock.call_count == 3
    assert files_under(tmp_path) == []


def test_body_cut_once_is_fetched_again(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    body = audio(1_000)
    requests_mock.get(
        URL,
        [
            {"content": body[:100], "headers": {"Content-Length": "1000"}},
            {"content": body, "headers": {"Content-Length": "1000"}},
        ],
    )

    saved = downloader.download(URL, 7)

    assert saved.absolute_path.read_bytes() == body


def test_download_refused_with_403_raises_recording_expired(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, status_code=403, text="<Error>Request has expired</Error>")

    with pytest.raises(RecordingExpired):
        downloader.download(URL, 7)


def test_refused_download_leaves_no_file(
    downloader: RecordingDownloader,
    requests_mock: requests_mock_module.Mocker,
    tmp_path: Path,
) -> None:
    requests_mock.get(URL, status_code=403, text="expired")

    with pytest.raises(RecordingExpired):
        downloader.download(URL, 7)

    assert files_under(tmp_path) == []


def test_download_sends_no_authorization_header_to_the_storage_host(
    downloader: RecordingDownloader, requests_mock: requests_mock_module.Mocker
) -> None:
    requests_mock.get(URL, content=audio(10))

    downloader.download(URL, 7)

    assert requests_mock.call_count == 1
    assert "Authorization" not in requests_mock.last_request.headers


# file_name_for -------------------------------------------------------------------------


def test_file_name_is_the_call_id_with_the_extension_of_the_content_type() -> None:
    assert file_name_for(2100000123, "audio/mpeg") == "2100000123.mp3"


def test_file_name_ignores_content_type_parameters_and_case() -> None:
    assert file_name_for(5, "Audio/WAV; codecs=1") == "5.wav"


@pytest.mark.parametrize("content_type", ["application/octet-stream", "", "../../etc/passwd"])
def test_file_name_for_an_unknown_content_type_is_mp3(content_type: str) -> None:
    assert file_name_for(5, content_type) == "5.mp3"


def test_file_name_is_made_of_the_integer_id_only() -> None:
    with pytest.raises(ValueError):
        file_name_for("../../etc/passwd", "audio/mpeg")  # type: ignore[arg-type]
