"""How entries read on pages: values before → after, short in tables, whole on the entry page."""

import difflib
import json
from dataclasses import dataclass

from audit.models import AuditEntry
from audit.registration import field_label

SHORT = 60  # characters of a value shown in a table; longer values link to the entry page


@dataclass(frozen=True)
class Change:
    field: str  # the field's label
    before: object
    after: object

    @property
    def is_long(self) -> bool:
        return is_long(self.before) or is_long(self.after)

    @property
    def diff(self) -> list[tuple[str, str]]:
        """(kind, line) of a unified diff of the two texts: kind is "+", "-", "@" or " "."""
        before, after = as_text(self.before), as_text(self.after)
        lines = difflib.unified_diff(
            before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=2
        )
        return [(line[:1] if line[:1] in "+-@" else " ", line) for line in list(lines)[2:]]


def changes_of(entry: AuditEntry) -> list[Change]:
    """The entry's changes, leaving out "nothing → nothing" (NULL became "", say)."""
    return [
        Change(field_label(entry.content_type_id, name), before, after)
        for name, before, after in entry.field_changes
        if as_text(before) or as_text(after)
    ]


def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False)


def is_long(value: object) -> bool:
    text = as_text(value)
    return len(text) > SHORT or "\n" in text


def short(value: object) -> str:
    """The value on one line, cut at SHORT characters."""
    text = " ".join(as_text(value).split())
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def summary(entry: AuditEntry) -> str:
    """What the recorder said in a sentence ("members.csv: 120 lines, 118 added")."""
    return str(entry.details.get("summary", ""))
