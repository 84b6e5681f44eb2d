"""The HTTP side of the sandbox: the API host and the storage host(s).

Three ``ThreadingHTTPServer``s on different loopback addresses, so a client
sees distinct hosts exactly as it would with Aircall (``api.aircall.io``) and
its storage provider: the API on 127.0.0.1, recordings on 127.0.0.2, and a
second storage alias on 127.0.0.3 that ``redirect`` recordings bounce to.
Distinct hosts matter: HTTP clients decide whether to forward an
``Authorization`` header by host, and the request log records what arrived.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import control, insights
from .account import SandboxWorld
from .app import SandboxApp
from .errors import FORBIDDEN_REASON, troubleshoot_body
from .model import SandboxCall
from .recordings import VOICEMAIL_SEED_OFFSET, recording_range

MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 20
POSITION_CAP = 10_000
CAP_MESSAGE = (
    "Your query is limited to 10k results and pagination is out of bound, "
    "please use timestamps or other filters."
)
_MEDIA = re.compile(r"^/(recordings|voicemails)/(\d+)\.mp3$")
_SHORT = re.compile(r"^/short/(recordings|voicemails)/(\d+)$")
_ASSET = re.compile(r"^/assets/calls/(\d+)(?:/(?:recording|voicemail))?$")
_CALL = re.compile(r"^/v1/calls/(\d+)$")
_INSIGHT = re.compile(r"^/v1/calls/(\d+)/(" + "|".join(insights.RESOURCES) + ")$")
_USER = re.compile(r"^/v2/users/(\d+)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_GATEWAY_STATUSES = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class BadRequest(Exception):
    """An invalid API parameter: answered with Aircall's 400 error shape."""


def bad_request_body(errors: str) -> dict[str, Any]:
    """Aircall's application error body."""
    return {
        "error": "Bad Request",
        "message": "BAD_REQUEST",
        "errors": errors,
        "troubleshoot": "BAD_REQUEST",
        "success": False,
        "data": None,
    }


def _flat_query(raw: str) -> dict[str, Any]:
    """Query string as a dict: one value as a string, repeated keys as a list."""
    parsed = parse_qs(raw, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _s3_error(code: str, message: str, extra: str = "") -> bytes:
    request_id = f"{time.time_ns() & 0xFFFFFFFFFFFF:016X}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId><HostId>sandbox</HostId></Error>"
    ).encode()


class _Server(ThreadingHTTPServer):
    """A threading server that knows its sandbox and its name in the request log."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.app: SandboxApp | None = None
        self.label = "api"


class _Handler(BaseHTTPRequestHandler):
    """Shared plumbing: HTTP/1.1 keep-alive, quiet logging, JSON/bytes answers."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the client's
    # delayed ACK would add 40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    # Idle keep-alive connections and stalled downloads free their thread.
    timeout = 120
    server: _Server

    def version_string(self) -> str:
        """The ``Server`` header, without Python's version in it."""
        return "AircallSandbox/1.0"

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header on the sandbox's clock (its offset included), as Aircall
        stamps its answers with its own: moving the clock moves the Date too."""
        if timestamp is None and self.server.app is not None:
            timestamp = self.server.app.world.now()
        return super().date_time_string(timestamp)

    @property
    def app(self) -> SandboxApp:
        assert self.server.app is not None
        return self.server.app

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log: the request log replaces it."""

    def _read_body(self) -> bytes:
        """Read (and so drain) a request body, keeping the connection reusable."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        head_only: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only and self.command != "HEAD":  # a HEAD answer never has a body
            self.wfile.write(body)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _start_entry(self, label: str) -> dict[str, Any]:
        parts = urlsplit(self.path)
        return self.app.log.add(
            {
                "t": time.time(),
                "host": label,
                "method": self.command,
                "path": parts.path,
                "query": _flat_query(parts.query),
                "status": None,
                "authorization": self.headers.get("Authorization") is not None,
                "range": self.headers.get("Range"),
                "bytes_sent": 0,
            }
        )


class ApiHandler(_Handler):
    """The Aircall API (``/v1``, ``/v2``) plus the ``/_sandbox`` control API."""

    def _dispatch(self) -> None:
        """Every HTTP method comes here; the control or the Aircall API decides what it takes."""
        parts = urlsplit(self.path)
        body = self._read_body()
        if parts.path == "/_sandbox" or parts.path.startswith("/_sandbox/"):
            self._control(parts.path, parts.query, body)
            return
        entry = self._start_entry("api")
        status = self._api(parts.path, parts.query)
        entry["status"] = status

    # http.server calls do_<METHOD>: one dispatcher answers them all.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    # ----------------------------------------------------------------- control
    def _control(self, path: str, raw_query: str, raw_body: bytes) -> None:
        try:
            body = json.loads(raw_body) if raw_body.strip() else None
        except ValueError:
            self._send_json(400, {"error": "invalid JSON body"})
            return
        query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
        status, payload = control.handle(self.app, self.command, path, query, body)
        self._send_json(status, payload)

    # --------------------------------------------------------------------- API
    def _api(self, path: str, raw_query: str) -> int | None:
        """Answer one API request; returns the status sent (None if dropped)."""
        app = self.app
        latency = app.faults.latency()
        if latency:
            time.sleep(latency)
        decision = app.faults.decide(path)
        if decision.slow_seconds:
            time.sleep(decision.slow_seconds)
        if decision.action == "drop":
            self.close_connection = True
            return None
        if decision.action == "rate_limited":
            self._too_many(time.time() + app.faults.config.reset_after_seconds)
            return 429
        if decision.action == "error":
            self._server_error(decision.status)
            return decision.status
        auth = app.check_auth(self.headers.get("Authorization"))
        if auth == 401:
            self._send_json(401, {"message": "Unauthorized"})
            return 401
        if auth == 403:
            self._send_json(403, {"message": "Forbidden"})
            return 403
        allowed, reset_at = app.limiter.hit(app.api_id)
        if not allowed:
            self._too_many(reset_at)
            return 429
        if self.command not in ("GET", "HEAD"):
            self._send_json(404, {"message": "Not Found"})
            return 404
        try:
            status, payload = self._route(path, _flat_query(raw_query))
        except BadRequest as error:
            status, payload = 400, bad_request_body(str(error))
        if status == 200 and app.faults.take_malformed():
            text = json.dumps(payload).encode()
            self._send(200, text[: max(1, len(text) // 2)], "application/json")
            return 200
        self._send_json(status, payload)
        return status

    def _too_many(self, reset_at: float) -> None:
        app = self.app
        headers = {
            "X-AircallApi-Limit": str(app.limiter.limit or 120),
            "X-AircallApi-Remaining": "0",
        }
        # On the sandbox clock: a client run with its clock moved to the sandbox's (the
        # simulated day) compares the reset with that clock.
        reset = app.faults.reset_header(reset_at + app.world.clock_offset)
        if reset is not None:
            headers["X-AircallApi-Reset"] = reset
        self._send_json(429, {"message": "Too Many Requests"}, headers)

    def _server_error(self, status: int) -> None:
        if status in _GATEWAY_STATUSES:
            text = _GATEWAY_STATUSES[status]
            body = f"<html><body><h1>{status} {text}</h1></body></html>\n".encode()
            self._send(status, body, "text/html")
        elif status == 429:
            self._too_many(time.time() + self.app.faults.config.reset_after_seconds)
        elif status >= 500:
            self._send_json(status, {"message": "Internal Server Error"})
        elif status == 403:
            self._send_json(status, troubleshoot_body("Forbidden", FORBIDDEN_REASON))
        else:
            self._send_json(status, bad_request_body("Injected error"))

    def _route(self, path: str, query: dict[str, Any]) -> tuple[int, Any]:
        if path == "/v1/ping":
            return 200, {"ping": "pong"}
        if path == "/v1/calls":
            return 200, self._list_calls(path, query, None)
        if path == "/v1/calls/search":
            return 200, self._list_calls(path, query, _search_predicate(query))
        match = _CALL.match(path)
        if match:
            call = self.app.world.get_call(int(match[1]))
            if call is None:
                return 404, {"message": "Not Found"}
            fetch_short = query.get("fetch_short_urls") == "true"
            return 200, {
                "call": self.app.renderer.call(
                    call, fetch_contact=True, fetch_short_urls=fetch_short
                )
            }
        match = _INSIGHT.match(path)
        if match:
            return self._insight(int(match[1]), match[2])
        if path == "/v2/users":
            return 200, self._list_users(path, query)
        match = _USER.match(path)
        if match:
            user = self.app.world.listed_user(int(match[1]))
            if user is None:
                return 404, {"message": "Not Found"}
            return 200, {"user": self.app.renderer.user(user)}
        return 404, {"message": "Not Found"}

    def _insight(self, call_id: int, resource: str) -> tuple[int, Any]:
        """An Aircall AI endpoint: 403 for the whole company (or, for the AI Assist Pro
        resources, for want of the licence) before any "not there (yet)" of a call, which
        is a 404 or, as Aircall's reference lists it, a 400."""
        refusal = insights.refusal(self.app.ai_mode, resource)
        if refusal is not None:
            return 403, dict(refusal)
        body = self.app.world.insight(call_id, resource)
        if body is None:
            if self.app.ai_not_ready == 400:
                return 400, {"message": "Bad Request: the resource is not available yet."}
            return 404, {"message": "Not Found"}
        return 200, body

    def _paging(self, query: dict[str, Any]) -> tuple[int, int]:
        """``page``/``per_page`` with Aircall's clamp and its positional 10k cap."""
        page = _int_param(query, "page", 1)
        per_page = _int_param(query, "per_page", DEFAULT_PER_PAGE)
        if page is None or page < 1:
            raise BadRequest("page must be a positive integer")
        if per_page is None or per_page < 1:
            raise BadRequest("per_page must be a positive integer")
        per_page = min(per_page, MAX_PER_PAGE)
        if page * per_page > POSITION_CAP:
            raise BadRequest(CAP_MESSAGE)
        return page, per_page

    def _meta(
        self, path: str, query: dict[str, Any], page: int, per_page: int, count: int, total: int
    ) -> dict[str, Any]:
        def link(target: int) -> str:
            params = dict(query)
            params["page"] = str(target)
            params["per_page"] = str(per_page)
            return f"{self.app.api_url}{path}?{urlencode(params, doseq=True)}"

        return {
            "count": count,
            "total": total,
            "current_page": page,
            "per_page": per_page,
            "next_page_link": link(page + 1) if page * per_page < total else None,
            "previous_page_link": link(page - 1) if page > 1 else None,
        }

    def _list_calls(self, path: str, query: dict[str, Any], predicate: Any) -> dict[str, Any]:
        from_ = _int_param(query, "from", None)
        to = _int_param(query, "to", None)
        if "from" in query and query["from"] != "" and from_ is None:
            raise BadRequest("from must be a UNIX timestamp (integer seconds)")
        if "to" in query and query["to"] != "" and to is None:
            raise BadRequest("to must be a UNIX timestamp (integer seconds)")
        order = query.get("order") or "asc"
        if order not in ("asc", "desc"):
            raise BadRequest("order must be asc or desc")
        page, per_page = self._paging(query)
        total, calls = self.app.world.query_calls(
            from_, to, order == "desc", (page - 1) * per_page, per_page, predicate
        )
        renderer = self.app.renderer
        fetch_contact = query.get("fetch_contact") == "true"
        fetch_short = query.get("fetch_short_urls") == "true"
        signed_at = None
        if self.app.faults.config.stale_list_urls:
            signed_at = self.app.world.now() - renderer.signer.ttl - 1
        items = [renderer.call(c, fetch_contact, fetch_short, signed_at) for c in calls]
        return {
            "calls": items,
            "meta": self._meta(path, query, page, per_page, len(items), total),
        }

    def _list_users(self, path: str, query: dict[str, Any]) -> dict[str, Any]:
        page, per_page = self._paging(query)
        users = self.app.world.sorted_users()
        chunk = users[(page - 1) * per_page : page * per_page]
        renderer = self.app.renderer
        return {
            "users": [renderer.user(u) for u in chunk],
            "meta": self._meta(path, query, page, per_page, len(chunk), len(users)),
        }


def _int_param(query: dict[str, Any], name: str, default: int | None) -> int | None:
    """An integer query parameter; None when present but not an integer."""
    value = query.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, list):
        value = value[-1]
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,19}", text):
        return None
    return int(text)


def _search_predicate(query: dict[str, Any]) -> Any:
    """Filters of ``/v1/calls/search``: user_id, phone_number, direction, tags[]."""
    user_id = _int_param(query, "user_id", None)
    if "user_id" in query and user_id is None:
        raise BadRequest("user_id must be an integer")
    direction = query.get("direction")
    if direction is not None and direction not in ("inbound", "outbound"):
        raise BadRequest("direction must be inbound or outbound")
    phone = query.get("phone_number")
    raw_tags = query.get("tags[]")
    tags = set(raw_tags if isinstance(raw_tags, list) else [raw_tags] if raw_tags else [])

    def predicate(call: SandboxCall) -> bool:
        if user_id is not None and call.user_id != user_id:
            return False
        if direction is not None and call.direction != direction:
            return False
        if phone and phone.replace(" ", "") not in call.raw_digits.replace(" ", ""):
            return False
        return not tags or bool(tags & {tag.name for tag in call.tags})

    return predicate


class StorageHandler(_Handler):
    """The storage host: pre-signed MP3 downloads, Range, and per-call faults."""

    def do_GET(self) -> None:
        self._read_body()
        entry = self._start_entry(self.server.label)
        try:
            self._get(entry)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_HEAD(self) -> None:
        """Pre-signed URLs are signed for GET: HEAD is always refused."""
        self._read_body()
        entry = self._start_entry(self.server.label)
        body = _s3_error("AccessDenied", "Access Denied")
        self._send(403, body, "application/xml", head_only=True)
        entry["status"] = 403

    def _refuse(self) -> None:
        self._read_body()
        entry = self._start_entry(self.server.label)
        body = _s3_error("MethodNotAllowed", "The specified method is not allowed")
        self._send(405, body, "application/xml")
        entry["status"] = 405

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def _xml(self, entry: dict[str, Any], status: int, body: bytes) -> None:
        self._send(status, body, "application/xml")
        entry["status"] = status

    def _get(self, entry: dict[str, Any]) -> None:
        app = self.app
        latency = app.faults.latency()
        if latency:
            time.sleep(latency)
        parts = urlsplit(self.path)
        path = parts.path
        asset = _ASSET.match(path)
        if asset:
            page = b"<html><body>Please sign in to Aircall to view this call.</body></html>"
            self._send(200, page, "text/html; charset=utf-8")
            entry["status"] = 200
            return
        if app.storage_rejects_auth and self.headers.get("Authorization") is not None:
            self._xml(
                entry,
                400,
                _s3_error(
                    "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                    "Signature query string parameter or the Authorization header should be "
                    "specified",
                ),
            )
            return
        media = _MEDIA.match(path) or _SHORT.match(path)
        if media is None:
            self._xml(entry, 404, _s3_error("NoSuchKey", "The specified key does not exist."))
            return
        kind, call_id = media[1], int(media[2])
        call = app.world.get_call(call_id)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        verdict = app.signer.check(path, query, app.world.now(), call.url_serial_min if call else 0)
        if verdict.verdict.value == "missing":
            message = "Query-string authentication requires the Signature and Expires parameters"
            self._xml(entry, 403, _s3_error("AccessDenied", message))
            return
        if verdict.verdict.value == "bad_signature":
            message = (
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method."
            )
            self._xml(entry, 403, _s3_error("SignatureDoesNotMatch", message))
            return
        if verdict.verdict.value == "expired":
            expires = datetime.fromtimestamp(verdict.expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            server_time = datetime.fromtimestamp(app.world.now(), UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            extra = f"<Expires>{expires}</Expires><ServerTime>{server_time}</ServerTime>"
            self._xml(entry, 403, _s3_error("AccessDenied", "Request has expired", extra))
            return
        has_file = call is not None and (
            call.has_recording if kind == "recordings" else call.has_voicemail
        )
        if call is None or not has_file:
            self._xml(entry, 404, _s3_error("NoSuchKey", "The specified key does not exist."))
            return
        if path.startswith("/short/"):
            target = app.signer.sign(app.storage_url, f"/{kind}/{call_id}.mp3", app.world.now())
            self._redirect(entry, target)
            return
        if kind == "recordings" and app.world.consume_fail(call):
            self._xml(entry, 503, _s3_error("SlowDown", "Please reduce your request rate."))
            return
        if kind == "recordings" and call.redirect and self.server.label != "redirect":
            target = app.signer.sign(app.redirect_url, path, app.world.now())
            self._redirect(entry, target)
            return
        self._stream(entry, call, kind)

    def _redirect(self, entry: dict[str, Any], location: str) -> None:
        self._send(302, b"", "application/xml", {"Location": location})
        entry["status"] = 302

    def _stream(self, entry: dict[str, Any], call: SandboxCall, kind: str) -> None:
        """Send the file (or a range of it) honouring the call's fault flags."""
        world: SandboxWorld = self.app.world
        if kind == "voicemails":
            announced = call.voicemail_size or 0
            actual = announced
            seed = world.seed + VOICEMAIL_SEED_OFFSET
            chunked = short = False
        else:
            announced = call.recording_size or 0
            actual = call.served_size
            seed = world.seed
            chunked = call.no_content_length or call.lying_length
            short = call.short_body
        status, start, stop = 200, 0, actual
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": f'"{call.id:x}{announced:x}"',
            "Last-Modified": datetime.fromtimestamp(call.ended_at or call.started_at, UTC).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"
            ),
            "x-amz-request-id": f"{call.id:X}",
        }
        range_header = self.headers.get("Range")
        if range_header:
            parsed = _parse_range(range_header, announced)
            if parsed == "unsatisfiable":
                self._send(
                    416,
                    _s3_error("InvalidRange", "The requested range is not satisfiable"),
                    "application/xml",
                    {"Content-Range": f"bytes */{announced}"},
                )
                entry["status"] = 416
                return
            if isinstance(parsed, tuple):
                status, start, stop = 206, parsed[0], parsed[1]
                headers["Content-Range"] = f"bytes {start}-{stop - 1}/{announced}"
        length = stop - start
        self.send_response(status)
        self.send_header("Content-Type", "audio/mpeg")
        for name, value in headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        if short:
            self.send_header("Connection", "close")
        self.end_headers()
        entry["status"] = status
        limit = length // 2 if short else length
        sent = 0
        write = self.wfile.write
        for piece in recording_range(call.id, seed, start, start + limit):
            if chunked:
                write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                write(piece)
            sent += len(piece)
            entry["bytes_sent"] = sent
        if short:
            self.close_connection = True
            return
        if chunked:
            write(b"0\r\n\r\n")


def _parse_range(header: str, total: int) -> tuple[int, int] | str | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` -> (start, stop); None = ignore."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match[1], match[2]
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, total - suffix), total
    start = int(first)
    if start >= total:
        return "unsatisfiable"
    stop = total if last == "" else min(total, int(last) + 1)
    if stop <= start:
        return None
    return start, stop


class SandboxServer:
    """Binds, runs and stops the three servers of one sandbox."""

    def __init__(
        self,
        world: SandboxWorld,
        *,
        api_host: str = "127.0.0.1",
        api_port: int = 0,
        storage_host: str = "127.0.0.2",
        storage_port: int = 0,
        redirect_host: str = "127.0.0.3",
        redirect_port: int = 0,
        api_id: str = "demo-id",
        api_token: str = "demo-token",
        rate_limit: int = 120,
        url_ttl: int = 3600,
        storage_rejects_auth: bool = True,
        media_url: str | None = None,
        ai_mode: str = "pro",
        ai_not_ready: int = 404,
    ) -> None:
        if ai_mode not in insights.AI_MODES:
            raise ValueError(f"ai_mode must be one of {sorted(insights.AI_MODES)}")
        if ai_not_ready not in insights.NOT_READY_STATUSES:
            raise ValueError(f"ai_not_ready must be one of {insights.NOT_READY_STATUSES}")
        self._api = _Server((api_host, api_port), ApiHandler)
        self._storage = _Server((storage_host, storage_port), StorageHandler)
        self._redirect = _Server((redirect_host, redirect_port), StorageHandler)
        self.app = SandboxApp(
            world=world,
            api_url=_base(self._api),
            storage_url=_base(self._storage),
            redirect_url=_base(self._redirect),
            api_id=api_id,
            api_token=api_token,
            storage_rejects_auth=storage_rejects_auth,
            media_url=media_url,
            ai_mode=ai_mode,
            ai_not_ready=ai_not_ready,
        )
        self.app.limiter.configure(rate_limit)
        self.app.signer.ttl = url_ttl
        for server, label in (
            (self._api, "api"),
            (self._storage, "storage"),
            (self._redirect, "redirect"),
        ):
            server.app = self.app
            server.label = label
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Serve in daemon threads (they die with the process if stop is never called)."""
        for server in (self._api, self._storage, self._redirect):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Shut the three servers down in parallel (each waits for its poll loop)."""
        servers = (self._api, self._storage, self._redirect)
        # shutdown() blocks until serve_forever notices, so only for started servers.
        stoppers = [threading.Thread(target=s.shutdown) for s in servers if self._threads]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        for server in servers:
            server.server_close()

    def info(self) -> dict[str, Any]:
        """The ready line ``__main__`` prints and ``testing.Sandbox`` reads."""
        return {
            "api_url": self.app.api_url,
            "storage_url": self.app.storage_url,
            "redirect_url": self.app.redirect_url,
            "media_url": self.app.media_url,
            "control_url": self.app.control_url,
            "api_id": self.app.api_id,
            "api_token": self.app.api_token,
            "seed": self.app.world.seed,
            "now": self.app.world.now(),
        }


def _base(server: _Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"
