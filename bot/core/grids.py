"""Which grid a group chat serves: a ``/bind`` recorded in the registry wins over the config.

Every feature that acts on a group message (reports, 接龙, votes, notices) asks here, so a group
bound in the chat works for all of them at once.
"""

from __future__ import annotations

from typing import Protocol

from bot.config import Config, GridConfig


class GroupBindings(Protocol):
    async def binding(self, chat_id: int) -> str | None:
        """The grid key a group was bound to with /bind, if any."""
        ...


async def grid_of_chat(
    config: Config, bindings: GroupBindings | None, chat_id: int
) -> GridConfig | None:
    if bindings is not None:
        bound = await bindings.binding(chat_id)
        if bound is not None:
            return config.grid_by_key(bound)
    return config.grid_by_chat(chat_id)
