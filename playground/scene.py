"""Scenes are data: a TOML file in ``playground/scenes/`` (and optionally a registry sheet
beside it) naming the community's configuration, the people, the groups and what they do
before the trainer takes over."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

SCENES = resources.files("playground") / "scenes"


class SceneError(ValueError):
    """A scene file that cannot be played (unknown name, missing keys)."""


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    last_name: str
    role: str  # resident | worker | leader | handler | secretary
    room: str = ""

    @property
    def name(self) -> str:
        return self.first_name


@dataclass(frozen=True)
class Group:
    id: int
    title: str
    members: tuple[int, ...]


@dataclass(frozen=True)
class Place:
    """A named place of the scene, offered by the page's location picker (a venue)."""

    title: str
    address: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Step:
    """One thing a person does while the scene loads: ``start``, ``say`` or ``press``."""

    action: str
    who: int
    chat: int = 0
    text: str = ""


@dataclass(frozen=True)
class Scene:
    name: str
    start: datetime
    bot_username: str
    bot_name: str
    config: dict[str, Any]
    people: tuple[Person, ...]
    groups: tuple[Group, ...]
    registry: tuple[str, bytes] | None = None
    steps: tuple[Step, ...] = field(default=())
    places: tuple[Place, ...] = field(default=())

    def person(self, user_id: int) -> Person:
        for person in self.people:
            if person.id == user_id:
                return person
        raise SceneError(f"scene {self.name}: nobody with id {user_id}")


def scene_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".toml") for p in SCENES.iterdir() if p.name.endswith(".toml")
    )


def load_scene(name: str) -> Scene:
    """The scene ``name`` from the package, or a path to a scene file of one's own."""
    path = Path(name)
    if path.suffix == ".toml" and path.is_file():
        return parse_scene(path.stem, path.read_text("utf-8"), path.parent)
    source = SCENES / f"{name}.toml"
    if not source.is_file():
        raise SceneError(f"no scene {name!r}; scenes: {', '.join(scene_names())}")
    return parse_scene(name, source.read_text("utf-8"), SCENES)


def parse_scene(name: str, text: str, folder: Any) -> Scene:
    try:
        data = tomllib.loads(text)
        start = data["start"]
        if not isinstance(start, datetime) or start.tzinfo is None:
            raise SceneError(f"scene {name}: start must be a date-time with an offset")
        bot = data.get("bot", {})
        people = tuple(
            Person(
                int(p["id"]), p["first_name"], p.get("last_name", ""), p["role"], p.get("room", "")
            )
            for p in data["people"]
        )
        groups = tuple(
            Group(int(g["id"]), g["title"], tuple(int(m) for m in g["members"]))
            for g in data.get("groups", [])
        )
        steps = tuple(_step(name, s) for s in data.get("steps", []))
        registry = None
        if "registry" in data:
            sheet = folder / data["registry"]
            registry = (str(data["registry"]), sheet.read_bytes())
        places = tuple(
            Place(
                str(p["title"]),
                str(p.get("address", "")),
                float(p["latitude"]),
                float(p["longitude"]),
            )
            for p in data.get("places", [])
        )
        return Scene(
            name=name,
            start=start,
            bot_username=bot.get("username", "gridbot_play_bot"),
            bot_name=bot.get("first_name", "网格通"),
            config=_beside(dict(data["config"]), folder),
            people=people,
            groups=groups,
            registry=registry,
            steps=steps,
            places=places,
        )
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise SceneError(f"scene {name}: {exc.__class__.__name__}: {exc}") from exc


def _step(name: str, raw: dict[str, Any]) -> Step:
    for action in ("start", "say", "press"):
        if action in raw:
            who = int(raw[action])
            text = str(raw.get("text", raw.get("label", "")))
            return Step(action, who, int(raw.get("chat", who)), text)
    raise SceneError(f"scene {name}: a step needs start, say or press: {raw}")


def _beside(config: dict[str, Any], folder: Any) -> dict[str, Any]:
    """``[community] boundaries`` names a file beside the scene: made absolute here."""
    community = config.get("community")
    if not isinstance(community, dict) or not community.get("boundaries"):
        return config
    path = Path(str(community["boundaries"]))
    if not path.is_absolute():
        path = Path(str(folder)) / path
    return {**config, "community": {**community, "boundaries": str(path)}}
