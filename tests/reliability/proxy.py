"""A loopback proxy in front of the sandbox that rewrites what the connector receives.

The sandbox serves well-formed Aircall answers; some reliability and security tests need
answers it cannot produce (a call whose id is a string, a `user` that is a list, a
recording URL that expires between the listing and the download, a storage host that
cuts one body short or sends hostile headers). The proxy forwards every request to the
sandbox unchanged (the Authorization header included, so the sandbox's request log
still shows what the connector sent) and applies the hooks below to the answers.

    connector --> ApiProxy (127.0.0.1:p) --> sandbox API (127.0.0.1)
              --> storage proxy (127.0.0.4:q) --> sandbox storage (127.0.0.2)

The storage proxy is used only when `proxy_storage` is set: recording URLs in API
answers are then rewritten to point at it (same path and signed query).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

CallsHook = Callable[[list[Any]], list[Any]]
PageHook = Callable[[Any], Any]
# (path, query) -> (status, JSON body) to answer instead of the sandbox, or None
RequestHook = Callable[[str, dict[str, str]], tuple[int, Any] | None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.proxy: ApiProxy | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a cut body, a killed connector) is expected."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the sandbox keeps the request log."""

    @property
    def proxy(self) -> ApiProxy:
        assert self.server.proxy is not None
        return self.server.proxy

    def _forward(
        self, upstream: str, keep: Callable[[str], bool]
    ) -> tuple[int, bytes, dict[str, str]]:
        """GET this request's path from `upstream` with the client's own headers; the
        answer's status, body and the headers `keep` (given a lower-case name) lets through."""
        forwarded = {
            name: value
            for name, value in self.headers.items()
            if name.lower() in ("authorization", "range", "accept", "user-agent")
        }
        answer = requests.get(
            upstream + self.path, headers=forwarded, timeout=60, allow_redirects=False
        )
        headers = {name: value for name, value in answer.headers.items() if keep(name.lower())}
        return answer.status_code, answer.content, headers

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ApiHandler(_Handler):
    def do_GET(self) -> None:
        proxy = self.proxy
        parts = urlsplit(self.path)
        if proxy.on_request is not None:
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            answer = proxy.on_request(parts.path, query)
            if answer is not None:
                status, payload = answer
                proxy.answered += 1
                self._send(
                    status, json.dumps(payload).encode(), {"Content-Type": "application/json"}
                )
                return
        status, body, headers = self._forward(
            proxy.upstream_api,
            lambda name: name.startswith("x-aircallapi") or name == "content-type",
        )
        path = parts.path
        if status == 200 and path.startswith(("/v1/calls", "/v2/users")):
            payload = json.loads(body)
            payload = proxy.rewrite(path, payload)
            body = json.dumps(payload).encode()
        self._send(status, body, headers)


class _StorageHandler(_Handler):
    def do_GET(self) -> None:
        proxy = self.proxy
        status, body, headers = self._forward(
            proxy.upstream_storage,
            lambda name: name in ("content-type", "content-range", "location", "accept-ranges"),
        )
        headers.update(proxy.storage_headers)
        media = urlsplit(self.path).path
        if status == 200 and media in proxy.cut_once:
            proxy.cut_once.discard(media)
            proxy.cuts += 1
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self._send(status, body, headers)


class ApiProxy:
    """Forward to the sandbox; rewrite calls lists (`on_calls`), pages (`on_page`)."""

    def __init__(
        self, upstream_api: str, upstream_storage: str, proxy_storage: bool = False
    ) -> None:
        self.upstream_api = upstream_api.rstrip("/")
        self.upstream_storage = upstream_storage.rstrip("/")
        self.on_calls: CallsHook | None = None
        self.on_page: PageHook | None = None
        self.on_users: CallsHook | None = None
        self.on_request: RequestHook | None = None
        self.answered = 0
        self.storage_headers: dict[str, str] = {}
        self.cut_once: set[str] = set()
        self.cuts = 0
        self._api = _Server(("127.0.0.1", 0), _ApiHandler)
        self._api.proxy = self
        self._storage: _Server | None = None
        if proxy_storage:
            self._storage = _Server(("127.0.0.4", 0), _StorageHandler)
            self._storage.proxy = self
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._api.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def storage_url(self) -> str:
        assert self._storage is not None
        host, port = self._storage.server_address[:2]
        return f"http://{host!s}:{port}"

    def rewrite(self, path: str, payload: Any) -> Any:
        if path == "/v2/users":
            if self.on_users is not None and isinstance(payload.get("users"), list):
                payload["users"] = self.on_users(payload["users"])
            return payload
        if self._storage is not None:
            for call in _calls_in(payload):
                if isinstance(call, dict) and isinstance(call.get("recording"), str):
                    call["recording"] = call["recording"].replace(
                        self.upstream_storage, self.storage_url
                    )
        if path == "/v1/calls":
            if self.on_calls is not None and isinstance(payload.get("calls"), list):
                payload["calls"] = self.on_calls(payload["calls"])
            if self.on_page is not None:
                payload = self.on_page(payload)
        return payload

    def __enter__(self) -> ApiProxy:
        for server in (self._api, self._storage):
            if server is not None:
                thread = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self._api, self._storage):
            if server is not None:
                server.shutdown()
                server.server_close()


def _calls_in(payload: Any) -> list[Any]:
    if not isinstance(payload, dict):
        return []
    if isinstance(payload.get("calls"), list):
        return list(payload["calls"])
    if isinstance(payload.get("call"), dict):
        return [payload["call"]]
    return []
