"""The scope of an owners' decision (issue #6; issue #13 item 14): who is asked.

Typed as ``community``, ``building:3``, ``unit:3-2`` or ``grid:g1`` (a grid's key or name; the
Chinese words 小区/社区, 楼栋/楼, 单元 and 网格 work too) and stored in that canonical form, so the
presenter can say 「3号楼2单元」 from the catalogue instead of showing the command syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.config import Config
from bot.core.errors import InvalidInput

_SCOPE: Final = re.compile(
    r"^(?:(?:unit|单元)[:：](\w+)-(\w+)|(?:building|楼栋|楼)[:：](\w+)"
    r"|(?:grid|网格)[:：](\S+)|(community|小区|社区))$"
)


@dataclass(frozen=True)
class VoteScope:
    """One of four kinds: the whole community, a building, a unit of a building, or a grid."""

    kind: str  # community | building | unit | grid
    building: str | None = None
    unit: str | None = None
    grid: str | None = None  # the grid's key

    @property
    def canonical(self) -> str:
        """The stored form: ``unit:3-2``, ``building:3``, ``grid:g1``, ``community``."""
        if self.kind == "unit":
            return f"unit:{self.building}-{self.unit}"
        if self.kind == "building":
            return f"building:{self.building}"
        if self.kind == "grid":
            return f"grid:{self.grid}"
        return "community"


def scope_of(text: str, config: Config | None = None) -> VoteScope:
    """Parse a typed scope; a grid is matched by key or name against ``config``'s grids."""
    match = _SCOPE.match(text.strip())
    if match is None:
        raise InvalidInput("votes.errors.scope", text=text)
    if match[1]:
        return VoteScope("unit", building=match[1], unit=match[2])
    if match[3]:
        return VoteScope("building", building=match[3])
    if match[4]:
        grids = config.grids if config is not None else ()
        # by key first (unique across communities), then by name
        grid = next((g.key for g in grids if match[4] == g.key), None) or next(
            (g.key for g in grids if match[4] == g.name), None
        )
        if grid is None:
            raise InvalidInput("votes.errors.scope", text=text)
        return VoteScope("grid", grid=grid)
    return VoteScope("community")
