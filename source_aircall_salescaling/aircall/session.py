"""How every request to the Aircall API is sent: auth, pacing, retries, error mapping.

Built on airbyte-cdk's `HttpClient`, which already gives retries with backoff, the
error mapping, rate-limit handling and the API budget (client-side pacing). What is
Aircall-specific lives here:

- Basic auth (API ID : API token); 401 and 403 fail as a config error (errors.py).
- Pacing with the CDK's API budget, and the 429 wait for `X-AircallApi-Reset` (pacing.py).
- A 200 whose body is not JSON (seen behind proxies) is retried like a 5xx.
- Failures reach callers as typed exceptions (`AircallKeysRejected`, `AircallHttpError`,
  `AircallUnreachable`, in errors.py), each with a message an Aircall admin can act on.
- The `Date` of Aircall's first answer: the sync's time (clock.py).

The endpoints themselves (paging, windows, what a 404 means where) are client.py's.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from base64 import b64encode
from collections import Counter
from collections.abc import Mapping
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
    body_text,
    http_error_message,
    http_phrase,
    network_cause,
)
from source_aircall_salescaling.aircall.pacing import AircallBackoff, api_budget
from source_aircall_salescaling.config import ConnectorConfig, request_timeout

if TYPE_CHECKING:
    from requests.sessions import _Settings

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
            and response_or_exception.status_code in (400, 403, 404)
            and _INSIGHT.search(path)
        ):
            # An Aircall AI resource: 400 or 404 = not generated (yet), 403 = Aircall AI
            # (or the licence the resource needs) is not available to the company. None
            # means the keys are bad, none is an error of the sync: the caller decides.
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


class AircallHttp:
    """GETs to the Aircall API for one sync: counted by path (`requests`), and the `Date`
    of the first answer kept for the sync's clock."""

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
            self.get("/v1/ping")
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


def _request_path(outcome: requests.Response | Exception | None) -> str:
    request = outcome.request if isinstance(outcome, requests.Response) else None
    return (request.path_url or "") if request is not None else ""


def _path_kind(path: str) -> str:
    """The request counter's key: one per endpoint, call ids left out."""
    if not path.startswith("/v1/calls/"):
        return path
    parts = path.split("/")
    return "/v1/calls/{id}" + ("/" + parts[4] if len(parts) > 4 else "")
