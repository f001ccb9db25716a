"""Which grid a group chat serves: the one owner of that rule (issue #13 items 3 and 18).

A chat belongs to a grid through, in order of precedence:

1. a ``/bind`` made in the chat (the registry's ``group_bindings``), which wins over
2. the config's ``[[community.grids]] chat_id``;

and each applies to the chat under every id it has had: when a basic group is upgraded to a
supergroup (Telegram's ``migrate_to_chat_id``), the new supergroup inherits what its old id
was bound to or configured as (``chat_migrations``). A ``/bind`` made after the upgrade, under
the new id, wins over anything inherited.

Every feature asks here: reports, 接龙, votes and notices (``grid_of_chat``/``key_of_chat``),
and everything pushed to the groups of some grids — civic pushes and meetings
(``chats_of_grids``), which name each group once, under its current id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.config import Config, GridConfig

COMMUNITY = ""  # a group bound to the whole community with ``/bind`` without a grid


class ChatGridStore(Protocol):
    async def bindings(self) -> dict[int, str]:
        """Every group bound with /bind: chat id → grid key ('' = the whole community)."""
        ...

    async def migrations(self) -> dict[int, int]:
        """Every basic group upgraded to a supergroup: old chat id → new chat id."""
        ...

    async def tables(self) -> tuple[dict[int, str], dict[int, int]]:
        """``(bindings(), migrations())`` read together."""
        ...


class ChatGrids:
    def __init__(self, config: Config, store: ChatGridStore | None) -> None:
        self.config = config
        self.store = store  # None: the config alone (no database)

    async def key_of_chat(self, chat_id: int) -> str | None:
        """The grid key ``chat_id`` serves, '' for the whole community, None if unbound."""
        bindings, migrations = await self._tables()
        return _key_of(self.config, bindings, migrations, chat_id)

    async def grid_of_chat(self, chat_id: int) -> GridConfig | None:
        """The grid ``chat_id`` serves, or None (unbound, or bound to the whole community)."""
        key = await self.key_of_chat(chat_id)
        return None if key is None else self.config.grid_by_key(key)

    async def community_of_chat(self, chat_id: int) -> str | None:
        """The key of the community ``chat_id`` serves (issue #15): its grid's community; a
        group bound to the whole community belongs to the only one; None if unbound."""
        key = await self.key_of_chat(chat_id)
        if key is None:
            return None
        if key == COMMUNITY:
            return None if self.config.several else self.config.communities[0].key
        community = self.config.community_of_grid(key)
        return community.key if community is not None else None

    async def chats_of_grids(self, grids: Iterable[str]) -> tuple[int, ...]:
        """The groups serving any of ``grids`` ('' = community-wide groups), each once, by its
        current id: the config's groups in config order, then groups bound with /bind."""
        wanted = set(grids)
        bindings, migrations = await self._tables()
        known = [g.chat_id for g in self.config.grids if g.chat_id is not None]
        candidates = [*known, *sorted(bindings)]
        current = dict.fromkeys(_current(migrations, chat) for chat in candidates)
        return tuple(
            chat for chat in current if _key_of(self.config, bindings, migrations, chat) in wanted
        )

    async def _tables(self) -> tuple[dict[int, str], dict[int, int]]:
        if self.store is None:
            return {}, {}
        return await self.store.tables()


def _key_of(
    config: Config, bindings: dict[int, str], migrations: dict[int, int], chat_id: int
) -> str | None:
    ids = _lineage(migrations, chat_id)
    for chat in ids:
        if chat in bindings:
            return bindings[chat]
    for chat in ids:
        grid = config.grid_by_chat(chat)
        if grid is not None:
            return grid.key
    return None


def _lineage(migrations: dict[int, int], chat_id: int) -> list[int]:
    """``chat_id`` and the ids it had before, newest first."""
    before = {new: old for old, new in migrations.items()}
    ids = [chat_id]
    while ids[-1] in before and before[ids[-1]] not in ids:
        ids.append(before[ids[-1]])
    return ids


def _current(migrations: dict[int, int], chat_id: int) -> int:
    """The id a chat has now, following its upgrades."""
    seen = {chat_id}
    while chat_id in migrations and migrations[chat_id] not in seen:
        chat_id = migrations[chat_id]
        seen.add(chat_id)
    return chat_id
