"""The Aircall API client that every stream shares: its endpoints, paging and windows.

How a request is sent (auth, pacing, retries, the error mapping, the sync's clock) is
session.py's; what is here is what each endpoint's answers mean:

- Paging newest first inside windows split under the 10,000-result cap (windows.py), read
  again where a call left the window between two pages.
- `/v2/users` paged to the end, and whether the listing was complete.
- A 404 from `GET /v1/calls/{id}`: the call was deleted; a 404 or 403 from an Aircall AI
  resource: not there (yet), or Aircall AI not available to the company.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
import requests

from source_aircall_salescaling.aircall.errors import (
    READ_FAILURES,
    AircallKeysRejected,
    CallUnavailable,
    InsightsForbidden,
    body_text,
)
from source_aircall_salescaling.aircall.models import (
    Call,
    PayloadError,
    User,
    parse_call,
    parse_user,
)
from source_aircall_salescaling.aircall.session import AircallErrorHandler as AircallErrorHandler
from source_aircall_salescaling.aircall.session import AircallHttp
from source_aircall_salescaling.aircall.session import AircallSession as AircallSession
from source_aircall_salescaling.aircall.windows import RESULT_CAP, TimeWindow, windows_newest_first

PAGE_SIZE = 50  # Aircall's maximum; larger values are silently clamped


class AircallClient(AircallHttp):
    """The Aircall endpoints the streams read, over the session of `AircallHttp`."""

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
        except READ_FAILURES as error:
            self._logger.warning(f"Could not fetch call {call_id}: {_first_line(error)}")
            raise CallUnavailable(f"call {call_id}: {_first_line(error)}") from None

    def insight(self, call_id: int, resource: str) -> Any | None:
        """One Aircall AI resource of a call (`GET /v1/calls/{id}/<resource>`), as JSON;
        None when Aircall answers 404 or 400 (not generated yet, or never: Aircall's
        reference lists only 400 for it, some clients see 404). A 403 raises
        `InsightsForbidden` with Aircall's text: the company cannot use Aircall AI or the
        resource's licence (the add-on is off, no AI Assist Pro, the company is not
        verified), which the same key listing calls proves is not a bad key. Other
        failures raise as `get` does."""
        response = self._send(f"/v1/calls/{call_id}/{resource}", None)
        if response.status_code in (400, 404):
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
