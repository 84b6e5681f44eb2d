"""The Aircall API client that every stream shares: auth, pacing, retries, paging, windows.

Built on airbyte-cdk's `HttpClient`, which already gives retries with backoff, the
error mapping, rate-limit handling and the API budget (client-side pacing). What is
Aircall-specific lives here:

- Basic auth (API ID : API token); 401 and 403 fail as a config error (errors.py).
- Pacing with the CDK's API budget, and the 429 wait for `X-AircallApi-Reset` (pacing.py).
- A 200 whose body is not JSON (seen behind proxies) is retried like a 5xx.
- Paging newest first inside windows split under the 10,000-result cap (windows.py).
- Failures reach callers as typed exceptions (`AircallKeysRejected`, `AircallHttpError`,
  `AircallUnreachable`, in errors.py), each with a message an Aircall admin can act on.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from base64 import b64encode
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.http_config import MAX_CONNECTION_POOL_SIZE
from airbyte_cdk.sources.streams.call_rate import APIBudget, LimiterSession
from airbyte_cdk.sources.streams.http.error_handlers import (
    ErrorResolution,
    HttpStatusErrorHandler,
    ResponseAction,
)
from airbyte_cdk.sources.streams.http.http_client import HttpClient
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth

from source_aircall_salescaling.aircall.clock import SyncClock, sync_clock
from source_aircall_salescaling.aircall.errors import (
    AIRCALL_ERROR_MAPPING,
    AircallHttpError,
    AircallKeysRejected,
    AircallUnreachable,
    CallUnavailable,
    InsightsForbidden,
    body_text,
    http_error_message,
    http_phrase,
    network_cause,
)
from source_aircall_salescaling.aircall.models import (
    Call,
    PayloadError,
    User,
    parse_call,
    parse_user,
)
from source_aircall_salescaling.aircall.pacing import AircallBackoff, api_budget
from source_aircall_salescaling.aircall.windows import RESULT_CAP, TimeWindow, windows_newest_first
from source_aircall_salescaling.config import ConnectorConfig, request_timeout

if TYPE_CHECKING:
    from requests.sessions import _Settings

PAGE_SIZE = 50  # Aircall's maximum; larger values are silently clamped
MAX_RETRIES = 8
_JSON_ATTRIBUTE = "_aircall_json"
_ONE_CALL = re.compile(r"^/v1/calls/\d+(\?|$)")
_INSIGHT = re.compile(r"^/v1/calls/\d+/[a-z_]+(\?|$)")


class AircallErrorHandler(HttpStatusErrorHandler):
    """The CDK's status mapping, plus: a 200 whose body is not JSON is retried.

    The parsed body is kept on the response so that it is parsed once. The last answer
    or exception interpreted on each thread is kept too (`last_outcome`): the CDK raises
    the same exception type for every failure, and this is how the client tells a status
    from a network error by type, without reading the CDK's message text.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outcomes = threading.local()

    def last_outcome(self) -> requests.Response | Exception | None:
        outcome: requests.Response | Exception | None = getattr(self._outcomes, "value", None)
        return outcome

    def interpret_response(
        self, response_or_exception: requests.Response | Exception | None = None
    ) -> ErrorResolution:
        self._outcomes.value = response_or_exception
        path = _request_path(response_or_exception)
        if (
            isinstance(response_or_exception, requests.Response)
            and response_or_exception.status_code == 404
            and _ONE_CALL.search(path)
        ):
            # One call asked by id and not found: it was deleted. The caller decides.
            return ErrorResolution(ResponseAction.IGNORE, FailureType.transient_error, None)
        if (
            isinstance(response_or_exception, requests.Response)
            and response_or_exception.status_code in (403, 404)
            and _INSIGHT.search(path)
        ):
            # An Aircall AI resource: 404 = not generated (yet), 403 = Aircall AI is not
            # available to the company. Neither means the keys are bad: the caller decides.
            return ErrorResolution(ResponseAction.IGNORE, FailureType.transient_error, None)
        resolution = super().interpret_response(response_or_exception)
        if (
            isinstance(response_or_exception, requests.Response)
            and resolution.response_action == ResponseAction.SUCCESS
        ):
            try:
                setattr(
                    response_or_exception,
                    _JSON_ATTRIBUTE,
                    orjson.loads(response_or_exception.content),
                )
            except orjson.JSONDecodeError:
                return ErrorResolution(
                    response_action=ResponseAction.RETRY,
                    failure_type=FailureType.transient_error,
                    error_message="Aircall answered with a body that is not JSON; retrying.",
                )
        return resolution


class AircallSession(LimiterSession):
    """The session the CDK's `HttpClient` would make itself (a `LimiterSession`: the API
    budget paces each request it sends; the same connection pool), less one cost.

    Before each request `HttpClient.send_request` asks `merge_environment_settings` for
    the proxy, CA-bundle and netrc settings of the environment, and requests reads them
    again from `os.environ` each time: urllib's `getproxies_environment` walks every
    variable, twice per request. On a 12,000-call read (243 requests) that was about a
    twelfth of the connector's CPU past start-up (docs/performance.md). The environment
    does not change during a sync, so the settings are read once per scheme and host
    (NO_PROXY is per host) and reused; a request that brings its own settings is merged
    as requests always does.
    """

    def __init__(self, api_budget: APIBudget) -> None:
        super().__init__(api_budget=api_budget)
        adapter = HTTPAdapter(
            pool_connections=MAX_CONNECTION_POOL_SIZE, pool_maxsize=MAX_CONNECTION_POOL_SIZE
        )
        self.mount("https://", adapter)
        self._environment: dict[tuple[str, str], _Settings] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (str(parts.scheme), str(parts.netloc))
        if key not in self._environment:
            self._environment[key] = super().merge_environment_settings(url, {}, None, None, None)
        settings = self._environment[key]
        return {**settings, "proxies": dict(settings["proxies"])}


def basic_auth_header(api_id: str, api_token: str) -> str:
    return "Basic " + b64encode(f"{api_id}:{api_token}".encode()).decode()


class AircallClient:
    """One per sync; counts the requests it makes, by path."""

    def __init__(
        self, config: ConnectorConfig, logger: logging.Logger, max_retries: int = MAX_RETRIES
    ) -> None:
        self._config = config
        self._logger = logger
        self._base = config.api_url
        # Anything that prints the credentials, even encoded, is masked by the CDK's filter.
        add_to_secrets(config.api_token)
        add_to_secrets(basic_auth_header(config.api_id, config.api_token).split(" ", 1)[1])
        self._errors = AircallErrorHandler(
            logger=logger, error_mapping=AIRCALL_ERROR_MAPPING, max_retries=max_retries
        )
        budget = api_budget(config.requests_per_minute)
        self._http = HttpClient(
            name="aircall",
            logger=logger,
            error_handler=self._errors,
            api_budget=budget,
            session=AircallSession(budget),
            authenticator=HTTPBasicAuth(config.api_id, config.api_token),
            backoff_strategy=AircallBackoff(),
            request_timeout=request_timeout(),
        )
        self.requests: Counter[str] = Counter()
        # The `Date` of Aircall's first answer, and this machine's time when it came.
        self._first_answer: tuple[str | None, float] | None = None

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON document from the API (paced, retried, errors mapped).

        Raises `AircallKeysRejected`, `AircallHttpError` or `AircallUnreachable`."""
        return self._json(self._send(path, params))

    def _send(self, path: str, params: Mapping[str, Any] | None) -> requests.Response:
        self.requests[_path_kind(path)] += 1
        try:
            _, response = self._http.send_request(
                "GET",
                f"{self._base}{path}",
                request_kwargs={},
                params={key: str(value) for key, value in (params or {}).items()},
            )
        except AirbyteTracedException as error:
            raise self._failure(error, path) from None
        except requests.RequestException as error:  # outside the CDK's mapping
            raise AircallUnreachable(self._base, network_cause(error)) from None
        if self._first_answer is None:
            self._first_answer = (response.headers.get("Date"), time.time())
        return response

    def sync_clock(self) -> SyncClock:
        """The sync's time on Aircall's clock: the `Date` of its first answer, asked with
        `GET /v1/ping` when no request was made yet (`aircall/clock.py`)."""
        if self._first_answer is None:
            self.ping()
        assert self._first_answer is not None
        date, local = self._first_answer
        return sync_clock(date, local, self._logger)

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if hasattr(response, _JSON_ATTRIBUTE):
            return getattr(response, _JSON_ATTRIBUTE)
        return orjson.loads(response.content)

    def _failure(self, error: AirbyteTracedException, path: str) -> AirbyteTracedException:
        """The typed failure for what the CDK raised, from the last answer it interpreted."""
        outcome = self._errors.last_outcome()
        if isinstance(outcome, requests.Response):
            status = outcome.status_code
            try:
                body = orjson.loads(outcome.content) if status != 200 else None
            except (orjson.JSONDecodeError, RuntimeError):
                body = None
            if status in (401, 403):
                return AircallKeysRejected(status, body_text(body, besides=http_phrase(status)))
            failure_type = error.failure_type or FailureType.system_error
            return AircallHttpError(status, http_error_message(status, body, path), failure_type)
        if isinstance(outcome, requests.RequestException):
            return AircallUnreachable(self._base, network_cause(outcome))
        return error

    def ping(self) -> None:
        self.get("/v1/ping")

    def users(self) -> UserListing:
        """Every user, from `/v2/users` (the `/v1/users` list is sunset), lazily."""
        return UserListing(self.get, self._logger)

    def call(self, call_id: int) -> Call | None:
        """One call with fresh media URLs (recording URLs expire), or None when Aircall
        answers 404: the call was deleted. Any other failure (retries exhausted, an
        answer that cannot be read) raises `CallUnavailable`: the call may well still
        exist, so the caller must not take it for gone."""
        try:
            response = self._send(f"/v1/calls/{call_id}", {"fetch_contact": "true"})
            if response.status_code == 404:
                self._logger.info(f"Aircall has no call {call_id} any more (404).")
                return None
            body = self._json(response)
            return parse_call(body.get("call") if isinstance(body, Mapping) else None)
        except AircallKeysRejected:
            raise  # rejected credentials stop the sync, they are not one call's problem
        except AirbyteTracedException as error:
            self._logger.warning(f"Could not fetch call {call_id}: {_first_line(error)}")
            raise CallUnavailable(f"call {call_id}: {_first_line(error)}") from None
        except Exception as error:
            self._logger.warning(f"Could not fetch call {call_id}: {_first_line(error)}")
            raise CallUnavailable(f"call {call_id}: {_first_line(error)}") from None

    def insight(self, call_id: int, resource: str) -> Any | None:
        """One Aircall AI resource of a call (`GET /v1/calls/{id}/<resource>`), as JSON;
        None when Aircall answers 404 (not generated yet, or never). A 403 raises
        `InsightsForbidden` with Aircall's message: the company cannot use Aircall AI
        (the add-on is off, or the company is not verified), which the same key listing
        calls proves is not a bad key. Other failures raise as `get` does."""
        response = self._send(f"/v1/calls/{call_id}/{resource}", None)
        if response.status_code == 404:
            return None
        if response.status_code == 403:
            raise InsightsForbidden(_message_of(response))
        return self._json(response)

    def calls_newest_first(self, window: TimeWindow) -> Iterator[Call]:
        """Every call in `window`, newest first (by started_at, then id), lazily.

        The first page of a window doubles as its count (`meta.total`); a window holding
        10,000 calls or more is split, so the positional cap is never reached.
        """
        first_pages: dict[TimeWindow, Any] = {}

        def count(part: TimeWindow) -> int:
            body = self._calls_page(part, 1)
            first_pages[part] = body
            total = _meta(body).get("total")
            return total if isinstance(total, int) else len(_list(body, "calls"))

        for part in windows_newest_first(window, count):
            body = first_pages.pop(part, None)
            if body is None:
                body = self._calls_page(part, 1)
            yield from self._calls_in(part, body)

    def _calls_in(self, part: TimeWindow, body: Any) -> Iterator[Call]:
        """Page numbers over a listing that moves: a call that leaves the window (deleted,
        or its `started_at` rewritten) between two pages shifts every later call up, and
        the call that moved onto the page already read would be missed. So `meta.total`
        is compared between pages; when it shrank, the pages that the shift can reach are
        read again first (only calls not yielded yet are yielded: order stays newest
        first). A call entering the window shifts calls down: read twice, yielded once."""
        page = 1
        seen: set[int] = set()
        total = _total(body)
        while True:
            yield from self._new_calls(body, seen)
            if not _meta(body).get("next_page_link"):
                return
            page += 1
            if page * PAGE_SIZE > RESULT_CAP:
                self._logger.warning(
                    f"More than {RESULT_CAP} calls started within one second ({part}); "
                    "Aircall cannot list the rest of that second."
                )
                return
            body = self._calls_page(part, page)
            now = _total(body)
            if total is not None and now is not None and now < total:
                back = -(-(total - now) // PAGE_SIZE)
                self._logger.info(
                    f"{total - now} calls left {part} while it was paged; reading "
                    f"{min(back, page - 1)} page(s) again so that no call is missed."
                )
                for earlier in range(max(1, page - back), page):
                    yield from self._new_calls(self._calls_page(part, earlier), seen)
            if now is not None:
                total = now

    def _new_calls(self, body: Any, seen: set[int]) -> Iterator[Call]:
        for raw in _list(body, "calls"):
            try:
                call = parse_call(raw)
            except PayloadError as error:
                self._logger.warning(f"Skipping an Aircall call that cannot be read: {error}")
                continue
            if call.id not in seen:  # a call inserted while paging shifts pages by one
                seen.add(call.id)
                yield call

    def _calls_page(self, part: TimeWindow, page: int) -> Any:
        return self.get(
            "/v1/calls",
            {
                "from": part.start,
                "to": part.end,
                "order": "desc",
                "page": page,
                "per_page": PAGE_SIZE,
                "fetch_contact": "true",
            },
        )


class UserListing:
    """The pages of `/v2/users`, read as they are iterated. `complete` tells, once the
    iteration ended, whether the users seen are all of the account's: the last page was
    read, no entry was skipped as unreadable, and `meta.total` held still and matched the
    users seen. The list is paged by page number with no date filter, so a user deleted
    or added while it is paged shifts later users from one page to the next (one seen
    twice, or one never seen): a listing that is not complete must not be taken to say
    that a user is gone."""

    def __init__(self, get: Callable[[str, Mapping[str, Any]], Any], logger: logging.Logger):
        self._get = get
        self._logger = logger
        self.complete = False

    def __iter__(self) -> Iterator[User]:
        self.complete = False
        page, skipped = 1, 0
        seen: set[int] = set()
        totals: set[int | None] = set()
        while True:
            body = self._get("/v2/users", {"page": page, "per_page": PAGE_SIZE})
            totals.add(_total(body))
            for raw in _list(body, "users"):
                try:
                    user = parse_user(raw)
                except PayloadError as error:
                    skipped += 1
                    self._logger.warning(f"Skipping an Aircall user that cannot be read: {error}")
                    continue
                if user.id not in seen:
                    seen.add(user.id)
                    yield user
            if not _meta(body).get("next_page_link"):
                break
            page += 1
        total = totals.pop() if len(totals) == 1 else -1
        self.complete = not skipped and total in (None, len(seen))


def _request_path(outcome: requests.Response | Exception | None) -> str:
    request = outcome.request if isinstance(outcome, requests.Response) else None
    return (request.path_url or "") if request is not None else ""


def _path_kind(path: str) -> str:
    """The request counter's key: one per endpoint, call ids left out."""
    if not path.startswith("/v1/calls/"):
        return path
    parts = path.split("/")
    return "/v1/calls/{id}" + ("/" + parts[4] if len(parts) > 4 else "")


def _message_of(response: requests.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    return body_text(body) or f"HTTP {response.status_code}"


def _meta(body: Any) -> Mapping[str, Any]:
    """Without `meta` there is no telling whether more pages follow: never guess."""
    meta = body.get("meta") if isinstance(body, Mapping) else None
    if not isinstance(meta, Mapping):
        raise PayloadError("Aircall's answer has no 'meta' object (paging information)")
    return meta


def _total(body: Any) -> int | None:
    total = _meta(body).get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _list(body: Any, key: str) -> list[Any]:
    items = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise PayloadError(f"Aircall's answer has no '{key}' list")
    return items


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
