"""Fault injection, the rate limiter (fixed window or token bucket) and the request log.

These are the parts of the sandbox that exist to test a client's resilience:
they decide, per API request, whether to drop the connection, stall, answer
429 or 5xx, or garble JSON, and they keep the record tests use to prove what
a client sent. Faults are driven by counters and a ``random.Random`` seeded
from the fault config, so a sequential client sees the same faults on every
run.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

ERROR_STATUSES_DEFAULT = (500, 502, 503)


class FaultConfigError(ValueError):
    """A fault config the sandbox does not understand (answered with 400)."""


@dataclass
class FaultConfig:
    """What to break. Every key is optional; see ``FAULT_KEYS`` for the list."""

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = ERROR_STATUSES_DEFAULT
    error_next: int = 0
    burst_429: int = 0
    reset_unit: str = "s"
    reset_after_seconds: float = 1.0
    omit_reset_header: bool = False
    drop_rate: float = 0.0
    drop_next: int = 0
    slow_rate: float = 0.0
    slow_next: int = 0
    slow_seconds: float = 5.0
    malformed_json_next: int = 0
    latency_ms: int = 0
    path_prefix: str | None = None
    seed: int = 0
    # Media URLs in call *lists* are signed already expired (as if the list was read an
    # hour ago); `GET /v1/calls/{id}` still signs fresh ones.
    stale_list_urls: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "error_statuses": list(self.error_statuses),
            "error_next": self.error_next,
            "burst_429": self.burst_429,
            "reset_unit": self.reset_unit,
            "reset_after_seconds": self.reset_after_seconds,
            "omit_reset_header": self.omit_reset_header,
            "drop_rate": self.drop_rate,
            "drop_next": self.drop_next,
            "slow_rate": self.slow_rate,
            "slow_next": self.slow_next,
            "slow_seconds": self.slow_seconds,
            "malformed_json_next": self.malformed_json_next,
            "latency_ms": self.latency_ms,
            "path_prefix": self.path_prefix,
            "seed": self.seed,
            "stale_list_urls": self.stale_list_urls,
        }


FAULT_KEYS = (*FaultConfig().to_dict().keys(), "expire_all_urls")


def parse_faults(body: dict[str, Any], base: FaultConfig | None = None) -> FaultConfig:
    """Merge a control request into a config (``base`` keeps keys not mentioned)."""
    unknown = set(body) - set(FAULT_KEYS)
    if unknown:
        raise FaultConfigError(f"unknown fault keys: {sorted(unknown)}")
    config = FaultConfig(**(base.to_dict() if base else {}))
    config.error_statuses = tuple(config.error_statuses)
    try:
        for key, value in body.items():
            if key == "expire_all_urls":
                continue
            if key == "error_statuses":
                statuses = tuple(int(v) for v in value)
                if not statuses or any(s < 400 or s > 599 for s in statuses):
                    raise FaultConfigError("error_statuses must be HTTP 4xx/5xx codes")
                config.error_statuses = statuses
            elif key in ("error_rate", "drop_rate", "slow_rate"):
                rate = float(value)
                if not 0.0 <= rate <= 1.0:
                    raise FaultConfigError(f"{key} must be between 0 and 1")
                setattr(config, key, rate)
            elif key in ("reset_after_seconds", "slow_seconds"):
                setattr(config, key, max(0.0, float(value)))
            elif key == "reset_unit":
                if value not in ("s", "ms"):
                    raise FaultConfigError("reset_unit must be 's' or 'ms'")
                config.reset_unit = value
            elif key in ("omit_reset_header", "stale_list_urls"):
                setattr(config, key, bool(value))
            elif key == "path_prefix":
                config.path_prefix = None if value is None else str(value)
            else:
                setattr(config, key, max(0, int(value)))
    except (TypeError, ValueError) as error:
        if isinstance(error, FaultConfigError):
            raise
        raise FaultConfigError(str(error)) from error
    return config


@dataclass(frozen=True)
class Decision:
    """What to do with one API request before routing it."""

    action: str = "pass"  # pass | drop | error | rate_limited
    status: int = 0
    slow_seconds: float = 0.0


class Faults:
    """The live fault state; thread-safe. Control requests are never faulted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._rng = random.Random(0)
        self._status_turn = 0

    def set(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(f"aircall-sandbox-faults:{config.seed}")
            self._status_turn = 0

    def clear(self) -> None:
        self.set(FaultConfig())

    def latency(self) -> float:
        """Seconds added to every API and storage answer."""
        return self.config.latency_ms / 1000.0

    def decide(self, path: str) -> Decision:
        """Roll the dice for one API request, in a fixed order, under the lock.

        Counters (``*_next``, ``burst_429``) come first, then rates; the
        random draws happen on every request so the sequence of outcomes only
        depends on the seed and the number of requests.
        """
        with self._lock:
            c = self.config
            if c.path_prefix is not None and not path.startswith(c.path_prefix):
                return Decision()
            r_drop, r_slow, r_error = self._rng.random(), self._rng.random(), self._rng.random()
            if c.drop_next > 0:
                c.drop_next -= 1
                return Decision("drop")
            if r_drop < c.drop_rate:
                return Decision("drop")
            slow = 0.0
            if c.slow_next > 0:
                c.slow_next -= 1
                slow = c.slow_seconds
            elif r_slow < c.slow_rate:
                slow = c.slow_seconds
            if c.burst_429 > 0:
                c.burst_429 -= 1
                return Decision("rate_limited", 429, slow)
            if c.error_next > 0 or r_error < c.error_rate:
                c.error_next = max(0, c.error_next - 1)
                status = c.error_statuses[self._status_turn % len(c.error_statuses)]
                self._status_turn += 1
                return Decision("error", status, slow)
            return Decision("pass", 0, slow)

    def take_malformed(self) -> bool:
        """True when this successful JSON answer must be sent truncated."""
        with self._lock:
            if self.config.malformed_json_next > 0:
                self.config.malformed_json_next -= 1
                return True
            return False

    def reset_header(self, reset_at: float) -> str | None:
        """The ``X-AircallApi-Reset`` value in the configured unit (or None to omit it)."""
        if self.config.omit_reset_header:
            return None
        if self.config.reset_unit == "ms":
            return str(int(reset_at * 1000))
        return str(int(reset_at + 0.999))


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Per API id: ``limit`` requests per ``window`` seconds, in one of two ways.

    - ``burst == 0``: a fixed window. It mimics "over the limit blocks you until the
      reset": once refused, every request is refused until the window ends.
    - ``burst > 0``: a token bucket refilled evenly at ``limit / window`` tokens a
      second, holding at most ``burst`` (full at the start); a request takes one token
      or is refused (a refused request takes none). This is the strictest reading of
      "N a minute": a client must space its requests evenly, bursts of more than
      ``burst`` are refused even when the minute's total is within the limit.

    ``limit=0`` disables it. Counts in real time (requests arrive in real time, whatever
    the sandbox clock says); the server moves the reset it announces onto the sandbox
    clock. ``hit`` takes ``now`` for tests.
    """

    limit: int = 120
    window: float = 60.0
    burst: int = 0
    _windows: dict[str, _Window] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, limit: int, window: float | None = None, burst: int | None = None) -> None:
        with self._lock:
            self.limit = limit
            if window is not None:
                self.window = window
            if burst is not None:
                self.burst = burst
            self._windows.clear()
            self._buckets.clear()

    def hit(self, key: str, now: float | None = None) -> tuple[bool, float]:
        """Count one request; returns (allowed, reset time as UNIX seconds)."""
        current = time.time() if now is None else now
        with self._lock:
            if self.limit > 0 and self.burst > 0:
                return self._take_token(key, current)
            slot = self._windows.get(key)
            if slot is None or current >= slot.started + self.window:
                slot = _Window(current)
                self._windows[key] = slot
            reset_at = slot.started + self.window
            if self.limit <= 0:
                return True, reset_at
            slot.count += 1
            return slot.count <= self.limit, reset_at

    def _take_token(self, key: str, now: float) -> tuple[bool, float]:
        per_second = self.limit / self.window
        bucket = self._buckets.setdefault(key, _Bucket(float(self.burst), now))
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True, now + max(0.0, 1.0 - bucket.tokens) / per_second
        return False, now + (1.0 - bucket.tokens) / per_second


class RequestLog:
    """What every host received: the evidence tests use (auth leaks, ranges, paging).

    Entries are dicts shared with the handler that made them, so the handler
    can fill in ``status`` and ``bytes_sent`` after the answer went out.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(
        self, host: str | None = None, path: str | None = None, path_pattern: str | None = None
    ) -> list[dict[str, Any]]:
        """Entries of ``host``, of exactly ``path``, of paths that fully match the regex
        ``path_pattern`` (each None: any). Paths carry no query string:
        ``/v1/calls/123/transcription``."""
        pattern = re.compile(path_pattern) if path_pattern is not None else None
        with self._lock:
            return [
                dict(e)
                for e in self._entries
                if (host is None or e["host"] == host)
                and (path is None or e["path"] == path)
                and (pattern is None or pattern.fullmatch(e["path"]))
            ]

    def counts(self, host: str | None = None) -> dict[str, int]:
        """Requests per path (query strings ignored), e.g. to count insight requests per call."""
        with self._lock:
            return dict(
                Counter(e["path"] for e in self._entries if host is None or e["host"] == host)
            )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
