"""`--media-url`: recording URLs signed for another host (a real web server in the bench)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from aircall_sandbox.testing import Sandbox


def test_recording_urls_point_at_the_media_url_with_their_signature() -> None:
    with Sandbox(seed=3, users=2, calls=0, rate_limit=0, media_url="http://127.0.0.9:8080/") as box:
        (call,) = box.add_calls(1, recording=True, recording_size=4096)
        url = box.api_get(f"/v1/calls/{call['id']}").json()["call"]["recording"]

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "127.0.0.9:8080",
        f"/recordings/{call['id']}.mp3",
    )
    assert parse_qs(parts.query)  # still pre-signed: the query a real server ignores
