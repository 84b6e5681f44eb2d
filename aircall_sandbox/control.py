"""The ``/_sandbox`` control API: how tests look inside and steer the sandbox.

It needs no credentials, is never rate limited, faulted or logged, and speaks
JSON both ways. Each handler returns ``(status, payload)``; ``server.py``
turns that into an HTTP answer.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from .app import SandboxApp
from .faults import FAULT_KEYS, FaultConfigError, parse_faults
from .generator import generate_calls
from .insights import AI_MODES, NOT_READY_STATUSES, RESOURCES
from .model import DAY, ModelError
from .scenario import scenario_from_json

Result = tuple[int, Any]
_Handler = Callable[[SandboxApp, re.Match[str], dict[str, str], dict[str, Any]], Result]

ENDPOINTS: list[tuple[str, str, str]] = []
"""(method, path pattern, summary) of every control endpoint, for ``GET /_sandbox``."""

_ROUTES: list[tuple[str, re.Pattern[str], _Handler]] = []


def _route(method: str, pattern: str, summary: str) -> Callable[[_Handler], _Handler]:
    def register(func: _Handler) -> _Handler:
        regex = re.compile("^/_sandbox" + re.sub(r"\{(\w+)\}", r"(?P<\1>\\d+)", pattern) + "$")
        _ROUTES.append((method, regex, func))
        ENDPOINTS.append((method, "/_sandbox" + pattern, summary))
        return func

    return register


def handle(app: SandboxApp, method: str, path: str, query: dict[str, str], body: Any) -> Result:
    """Dispatch one control request; unknown routes answer 404, bad input 400."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        return 400, {"error": "the request body must be a JSON object"}
    path = path.rstrip("/") or path
    for route_method, regex, func in _ROUTES:
        match = regex.match(path)
        if match and route_method == method:
            try:
                return func(app, match, query, body)
            except ModelError as error:
                return error.status, {"error": str(error)}
            except FaultConfigError as error:
                return 400, {"error": str(error)}
            except (TypeError, ValueError) as error:
                return 400, {"error": str(error)}
    return 404, {"error": f"no control endpoint {method} {path}"}


@_route("GET", "", "this list")
def _index(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    return 200, {
        "endpoints": [{"method": me, "path": p, "summary": s} for me, p, s in ENDPOINTS],
        "fault_keys": list(FAULT_KEYS),
    }


@_route("GET", "/health", "liveness")
def _health(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    return 200, {"ok": True, "now": app.world.now()}


@_route("GET", "/state", "users, calls (?calls=false to omit), settings, faults, now")
def _state(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    world = app.world
    payload: dict[str, Any] = {
        "now": world.now(),
        "start_time": world.start_time,
        "seed": world.seed,
        "api_url": app.api_url,
        "storage_url": app.storage_url,
        "redirect_url": app.redirect_url,
        "settings": app.settings(),
        "faults": app.faults.config.to_dict(),
        "users": [u.to_control() for u in world.sorted_users()],
        "salescaling_emails": world.salescaling_emails(),
    }
    if q.get("calls", "true").lower() != "false":
        payload["calls"] = [c.to_control() for c in world.all_calls()]
    return 200, payload


@_route("GET", "/users", "all users with the salescaling flag")
def _users(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    return 200, {"users": [u.to_control() for u in app.world.sorted_users()]}


@_route("POST", "/users", "add a user: {name, email, salescaling, ...}")
def _add_user(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    extra = {k: v for k, v in b.items() if k not in ("name", "email", "salescaling")}
    user = app.world.add_user(
        str(b.get("name", "New User")),
        str(b.get("email", "new.user@example.com")),
        bool(b.get("salescaling", False)),
        **extra,
    )
    return 201, {"user": user.to_control()}


@_route("PATCH", "/users/{user_id}", "change a user's fields (no timestamp moves)")
def _patch_user(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    user = app.world.update_user(int(m["user_id"]), b)
    return 200, {"user": user.to_control()}


@_route(
    "DELETE",
    "/users/{user_id}",
    "delete a user as Aircall would: gone from /v2/users, still the agent of its calls",
)
def _delete_user(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    user = app.world.delete_user(int(m["user_id"]))
    return 200, {"deleted": user.to_control()}


@_route("GET", "/calls", "all calls in (started_at, id) order, full model")
def _calls(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    return 200, {"calls": [c.to_control() for c in app.world.all_calls()]}


@_route("GET", "/calls/{call_id}", "one call, full model")
def _call(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.get_call(int(m["call_id"]))
    if call is None:
        return 404, {"error": "unknown call"}
    return 200, {"call": call.to_control()}


@_route(
    "POST",
    "/calls",
    "add calls: {count, status: done|in_progress, recording, user_id, started_ago_seconds, "
    "spread_seconds, recording_size, duration, direction, answered, raw_digits, flags...}",
)
def _add_calls(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    calls = app.world.add_calls(b)
    return 201, {"calls": [c.to_control() for c in calls]}


@_route(
    "POST",
    "/calls/bulk",
    "add many generated done calls: {count, days | spread_seconds, end_ago_seconds, "
    "max_recording_size (default 65536, null = realistic)}",
)
def _bulk(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    count = int(b.get("count", 1000))
    if not 1 <= count <= 500_000:
        raise ModelError("count must be between 1 and 500000")
    world = app.world
    now = world.now()
    end = now - max(0, int(b.get("end_ago_seconds", 0)))
    spread = b.get("spread_seconds")
    span = int(spread) if spread is not None else int(float(b.get("days", 10)) * DAY)
    if span < 0:
        raise ModelError("spread must be >= 0")
    max_size = b.get("max_recording_size", 65_536)
    with world.lock:
        app.bulk_batches += 1
        rng = random.Random(f"aircall-sandbox-bulk:{world.seed}:{app.bulk_batches}")
        calls = generate_calls(
            world, rng, count, end - span, end, max_size=None if max_size is None else int(max_size)
        )
    return 201, {
        "created": len(calls),
        "first_id": calls[0].id,
        "last_id": calls[-1].id,
        "min_started_at": min(c.started_at for c in calls),
        "max_started_at": max(c.started_at for c in calls),
        "total_calls": len(world.calls),
    }


@_route("PATCH", "/calls/{call_id}", "rewrite fields of a call (duration, started_at, ...)")
def _patch_call(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.update_call(int(m["call_id"]), b)
    return 200, {"call": call.to_control()}


@_route(
    "DELETE",
    "/calls/{call_id}",
    "delete a call as Aircall would: gone from lists, GET /v1/calls/{id} answers 404",
)
def _delete_call(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.delete_call(int(m["call_id"]))
    return 200, {"deleted": call.to_control()}


@_route(
    "POST",
    "/calls/{call_id}/tags",
    "a person tags the call: {name, tagged_by_id (default its agent; null: unknown), "
    "tagged_at (default now)}",
)
def _tag(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.annotate_call(int(m["call_id"]), "tags", b)
    return 201, {"call": call.to_control()}


@_route(
    "POST",
    "/calls/{call_id}/comments",
    "an agent comments the call: {content, posted_by_id (default its agent), "
    "posted_at (default now)}",
)
def _comment(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.annotate_call(int(m["call_id"]), "comments", b)
    return 201, {"call": call.to_control()}


@_route("POST", "/calls/{call_id}/finish", "end a call: {recording, recording_size, duration}")
def _finish(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.finish_call(int(m["call_id"]), b)
    return 200, {"call": call.to_control()}


@_route(
    "POST",
    "/calls/{call_id}/recording",
    "attach/replace a recording: {size, no_content_length, short_body, lying_length, "
    "lying_actual_size, redirect, fail_next, fail_always}",
)
def _attach(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.attach_recording(int(m["call_id"]), b)
    return 200, {"call": call.to_control()}


@_route("DELETE", "/calls/{call_id}/recording", "remove a call's recording")
def _detach(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    call = app.world.remove_recording(int(m["call_id"]))
    return 200, {"call": call.to_control()}


@_route("GET", "/faults", "the current fault config")
def _get_faults(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    return 200, {"faults": app.faults.config.to_dict()}


@_route("POST", "/faults", "set faults (replaces the previous config); see fault_keys")
def _set_faults(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    config = parse_faults(b)
    app.faults.set(config)
    if b.get("expire_all_urls"):
        app.signer.revoke_all()
    return 200, {"faults": config.to_dict()}


@_route("DELETE", "/faults", "clear all faults")
def _clear_faults(
    app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]
) -> Result:
    app.faults.clear()
    return 200, {"faults": app.faults.config.to_dict()}


@_route(
    "GET",
    "/requests",
    "request log (?host=api|storage|redirect, ?path=exact path, ?path_pattern=regex "
    "matching the whole path)",
)
def _requests(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    pattern = q.get("path_pattern") or None
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ModelError(f"path_pattern is not a regex: {error}") from error
    entries = app.log.entries(q.get("host") or None, q.get("path") or None, pattern)
    return 200, {"requests": entries}


@_route("GET", "/requests/counts", "requests per path, query strings ignored (?host=...)")
def _request_counts(
    app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]
) -> Result:
    return 200, {"counts": app.log.counts(q.get("host") or None)}


@_route("DELETE", "/requests", "clear the request log")
def _clear_requests(
    app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]
) -> Result:
    app.log.clear()
    return 200, {"requests": []}


@_route(
    "POST",
    "/rate_limit",
    "{per_minute (0 = off), window_seconds (default 60), "
    "bucket_burst (0 = fixed window; N = token bucket holding N)}",
)
def _rate_limit(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    limit = int(b.get("per_minute", app.limiter.limit))
    window = b.get("window_seconds")
    burst = b.get("bucket_burst")
    if limit < 0 or (window is not None and float(window) <= 0):
        raise ModelError("per_minute must be >= 0 and window_seconds > 0")
    if burst is not None and int(burst) < 0:
        raise ModelError("bucket_burst must be >= 0")
    app.limiter.configure(
        limit, None if window is None else float(window), None if burst is None else int(burst)
    )
    return 200, {"settings": app.settings()}


@_route("POST", "/url_ttl", "{seconds}: lifetime of recording URLs issued from now on")
def _url_ttl(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    seconds = int(b["seconds"])
    if seconds < 0:
        raise ModelError("seconds must be >= 0")
    app.signer.ttl = seconds
    return 200, {"settings": app.settings()}


@_route("POST", "/clock", "{offset_seconds}: shift the sandbox clock (URL expiry, retention)")
def _clock(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    app.world.clock_offset = int(b.get("offset_seconds", 0))
    return 200, {"now": app.world.now(), "settings": app.settings()}


@_route("POST", "/expire_urls", "{ids: [...]} or {all: true}: revoke URLs issued so far")
def _expire(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    if b.get("all") or b.get("ids") is None:
        app.signer.revoke_all()
        return 200, {"expired": "all"}
    ids = [int(i) for i in b["ids"]]
    count = app.world.expire_urls(ids, app.signer.next_serial())
    return 200, {"expired": count}


def _ai_view(app: SandboxApp) -> dict[str, Any]:
    return {"mode": app.ai_mode, "modes": list(AI_MODES), "not_ready": app.ai_not_ready}


@_route(
    "GET", "/ai", "Aircall AI for the company: {mode: pro|on|off|unverified, not_ready: 404|400}"
)
def _get_ai(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    return 200, _ai_view(app)


@_route(
    "POST",
    "/ai",
    "{mode: pro|on|off|unverified, not_ready: 404|400} (either key): on makes the four "
    "AI Assist Pro endpoints answer 403, off and unverified all nine insight endpoints "
    "(calls and users still answer); not_ready: the status of an insight not there yet",
)
def _set_ai(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    mode, not_ready = b.get("mode", app.ai_mode), b.get("not_ready", app.ai_not_ready)
    if mode not in AI_MODES:
        raise ModelError(f"mode must be one of {list(AI_MODES)}")
    if not_ready not in NOT_READY_STATUSES:
        raise ModelError(f"not_ready must be one of {list(NOT_READY_STATUSES)}")
    app.ai_mode, app.ai_not_ready = str(mode), int(not_ready)
    return 200, _ai_view(app)


@_route(
    "GET",
    "/calls/{call_id}/insights",
    "a call's Aircall AI: ready_at and ready per insight at the account time, overrides",
)
def _insights(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    return 200, app.world.insight_view(int(m["call_id"]))


@_route(
    "POST",
    "/calls/{call_id}/insights",
    "override ready times: {" + ", ".join(RESOURCES) + "} each a UNIX time or null (never); "
    "keys left out keep their value",
)
def _set_insights(
    app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]
) -> Result:
    return 200, app.world.set_insight_times(int(m["call_id"]), b)


@_route("DELETE", "/calls/{call_id}/insights", "drop a call's overrides (back to its default)")
def _clear_insights(
    app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]
) -> Result:
    return 200, app.world.clear_insight_times(int(m["call_id"]))


@_route("GET", "/account_shape", "user, number and contact ids a day scenario draws from")
def _shape(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    world = app.world
    numbers = list(world.numbers.values())
    return 200, {
        "user_ids": sorted(world.users),
        "salescaling_user_ids": sorted(u.id for u in world.users.values() if u.salescaling),
        "recording_number_ids": [n.id for n in numbers if n.live_recording_activated],
        "silent_number_ids": [n.id for n in numbers if not n.live_recording_activated],
        "contact_ids": sorted(world.contacts),
        "next_call_id": world.next_call_id,
    }


@_route("POST", "/scenario", "schedule a day (see aircall_sandbox.scenario.scenario_to_json)")
def _scenario(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    scenario = scenario_from_json(b)
    app.world.load_scenario(scenario)
    return 201, {"history": len(scenario.history), "calls": len(scenario.calls)}


@_route("POST", "/horizon", "{at}: the account shows its scenario up to min(now, at); null: now")
def _horizon(app: SandboxApp, m: re.Match[str], q: dict[str, str], b: dict[str, Any]) -> Result:
    at = b.get("at")
    app.world.scenario_horizon = None if at is None else int(at)
    return 200, {"horizon": app.world.scenario_horizon, "now": app.world.now()}
