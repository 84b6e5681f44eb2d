"""Phone numbers in E.164, the one form that joins.

Aircall formats numbers for people in calls (`raw_digits`, `number.digits`:
`"+1 617-610-5413"`, `"+44 330 818 6690"`) but gives them plain in its AI answers
(`"+33679198915"`): the same number is two different texts. `phonenumbers` (Google's
libphonenumber rules) reads either; a text that is no possible number (`"anonymous"`,
a short code without a country) is None rather than a guess.
"""

from __future__ import annotations

import functools

import phonenumbers


@functools.lru_cache(maxsize=4096)
def e164(text: str | None, region: str | None = None) -> str | None:
    """`"+1 617-610-5413"` -> `"+16176105413"`; `region` (ISO 3166 alpha-2) reads a
    number written without its country code. Cached: a few numbers recur on most calls."""
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
