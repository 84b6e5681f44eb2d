"""Test-side handle on a sandbox running in a subprocess.

``Sandbox`` starts ``python -m aircall_sandbox`` with free ports, waits for
its ready line and stops it on exit. A real subprocess (rather than servers
in the test process) keeps the sandbox's threads, sockets and GIL time away
from the code under test, exactly like the real API would be.

    with Sandbox(seed=7, calls=300, rate_limit=0) as sandbox:
        config = sandbox.config()
        ...
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests

from .recordings import recording_sha256, voicemail_sha256

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class SandboxError(RuntimeError):
    """The sandbox did not start, or a control request failed."""


class Sandbox:
    """A running fake Aircall (context manager); every helper talks to ``/_sandbox``."""

    def __init__(
        self,
        *,
        seed: int = 7,
        users: int = 8,
        calls: int = 300,
        days: int = 14,
        rate_limit: int | None = None,
        rate_window: float | None = None,
        rate_bucket_burst: int | None = None,
        url_ttl: int | None = None,
        api_id: str = "demo-id",
        api_token: str = "demo-token",
        port: int = 0,
        storage_port: int = 0,
        large_recordings: int | None = None,
        storage_accepts_auth: bool = False,
        media_url: str | None = None,
        ai: str | None = None,
        extra_args: Iterable[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        self.seed = seed
        self._args = [
            "--seed", str(seed), "--users", str(users), "--calls", str(calls),
            "--days", str(days), "--port", str(port), "--storage-port", str(storage_port),
            "--api-id", api_id, "--api-token", api_token,
        ]  # fmt: skip
        if rate_limit is not None:
            self._args += ["--rate-limit", str(rate_limit)]
        if rate_window is not None:
            self._args += ["--rate-window", str(rate_window)]
        if rate_bucket_burst is not None:
            self._args += ["--rate-limit-bucket", str(rate_bucket_burst)]
        if url_ttl is not None:
            self._args += ["--url-ttl", str(url_ttl)]
        if large_recordings is not None:
            self._args += ["--large-recordings", str(large_recordings)]
        if storage_accepts_auth:
            self._args.append("--storage-accepts-auth")
        if media_url is not None:
            self._args += ["--media-url", media_url]
        if ai is not None:
            self._args += ["--ai", ai]
        self._args += list(extra_args)
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._http = requests.Session()
        self.info: dict[str, Any] = {}

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Start the subprocess and wait for its ready line."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        self._process = subprocess.Popen(
            [sys.executable, "-m", "aircall_sandbox", "--exit-with-parent", *self._args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        line = self._read_ready_line()
        try:
            self.info = json.loads(line)
        except ValueError as error:
            self.stop()
            raise SandboxError(f"unexpected sandbox output: {line!r}") from error
        return self

    def _read_ready_line(self) -> str:
        process = self._process
        assert process is not None and process.stdout is not None
        deadline = time.monotonic() + self._startup_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or process.poll() is not None:
                    break
                if selector.select(timeout=min(remaining, 0.5)):
                    data = os.read(process.stdout.fileno(), 65536)
                    if not data:
                        break
                    buffer += data
        if b"\n" not in buffer:
            stderr = self._stderr_text()
            self.stop()
            raise SandboxError(f"sandbox did not start: {stderr[-2000:]}")
        return buffer.split(b"\n", 1)[0].decode()

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return str(self._stderr.read().decode(errors="replace"))

    def stop(self) -> None:
        """Terminate the subprocess (kill it after 5 s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._http.close()

    @property
    def returncode(self) -> int | None:
        """None while running (or before start)."""
        return None if self._process is None else self._process.poll()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses
    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    @property
    def storage_url(self) -> str:
        return str(self.info["storage_url"])

    @property
    def redirect_url(self) -> str:
        return str(self.info["redirect_url"])

    @property
    def control_url(self) -> str:
        return str(self.info["control_url"])

    @property
    def api_id(self) -> str:
        return str(self.info["api_id"])

    @property
    def api_token(self) -> str:
        return str(self.info["api_token"])

    @property
    def auth(self) -> tuple[str, str]:
        """``(api_id, api_token)`` for ``requests``' ``auth=``."""
        return self.api_id, self.api_token

    def salescaling_emails(self) -> list[str]:
        """Trimmed lower-case emails of the sandbox's Salescaling users."""
        return [str(e) for e in self.state(include_calls=False)["salescaling_emails"]]

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A connector config for this sandbox (credentials + Salescaling emails).

        Paced at the highest allowed rate: the sandbox's limit is off unless a test sets one,
        and at the default 60 a minute every request of the suite would wait a second. Tests
        of pacing set `requests_per_minute` themselves."""
        config: dict[str, Any] = {
            "api_id": self.api_id,
            "api_token": self.api_token,
            "salescaling_user_emails": self.salescaling_emails(),
            "requests_per_minute": 1000,
        }
        config.update(overrides)
        return config

    def env(self) -> dict[str, str]:
        """Environment variables pointing the connector at this sandbox."""
        return {"AIRCALL_API_URL": self.api_url}

    # -------------------------------------------------------------- control
    def _control(self, method: str, path: str, body: Any = None, /, **params: Any) -> Any:
        # Positional-only: a query parameter may be called ``path`` (``requests_log``).
        response = self._http.request(
            method, f"{self.control_url}{path}", json=body, params=params or None, timeout=60
        )
        if response.status_code >= 400:
            raise SandboxError(
                f"{method} /_sandbox{path} -> {response.status_code}: {response.text}"
            )
        return response.json()

    def api_get(self, path: str, auth: bool = True, **params: Any) -> requests.Response:
        """GET an API path with the sandbox credentials (a convenience for tests)."""
        return self._http.get(
            f"{self.api_url}{path}",
            params=params or None,
            auth=self.auth if auth else None,
            timeout=30,
        )

    def state(self, include_calls: bool = True) -> dict[str, Any]:
        """Everything: users, calls (full model), settings, faults, now."""
        params = {} if include_calls else {"calls": "false"}
        result: dict[str, Any] = self._control("GET", "/state", **params)
        return result

    def now(self) -> int:
        """The sandbox clock (UNIX seconds, clock offset included)."""
        return int(self._control("GET", "/health")["now"])

    def calls(self) -> list[dict[str, Any]]:
        """All calls in (started_at, id) order, with recording_size and flags."""
        return list(self._control("GET", "/calls")["calls"])

    def call(self, call_id: int) -> dict[str, Any]:
        return dict(self._control("GET", f"/calls/{call_id}")["call"])

    def users(self) -> list[dict[str, Any]]:
        """All users with ``salescaling`` and ``email_normalized``."""
        return list(self._control("GET", "/users")["users"])

    def add_user(
        self, name: str, email: str, salescaling: bool = False, **kw: Any
    ) -> dict[str, Any]:
        body = {"name": name, "email": email, "salescaling": salescaling, **kw}
        return dict(self._control("POST", "/users", body)["user"])

    def update_user(self, user_id: int, **changes: Any) -> dict[str, Any]:
        return dict(self._control("PATCH", f"/users/{user_id}", changes)["user"])

    def delete_user(self, user_id: int) -> dict[str, Any]:
        """Gone from ``/v2/users``; its calls keep it as their agent."""
        return dict(self._control("DELETE", f"/users/{user_id}")["deleted"])

    def add_calls(self, n: int = 1, **kw: Any) -> list[dict[str, Any]]:
        """Create ``n`` calls; keys as ``POST /_sandbox/calls`` (status, recording, ...)."""
        return list(self._control("POST", "/calls", {"count": n, **kw})["calls"])

    def add_bulk_calls(self, count: int, days: float = 10, **kw: Any) -> dict[str, Any]:
        """Generate many done calls fast (12,000 in well under a second); returns a summary."""
        return dict(self._control("POST", "/calls/bulk", {"count": count, "days": days, **kw}))

    def update_call(self, call_id: int, **changes: Any) -> dict[str, Any]:
        return dict(self._control("PATCH", f"/calls/{call_id}", changes)["call"])

    def add_tag(self, call_id: int, name: str, **kw: Any) -> dict[str, Any]:
        """A person tags the call (kw: tagged_by_id, None for Aircall's ``{}``; tagged_at)."""
        body = {"name": name, **kw}
        return dict(self._control("POST", f"/calls/{call_id}/tags", body)["call"])

    def add_comment(self, call_id: int, content: str, **kw: Any) -> dict[str, Any]:
        """An agent comments the call (kw: posted_by_id, posted_at)."""
        body = {"content": content, **kw}
        return dict(self._control("POST", f"/calls/{call_id}/comments", body)["call"])

    def finish_call(self, call_id: int, **kw: Any) -> dict[str, Any]:
        """End an in-progress call (kw: recording, recording_size, duration, answered)."""
        return dict(self._control("POST", f"/calls/{call_id}/finish", kw)["call"])

    def attach_recording(
        self, call_id: int, size: int | None = None, **flags: Any
    ) -> dict[str, Any]:
        """Attach/replace a recording; flags: no_content_length, short_body, lying_length,
        lying_actual_size, redirect, fail_next (that many GETs answer 503), fail_always
        (every GET answers 503 until the flag is cleared: ``update_call(id,
        fail_always=False)`` or a new recording)."""
        body: dict[str, Any] = dict(flags)
        if size is not None:
            body["size"] = size
        return dict(self._control("POST", f"/calls/{call_id}/recording", body)["call"])

    def delete_call(self, call_id: int) -> dict[str, Any]:
        """Delete a call in Aircall: it leaves every list, and ``GET /v1/calls/{id}`` (its
        insights and media too) answers 404. Returns the call as it was."""
        return dict(self._control("DELETE", f"/calls/{call_id}")["deleted"])

    def remove_recording(self, call_id: int) -> dict[str, Any]:
        return dict(self._control("DELETE", f"/calls/{call_id}/recording")["call"])

    def set_faults(self, **kw: Any) -> dict[str, Any]:
        """Replace the fault config (keys: see ``aircall_sandbox.faults.FAULT_KEYS``)."""
        return dict(self._control("POST", "/faults", kw)["faults"])

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    def requests_log(
        self, host: str | None = None, path: str | None = None, path_pattern: str | None = None
    ) -> list[dict[str, Any]]:
        r"""Requests received by ``host`` ("api", "storage", "redirect"; None: all), only
        those of exactly ``path`` or whose whole path matches the regex ``path_pattern``
        (e.g. ``r"/v1/calls/\d+/transcription"``) when given."""
        params = {
            k: v for k, v in (("host", host), ("path", path), ("path_pattern", path_pattern)) if v
        }
        return list(self._control("GET", "/requests", **params)["requests"])

    def request_counts(self, host: str | None = "api") -> dict[str, int]:
        """Requests per path (query strings ignored) received by ``host`` (None: all)."""
        params = {"host": host} if host else {}
        counts = self._control("GET", "/requests/counts", **params)["counts"]
        return {str(k): int(v) for k, v in counts.items()}

    def clear_log(self) -> None:
        self._control("DELETE", "/requests")

    def set_clock_offset(self, seconds: int) -> None:
        """Shift the sandbox clock (URL expiry, retention, new calls' times)."""
        self._control("POST", "/clock", {"offset_seconds": seconds})

    def set_rate_limit(
        self, n: int, window_seconds: float | None = None, bucket_burst: int | None = None
    ) -> None:
        """``n`` API requests per window (0: unlimited); restarts the window. With
        ``bucket_burst`` N > 0, a token bucket holding N (0: back to a fixed window)."""
        body: dict[str, Any] = {"per_minute": n}
        if window_seconds is not None:
            body["window_seconds"] = window_seconds
        if bucket_burst is not None:
            body["bucket_burst"] = bucket_burst
        self._control("POST", "/rate_limit", body)

    def set_url_ttl(self, seconds: int) -> None:
        """Lifetime of recording URLs issued from now on."""
        self._control("POST", "/url_ttl", {"seconds": seconds})

    def expire_recording_urls(self, ids: Iterable[int] | None = None) -> None:
        """Make already-issued URLs expire: for these call ids, or all when None."""
        body: dict[str, Any] = {"all": True} if ids is None else {"ids": list(ids)}
        self._control("POST", "/expire_urls", body)

    def recording_sha256(self, call_id: int) -> str:
        """SHA-256 of the bytes a full GET of this call's recording sends."""
        call = self.call(call_id)
        size = call["served_size"]
        if size is None:
            raise SandboxError(f"call {call_id} has no recording")
        return recording_sha256(call_id, int(size), self.seed)

    def voicemail_sha256(self, call_id: int) -> str:
        call = self.call(call_id)
        if call["voicemail_size"] is None:
            raise SandboxError(f"call {call_id} has no voicemail")
        return voicemail_sha256(call_id, int(call["voicemail_size"]), self.seed)

    # ------------------------------------------------------------ Aircall AI
    def set_ai_mode(self, mode: str) -> None:
        """Aircall AI for the company: "pro" (all nine insights), "on" (no AI Assist Pro:
        403 on its four), "off" or "unverified" (403 on all nine)."""
        self._control("POST", "/ai", {"mode": mode})

    def set_ai_not_ready(self, status: int) -> None:
        """How an insight not there yet is answered: 404 (the default) or 400."""
        self._control("POST", "/ai", {"not_ready": status})

    def ai_mode(self) -> str:
        return str(self._control("GET", "/ai")["mode"])

    def insights(self, call_id: int) -> dict[str, Any]:
        """A call's insights: ``ready_at`` and ``ready`` per insight at the account time,
        ``at`` (that time) and ``overrides``."""
        return dict(self._control("GET", f"/calls/{call_id}/insights"))

    def set_insight_ready(self, call_id: int, **ready_at: int | None) -> dict[str, Any]:
        """Override when insights are ready: ``transcription=``, ``summary=``, ``topics=``,
        ``sentiments=``, ``action_items=``, ``playbook_result=``, ``evaluations=``,
        ``custom_summary_result=``, ``predicted_csat=``, each a sandbox UNIX time or None
        (never).
        Returns :meth:`insights`' view."""
        return dict(self._control("POST", f"/calls/{call_id}/insights", ready_at))

    def clear_insight_ready(self, call_id: int) -> dict[str, Any]:
        """Drop a call's overrides: back to its default schedule."""
        return dict(self._control("DELETE", f"/calls/{call_id}/insights"))

    def account_shape(self) -> dict[str, Any]:
        """User, number and contact ids a day scenario draws from, and the next call id."""
        return dict(self._control("GET", "/account_shape"))

    def load_scenario(self, scenario: dict[str, Any]) -> None:
        """Schedule a day (``aircall_sandbox.scenario.scenario_to_json``); applied lazily."""
        self._control("POST", "/scenario", scenario)

    def set_horizon(self, at: int | None) -> None:
        """Hold the account's scenario at ``min(now, at)``; None: follow the clock."""
        self._control("POST", "/horizon", {"at": at})

    def reset(self) -> None:
        """Back to neutral settings: no faults, no clock offset, empty log, Aircall AI on
        with AI Assist Pro, an insight not there yet answered 404.

        Leaves the rate limit, URL TTL and insight overrides alone (set them explicitly).
        """
        self.clear_faults()
        self.set_clock_offset(0)
        self.clear_log()
        self._control("POST", "/ai", {"mode": "pro", "not_ready": 404})
