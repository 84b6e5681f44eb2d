"""Recording files: their size without downloading them, and a streamed download.

Why not the CDK's file uploader: it reads the whole body into memory, and a recording
may be 200 MB. The request itself still goes through the CDK's `HttpClient` (retries,
error mapping); only the body is handled here, chunk by chunk:

    storage host --1 MiB chunks--> sha256 + byte count --> recordings/.<name>.part
                                      | more than the limit: stop, delete the part file
                                      v complete
                                   os.replace(.part -> <call_id>.mp3)

so a killed sync never leaves a half file under a final name, and the size limit holds
even when `Content-Length` is missing or lies.

The storage host gets its own session with no credentials: recording URLs are
pre-signed, and the Aircall Authorization header must never reach another host (a
redirect included). Pre-signed URLs are signed for GET only, so the size is read with
`GET` + `Range: bytes=0-0` (`Content-Range: bytes 0-0/<total>`), never `HEAD`.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import (
    ErrorResolution,
    HttpStatusErrorHandler,
    ResponseAction,
)
from airbyte_cdk.sources.streams.http.error_handlers.default_error_mapping import (
    DEFAULT_ERROR_MAPPING,
)
from airbyte_cdk.sources.streams.http.http_client import HttpClient

from source_aircall_salescaling.config import request_timeout

CHUNK_BYTES = 1_048_576
RANGE_BODY_LIMIT = 1024  # more than the one byte asked for: a body this small is read
BODY_ATTEMPTS = 3
RECORDINGS_FOLDER = "recordings"
_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/webm": "webm",
}
_CONTENT_RANGE = re.compile(r"bytes\s+\d+-\d+/(\d+)")


# What a connection cut while a body is read raises, through requests or urllib3.
_CUT_SHORT = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


class RecordingExpired(Exception):
    """The storage host refused the pre-signed URL (expired or revoked): get a fresh one."""


class RecordingUnavailable(Exception):
    """The storage host did not serve the file; the message says how."""


class RecordingTooLarge(Exception):
    def __init__(self, size_bytes: int, exact: bool) -> None:
        super().__init__(f"recording is {'' if exact else 'over '}{size_bytes} bytes")
        self.size_bytes = size_bytes
        self.exact = exact


@dataclass(frozen=True)
class RecordingSize:
    size_bytes: int
    content_type: str


@dataclass(frozen=True)
class RecordingFile:
    file_name: str
    relative_path: str
    absolute_path: Path
    size_bytes: int
    sha256: str
    content_type: str


def file_name_for(call_id: int, content_type: str) -> str:
    """Names come only from the integer call id: nothing from the API reaches a path."""
    extension = _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "mp3")
    return f"{int(call_id)}.{extension}"


_STORAGE_ERRORS = {
    **DEFAULT_ERROR_MAPPING,
    # Expired or refused URLs are answered by the caller with a fresh URL, not a retry.
    400: ErrorResolution(ResponseAction.IGNORE, FailureType.transient_error, None),
    403: ErrorResolution(ResponseAction.IGNORE, FailureType.transient_error, None),
    404: ErrorResolution(ResponseAction.IGNORE, FailureType.transient_error, None),
    410: ErrorResolution(ResponseAction.IGNORE, FailureType.transient_error, None),
    416: ErrorResolution(ResponseAction.IGNORE, FailureType.transient_error, None),
}


class RecordingDownloader:
    def __init__(self, staging_directory: Path, size_limit: int, logger: logging.Logger) -> None:
        self.folder = staging_directory / RECORDINGS_FOLDER
        self._limit = size_limit
        self._logger = logger
        session = requests.Session()  # no auth: nothing of Aircall's goes to the storage host
        self._http = HttpClient(
            name="aircall_recordings",
            logger=logger,
            error_handler=HttpStatusErrorHandler(logger, _STORAGE_ERRORS, max_retries=4),
            session=session,
            request_timeout=request_timeout(),
        )

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        try:
            _, response = self._http.send_request(
                "GET", url, request_kwargs={"stream": True}, headers=headers
            )
        except Exception as error:
            raise RecordingUnavailable(_describe(error)) from None
        if response.status_code in (400, 403, 404, 410):
            response.close()
            raise RecordingExpired(f"storage host answered {response.status_code}")
        return response

    def probe(self, url: str) -> RecordingSize:
        """The size, from one byte of the file (or the headers, or a bounded count).

        A connection cut while the byte (or the counted body) is read is this one
        recording's failure (`RecordingUnavailable`, retried like a failed download),
        never the stream's."""
        response = self._get(url, {"Range": "bytes=0-0"})
        try:
            return self._size_of(response)
        except _CUT_SHORT as error:
            raise RecordingUnavailable(f"size probe cut short: {_describe(error)}") from None

    def _size_of(self, response: requests.Response) -> RecordingSize:
        with response:
            content_type = response.headers.get("Content-Type", "audio/mpeg")
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if response.status_code == 206 and match:
                # Read the one byte: a body read to its end puts the connection back in
                # the pool; an unread one is closed, and the next request opens (and over
                # HTTPS, handshakes) a new connection to the storage host.
                response.raw.read(RANGE_BODY_LIMIT)
                return RecordingSize(int(match.group(1)), content_type)
            length = response.headers.get("Content-Length")
            if response.status_code == 200 and length and length.isdigit():
                return RecordingSize(int(length), content_type)
            # No usable header: count the body, but never past the limit.
            counted = 0
            for chunk in response.iter_content(CHUNK_BYTES):
                counted += len(chunk)
                if counted > self._limit:
                    raise RecordingTooLarge(counted, exact=False)
            return RecordingSize(counted, content_type)

    def download(self, url: str, call_id: int) -> RecordingFile:
        """Stream the file to `recordings/<call_id>.<ext>`; a cut body is fetched again."""
        last_error = ""
        for _ in range(BODY_ATTEMPTS):
            try:
                return self._download_once(url, call_id)
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.ConnectionError,
                requests.exceptions.ContentDecodingError,
                IncompleteBody,
            ) as error:
                last_error = _describe(error)
                self._logger.warning(
                    f"Recording of call {call_id} was cut short ({last_error}); retrying."
                )
        raise RecordingUnavailable(f"body cut short {BODY_ATTEMPTS} times: {last_error}")

    def _download_once(self, url: str, call_id: int) -> RecordingFile:
        response = self._get(url, {})
        with response:
            declared = response.headers.get("Content-Length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > self._limit:
                raise RecordingTooLarge(expected, exact=True)
            content_type = response.headers.get("Content-Type", "audio/mpeg")
            name = file_name_for(call_id, content_type)
            self.folder.mkdir(parents=True, exist_ok=True)
            final = self.folder / name
            partial = self.folder / f".{name}.part"
            digest = hashlib.sha256()
            written = 0
            try:
                with open(partial, "wb") as out:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        written += len(chunk)
                        if written > self._limit:
                            raise RecordingTooLarge(written, exact=False)
                        digest.update(chunk)
                        out.write(chunk)
                if expected is not None and written != expected:
                    raise IncompleteBody(f"got {written} of {expected} bytes")
                os.replace(partial, final)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        return RecordingFile(
            file_name=name,
            relative_path=f"{RECORDINGS_FOLDER}/{name}",
            absolute_path=final,
            size_bytes=written,
            sha256=digest.hexdigest(),
            content_type=content_type,
        )


class IncompleteBody(Exception):
    pass


_QUERY = re.compile(r"\?[^\s'\"]*")


def _describe(error: BaseException) -> str:
    """First line of an error, without the pre-signed URL's query (it grants access)."""
    text = str(error).strip().splitlines()
    return _QUERY.sub("?...", text[0][:300]) if text else type(error).__name__
