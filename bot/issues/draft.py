"""The private guided report (网格悄悄话, issue #3): the draft a resident fills in step by step.

Steps: type → category (keyword suggestions + 其他类别) → grid (only if there are several) →
location (typed, sent as a Telegram location or venue, or 跳过) → visibility (公开 / 仅网格员 /
匿名) → confirm. A location may come at any step: with grid boundaries configured it picks the
grid, or, within 30 m of a boundary or outside every grid, asks for the building (issue #18
item 3). The draft is stored in the database (``storage.issues.drafts``), so a bot restart does
not lose it. Callback data: ``p:<field>:<value>`` (t type, c category, g grid, b building,
l location, v visibility), ``p:ok`` confirm, ``p:x`` cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.config import Config
from bot.core.geo import Place, grid_map
from bot.core.markup import button, rows
from bot.issues.model import IssueType

Text = Callable[..., str]
SUGGESTIONS = 3
VISIBILITY = ("pub", "prv", "anon")


@dataclass(frozen=True)
class Draft:
    description: str
    seq: int = 0  # which draft message of this user carries the buttons
    type: str | None = None
    category: str | None = None
    all_categories: bool = False
    grid: str | None = None
    location: str | None = None
    location_done: bool = False
    visibility: str | None = None
    album: str | None = None  # media_group_id of the photos sent with it (kept part by part)
    voice_file_id: str | None = None  # a voice note is the description (issue #18 item 2)
    voice_seconds: int = 0
    # a Telegram location or venue the resident sent (issue #18 item 3)
    latitude: float | None = None
    longitude: float | None = None
    title: str | None = None
    address: str | None = None
    # (grid key, building name) to pick from when the location alone does not tell the grid
    buildings: tuple[tuple[str, str], ...] = ()

    def step(self) -> str:
        """The next question: type, category, building, grid, location, visibility, confirm."""
        for name, value in (("type", self.type), ("category", self.category)):
            if value is None:
                return name
        if self.buildings:
            return "building"
        if self.grid is None:
            return "grid"
        if not self.location_done:
            return "location"
        return "visibility" if self.visibility is None else "confirm"


def start(description: str, config: Config, seq: int) -> Draft:
    grids = config.grids
    return Draft(description=description, seq=seq, grid=grids[0].key if len(grids) == 1 else None)


def pending(where: Place, seq: int) -> Draft:
    """A location sent before any report: kept until the resident says what the problem is
    (a draft without a description is never shown)."""
    return Draft(
        description="",
        seq=seq,
        latitude=where.latitude,
        longitude=where.longitude,
        title=where.title,
        address=where.address,
    )


def place(draft: Draft) -> Place | None:
    """The location or venue the resident sent, if any."""
    if draft.latitude is None or draft.longitude is None:
        return None
    return Place(draft.latitude, draft.longitude, draft.title, draft.address)


def locate(draft: Draft, where: Place, config: Config) -> Draft:
    """The draft with a sent location applied; with boundaries it may choose the grid.

    Clearly inside one grid: that grid. Within 30 m of a boundary or outside every grid: the
    resident picks from the nearest buildings (or, with none drawn, the grid, when there are
    several). Without boundaries the grid question stays as it was.
    """
    draft = replace(
        draft,
        latitude=where.latitude,
        longitude=where.longitude,
        title=where.title,
        address=where.address,
        location_done=True,
        buildings=(),
    )
    # Each community draws its own boundaries; a point clearly inside a grid of any of them
    # picks it, else the buildings near it in every community that has some.
    drawn = [c for c in config.communities if c.boundaries is not None]
    if not drawn:
        return draft
    buildings: list[tuple[str, str]] = []
    for community in drawn:
        assert community.boundaries is not None
        placement = grid_map(community.boundaries, community.datum).locate(
            where.latitude, where.longitude
        )
        if placement.grid is not None and config.grid_by_key(placement.grid) is not None:
            return replace(draft, grid=placement.grid)
        buildings += [(b.grid, b.name) for b in placement.buildings]
    grids = config.grids
    only = grids[0].key if len(grids) == 1 else None
    return replace(draft, grid=only, buildings=tuple(buildings))


def choose(draft: Draft, field: str, value: str, config: Config) -> Draft | None:
    """The draft with one button's answer applied; None for an invalid (stale/forged) value."""
    if field == "t" and value in {t.value for t in IssueType}:
        return replace(draft, type=value)
    if field == "c" and value == "*":
        return replace(draft, all_categories=True)
    if field == "c" and config.category(value) is not None:
        return replace(draft, category=value)
    if field == "g" and config.grid_by_key(value) is not None:
        return replace(draft, grid=value)
    if field == "b" and draft.buildings:
        return _pick_building(draft, value, config)
    if field == "l":
        return replace(draft, location=None, location_done=True)
    if field == "v" and value in VISIBILITY:
        return replace(draft, visibility=value)
    return None


def _pick_building(draft: Draft, value: str, config: Config) -> Draft | None:
    """``b:<index>`` one of the buildings offered; ``b:-`` none of them (ask the grid)."""
    if value == "-":
        return replace(draft, buildings=())
    if not value.isdigit() or int(value) >= len(draft.buildings):
        return None
    grid, name = draft.buildings[int(value)]
    if config.grid_by_key(grid) is None:
        return None
    return replace(draft, grid=grid, location=name, buildings=())


def suggested(description: str, config: Config) -> list[str]:
    """Category keys whose keywords appear in the text, most matches first (at most three)."""
    scored = []
    for index, category in enumerate(config.issues.categories):
        hits = sum(1 for word in category.keywords if word and word in description)
        if hits:
            scored.append((-hits, index, category.key))
    return [key for _, _, key in sorted(scored)[:SUGGESTIONS]]


def markup(draft: Draft, t: Text, config: Config) -> dict[str, Any]:
    """The buttons for the draft's next question, plus 取消."""
    step = draft.step()
    options: list[tuple[str, str]] = []
    if step == "type":
        options = [(f"t:{k.value}", t(f"issues.types.{k.value}")) for k in IssueType]
    elif step == "category":
        keys = suggested(draft.description, config)
        if draft.all_categories or not keys:
            keys = [c.key for c in config.issues.categories]
        names = {c.key: c.name for c in config.issues.categories}
        options = [(f"c:{k}", names[k]) for k in keys]
        if not draft.all_categories and len(keys) < len(config.issues.categories):
            options.append(("c:*", t("issues.buttons.more_categories")))
    elif step == "building":
        options = [(f"b:{i}", name) for i, (_, name) in enumerate(draft.buildings)]
        options.append(("b:-", t("issues.buttons.other_building")))
    elif step == "grid":
        options = [(f"g:{g.key}", grid_label(config, g.key)) for g in config.grids]
    elif step == "location":
        options = [("l:-", t("issues.buttons.skip"))]
    elif step == "visibility":
        labels = ("public", "private", "anonymous")
        options = [
            (f"v:{v}", t(f"issues.buttons.{name}"))
            for v, name in zip(VISIBILITY, labels, strict=True)
        ]
    else:
        options = [("ok", t("issues.buttons.confirm"))]
    buttons = [button(label, f"p:{data}") for data, label in options]
    buttons.append(button(t("issues.buttons.cancel"), "p:x"))
    return rows(buttons, 2)


def _described(draft: Draft, t: Text) -> str:
    if draft.voice_file_id is None:
        return draft.description
    if not draft.description:
        return t("issues.voice.label", seconds=draft.voice_seconds)
    return t("issues.voice.with_text", seconds=draft.voice_seconds, text=draft.description)


def summary(draft: Draft, t: Text, config: Config) -> dict[str, Any]:
    """What the draft template shows: the answers so far and the question asked now."""
    category = config.category(draft.category or "")
    grid = config.grid_by_key(draft.grid or "")
    return {
        "description": _described(draft, t),
        "type": t(f"issues.types.{draft.type}") if draft.type else None,
        "category": category.name if category else None,
        "grid": grid.name if grid else None,
        "location": draft.location,
        "place": None if draft.latitude is None else {"title": draft.title},
        "visibility": draft.visibility,
        "photos": draft.album is not None,
        "step": draft.step(),
    }


def grid_label(config: Config, key: str) -> str:
    """A grid's name as a resident picks it: with its community's name when the bot serves
    several (every community has a 第一网格)."""
    grid = config.grid_by_key(key)
    if grid is None:
        return key
    community = config.community_of_grid(key)
    if config.several and community is not None:
        return f"{community.name}·{grid.name}"
    return grid.name
