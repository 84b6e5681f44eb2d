"""The sandbox's storage host behaves like the pre-signed S3 links Aircall hands out."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests

from aircall_sandbox.testing import Sandbox

SMALL = 1_500_000


def done_call(sandbox: Sandbox) -> dict[str, Any]:
    """A fresh done call with a small recording, so tests do not share flags."""
    return sandbox.add_calls(1, status="done", recording=True, recording_size=SMALL)[0]


def recording_url(sandbox: Sandbox, call_id: int) -> str:
    url = sandbox.api_get(f"/v1/calls/{call_id}").json()["call"]["recording"]
    assert isinstance(url, str)
    return url


def download(url: str, **kw: Any) -> requests.Response:
    return requests.get(url, timeout=30, **kw)


def test_head_on_a_recording_url_is_403(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    assert requests.head(url, timeout=10).status_code == 403


def test_range_0_0_answers_206_with_the_total_size(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    response = download(url, headers={"Range": "bytes=0-0"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-0/{SMALL}"
    assert response.content == b"I"


def test_range_0_0_on_a_300_mb_recording_is_cheap(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    sandbox.attach_recording(call["id"], size=300_000_000)
    response = download(recording_url(sandbox, call["id"]), headers={"Range": "bytes=0-0"})
    assert response.headers["Content-Range"] == "bytes 0-0/300000000"
    assert response.elapsed.total_seconds() < 1


def test_open_range_returns_the_tail(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    url = recording_url(sandbox, call["id"])
    full = download(url).content
    tail = download(url, headers={"Range": f"bytes={SMALL - 100}-"})
    assert tail.status_code == 206 and tail.content == full[-100:]


def test_full_download_matches_recording_sha256(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    response = download(recording_url(sandbox, call["id"]))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert response.headers["Content-Length"] == str(SMALL)
    assert response.content.startswith(b"ID3")
    assert hashlib.sha256(response.content).hexdigest() == sandbox.recording_sha256(call["id"])


def test_expired_url_is_403_request_has_expired(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    sandbox.set_clock_offset(3601)
    response = download(url)
    assert response.status_code == 403
    assert "Request has expired" in response.text


def test_url_ttl_setting_shortens_url_lifetime(sandbox: Sandbox) -> None:
    sandbox.set_url_ttl(60)
    url = recording_url(sandbox, done_call(sandbox)["id"])
    sandbox.set_clock_offset(61)
    assert download(url).status_code == 403


def test_expire_recording_urls_revokes_issued_urls_only(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    old = recording_url(sandbox, call["id"])
    sandbox.expire_recording_urls([call["id"]])
    assert "Request has expired" in download(old).text
    assert download(recording_url(sandbox, call["id"])).status_code == 200


def test_expire_all_urls_fault_revokes_everything_issued(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    sandbox.set_faults(expire_all_urls=True)
    assert download(url).status_code == 403


def test_tampered_signature_is_403_signature_does_not_match(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    response = download(url[:-1] + ("0" if url[-1] != "0" else "1"))
    assert response.status_code == 403 and "SignatureDoesNotMatch" in response.text


def test_no_content_length_recording_is_sent_chunked(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    sandbox.attach_recording(call["id"], size=SMALL, no_content_length=True)
    response = download(recording_url(sandbox, call["id"]))
    assert "Content-Length" not in response.headers
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert hashlib.sha256(response.content).hexdigest() == sandbox.recording_sha256(call["id"])


def test_short_body_breaks_the_download(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    sandbox.attach_recording(call["id"], size=SMALL, short_body=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        download(recording_url(sandbox, call["id"]))


def test_lying_length_sends_more_than_the_range_probe_announces(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    sandbox.attach_recording(call["id"], size=SMALL, lying_length=True, lying_actual_size=SMALL * 2)
    url = recording_url(sandbox, call["id"])
    probe = download(url, headers={"Range": "bytes=0-0"})
    assert probe.headers["Content-Range"] == f"bytes 0-0/{SMALL}"
    full = download(url)
    assert "Content-Length" not in full.headers
    assert len(full.content) == SMALL * 2


def test_fail_next_answers_503_then_serves(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    sandbox.attach_recording(call["id"], size=SMALL, fail_next=1)
    url = recording_url(sandbox, call["id"])
    assert download(url).status_code == 503
    assert download(url).status_code == 200


def test_redirect_sends_the_client_to_another_host(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    sandbox.attach_recording(call["id"], size=SMALL, redirect=True)
    sandbox.clear_log()
    response = download(recording_url(sandbox, call["id"]))
    assert response.status_code == 200 and len(response.content) == SMALL
    assert response.history[0].status_code == 302
    assert response.url.startswith(sandbox.redirect_url)
    assert [e["status"] for e in sandbox.requests_log("storage")] == [302]
    assert [e["status"] for e in sandbox.requests_log("redirect")] == [200]


def test_request_log_records_authorization_presence_per_host(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    sandbox.attach_recording(call["id"], size=SMALL, redirect=True)
    sandbox.clear_log()
    download(recording_url(sandbox, call["id"]))  # clean: credentials only to the API
    session = requests.Session()
    session.auth = sandbox.auth  # the classic leak: session-wide credentials
    leaked = session.get(f"{sandbox.api_url}/v1/calls/{call['id']}", timeout=10).json()["call"]
    session.get(leaked["recording"], timeout=30)
    assert [e["authorization"] for e in sandbox.requests_log("api")] == [True, True]
    assert [e["authorization"] for e in sandbox.requests_log("storage")] == [False, True]
    assert [e["authorization"] for e in sandbox.requests_log("redirect")] == [False]


def test_storage_refuses_a_request_carrying_authorization(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    response = download(url, auth=sandbox.auth)
    assert response.status_code == 400 and "InvalidArgument" in response.text


def test_downloads_do_not_count_against_the_rate_limit(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    sandbox.set_rate_limit(1)
    for _ in range(3):
        assert download(url, headers={"Range": "bytes=0-0"}).status_code == 206
    assert sandbox.api_get("/v1/ping").status_code == 200


def test_range_request_is_logged_with_its_header(sandbox: Sandbox) -> None:
    url = recording_url(sandbox, done_call(sandbox)["id"])
    sandbox.clear_log()
    download(url, headers={"Range": "bytes=0-0"})
    (entry,) = sandbox.requests_log("storage")
    assert entry["range"] == "bytes=0-0" and entry["status"] == 206 and entry["bytes_sent"] == 1


def test_voicemail_url_downloads_audio(sandbox: Sandbox) -> None:
    call = next(c for c in sandbox.calls() if c["has_voicemail"])
    api_call = sandbox.api_get(f"/v1/calls/{call['id']}").json()["call"]
    assert api_call["recording"] is None
    response = download(api_call["voicemail"])
    assert hashlib.sha256(response.content).hexdigest() == sandbox.voicemail_sha256(call["id"])


def test_short_url_redirects_to_a_signed_recording(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    body = sandbox.api_get(f"/v1/calls/{call['id']}", fetch_short_urls="true").json()["call"]
    response = download(body["recording_short_url"], headers={"Range": "bytes=0-0"})
    assert response.status_code == 206 and response.history[0].status_code == 302


def test_done_call_without_live_recording_has_no_recording(sandbox: Sandbox) -> None:
    calls = sandbox.api_get("/v1/calls", per_page=50).json()["calls"]
    off = [c for c in calls if not c["number"]["live_recording_activated"]]
    assert off and all(c["recording"] is None for c in off)


def test_fail_always_answers_503_to_every_get_until_cleared(sandbox: Sandbox) -> None:
    call = done_call(sandbox)
    flagged = sandbox.attach_recording(call["id"], size=SMALL, fail_always=True)
    assert flagged["flags"]["fail_always"] is True
    url = recording_url(sandbox, call["id"])
    probe = {"Range": "bytes=0-0"}
    assert [download(url, headers=probe).status_code for _ in range(3)] == [503] * 3
    assert download(url).status_code == 503
    sandbox.update_call(call["id"], fail_always=False)
    assert download(url, headers=probe).status_code == 206
    assert download(url).status_code == 200
