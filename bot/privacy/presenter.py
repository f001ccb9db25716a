"""/mydata as a person reads it (issue #13 item 22): each section of their data in words —
what is held, where it came from, who sees it — with the JSON copy attached.

Codes become words here: categories and grids by their configured names, states, relations,
roles and choices from the catalogues, areas in square metres.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.config import Config
from bot.core.rendering import Renderer
from bot.privacy.personal_data import MyData
from bot.privacy.service import Place

Row = dict[str, Any]
# At most this many lines per section; the JSON file has them all.
SHOWN: Final = 5
# A report's text is cut to this many characters in the summary.
SNIPPET: Final = 30
# Who the bot knows the person as comes first; the other sections follow the declarations.
FIRST: Final = ("profile", "households", "role_grants")


def place_text(t: Renderer, place: Place) -> str:
    """A place in the reader's words: "3-2", "3号楼" / "Building 3", or its free text."""
    if place.building and place.unit:
        return t.text("issues.format.unit", b=place.building, u=place.unit)
    if place.building:
        return t.text("issues.format.building", b=place.building)
    return place.text


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]
    source: str
    seen: str


class MyDataView:
    """Turns a :class:`MyData` into the summary message and the file caption."""

    def __init__(self, t: Renderer, config: Config) -> None:
        self.t = t
        self.config = config

    def summary(self, data: MyData) -> str:
        numbers = {r["id"]: r["number"] for r in data.sections.get("reports", [])}
        keys = [*FIRST, *(k for k in data.sections if k not in FIRST)]
        sections = [
            self._section(key, data.sections[key], numbers)
            for key in keys
            if data.sections.get(key)
        ]
        return self.t.render("privacy/mydata", sections=sections, at=self._date(data.exported_at))

    def caption(self) -> str:
        return self.t.render("privacy/mydata_file")

    def _section(self, key: str, rows: list[Row], numbers: dict[int, int]) -> Section:
        line = _LINES.get(key)
        if line is None:
            lines = [self.t.text("privacy.lines.count", count=len(rows))]
        else:
            lines = [line(self, row, numbers) for row in rows[:SHOWN]]
            if len(rows) > SHOWN:
                lines.append(self.t.text("privacy.lines.more", count=len(rows)))
        text = self.t.text
        return Section(
            text(f"privacy.sections.{key}.title"),
            tuple(lines),
            text(f"privacy.sections.{key}.source"),
            text(f"privacy.sections.{key}.seen"),
        )

    def _date(self, moment: datetime | str | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        local = moment.astimezone(self.config.timezone)
        return self.t.text(
            "privacy.format.date", year=local.year, month=local.month, day=local.day
        )

    def _category(self, key: str) -> str:
        return next((c.name for c in self.config.issues.categories if c.key == key), key)

    def _grid(self, key: str) -> str:
        grid = self.config.grid_by_key(key)
        return grid.name if grid else self.t.text("privacy.whole_community")

    def profile(self, row: Row, _: dict[int, int]) -> str:
        date = self._date(row["consent_given_at"])
        return self.t.text("privacy.lines.profile", name=row["display_name"], date=date)

    def household(self, row: Row, _: dict[int, int]) -> str:
        return self.t.text(
            "privacy.lines.household",
            building=row["building"],
            unit=row["unit"],
            room=row["room"],
            area=f"{row['area_centi'] / 100:.2f}",
            relation=self.t.text(f"registry.relation.{row['relation']}"),
            state=self.t.text(f"privacy.link_state.{row['state']}"),
        )

    def report(self, row: Row, _: dict[int, int]) -> str:
        text = row["description"]
        snippet = text if len(text) <= SNIPPET else text[:SNIPPET] + "…"
        return self.t.text(
            "privacy.lines.report",
            number=row["number"],
            category=self._category(row["category"]),
            state=self.t.text(f"issues.states.{row['state']}"),
            text=snippet,
            date=self._date(row["reported_at"]),
        )

    def slip(self, row: Row, numbers: dict[int, int]) -> str:
        number = numbers.get(row["issue_id"], row["issue_id"])
        if row["state"] != "answered":
            return self.t.text(f"privacy.lines.slip_{row['state']}", number=number)
        return self.t.text(
            "privacy.lines.slip",
            number=number,
            solved=self.t.text(f"issues.slip.{row['solved']}"),
            satisfaction=self.t.text(f"issues.slip.{row['satisfaction']}"),
        )

    def role(self, row: Row, _: dict[int, int]) -> str:
        role = self.t.text(f"registry.role.{row['role']}")
        return self.t.text("privacy.lines.role", role=role, grid=self._grid(row["grid"]))

    def draft(self, row: Row, _: dict[int, int]) -> str:
        return self.t.text("privacy.lines.draft" if row["draft"] else "privacy.lines.no_draft")

    def sensitive(self, row: Row, _: dict[int, int]) -> str:
        held = [k for k in ("living_alone", "health", "disability") if row[k]]
        items = "、".join(self.t.text(f"privacy.sensitive.{k}") for k in held)
        return self.t.text("privacy.lines.sensitive", items=items or "—")

    def checkin(self, row: Row, _: dict[int, int]) -> str:
        return self.t.text("privacy.lines.checkin", date=self._date(row["enrolled_at"]))

    def jielong(self, row: Row, _: dict[int, int]) -> str:
        date = self._date(row["joined_at"])
        return self.t.text("privacy.lines.jielong", topic=row["topic"], date=date)

    def meeting(self, row: Row, _: dict[int, int]) -> str:
        how = "signed_in" if row["signed_in_at"] else "signed_up" if row["signed_up_at"] else ""
        return self.t.text(f"privacy.lines.meeting_{how or 'invited'}", title=row["title"])

    def said(self, row: Row, _: dict[int, int]) -> str:
        return self.t.text("privacy.lines.said", title=row["title"], text=row["text"])

    def ballot(self, row: Row, _: dict[int, int]) -> str:
        choice = self.t.text(f"votes.choices.{row['choice']}")
        return self.t.text("privacy.lines.ballot", title=row["title"], choice=choice)


_LINES: Final[dict[str, Callable[[MyDataView, Row, dict[int, int]], str]]] = {
    "profile": MyDataView.profile,
    "households": MyDataView.household,
    "reports": MyDataView.report,
    "feedback_slips": MyDataView.slip,
    "role_grants": MyDataView.role,
    "report_draft": MyDataView.draft,
    "sensitive_data": MyDataView.sensitive,
    "checkin_enrolment": MyDataView.checkin,
    "jielong_entries": MyDataView.jielong,
    "meetings_attended": MyDataView.meeting,
    "meeting_suggestions": MyDataView.said,
    "meeting_objections": MyDataView.said,
    "vote_ballots": MyDataView.ballot,
}
