"""The table `make bench` prints: sections of rows, each measure against its target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    measure: str
    value: str
    target: str
    ok: bool | None  # None: information, no target
    strict: bool = False  # missing it fails the bench (exit status 1), not only the row

    @property
    def result(self) -> str:
        return "info" if self.ok is None else ("pass" if self.ok else "FAIL")


@dataclass
class Section:
    title: str
    rows: list[Row]


def missed_strict(sections: list[Section]) -> list[Row]:
    """The rows whose target fails the whole bench when missed."""
    return [r for s in sections for r in s.rows if r.strict and r.ok is False]


def print_table(
    heading: str, sections: list[Section], notes: list[str], profile_text: str = ""
) -> None:
    """The start-up line (``heading``), the sections, the count of targets met, the notes."""
    rows = [r for s in sections for r in s.rows]
    width_measure = max(len(r.measure) for r in rows) + 2
    width_value = max(len(r.value) for r in rows)
    width_target = max(len(r.target) for r in rows)
    rule = "-" * (width_measure + width_value + width_target + 12)
    print(heading)
    print(rule)
    print(f"{'measure':<{width_measure}}  {'value':<{width_value}}  "
          f"{'target':<{width_target}}  result")  # fmt: skip
    for section in sections:
        print(rule)
        print(section.title)
        for row in section.rows:
            print(
                f"  {row.measure:<{width_measure - 2}}  {row.value:<{width_value}}  "
                f"{row.target:<{width_target}}  {row.result}"
            )
    print(rule)
    failed = [r.measure for r in rows if r.ok is False]
    print(f"targets: {sum(1 for r in rows if r.ok)} met, {len(failed)} not met"
          + (f": {'; '.join(failed)}" if failed else ""))  # fmt: skip
    for row in missed_strict(sections):
        print(f"MISSED: {row.measure}: {row.value}, target {row.target}")
    for note in notes:
        print(f"- {note}")
    if profile_text:
        print("\nprofile of the connector's calls read:")
        print(profile_text)
