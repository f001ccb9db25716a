"""One PTB handler per group that asks only the handlers that could take the update.

PTB asks the handlers of a group one by one (``check_update``) until one takes the update.
Gridbot's group 0 has some sixty, so a plain group message, most of the traffic, was checked
against 27 command handlers, 14 button handlers and a dozen private-chat handlers before the
report handler or nothing took it: ~46 filter checks per update, a twelfth of the event loop in
the ingest benchmark (issue #15 item 6).

:class:`Router` holds a group's handlers in their order and asks, for each kind of update, the
same handlers in the same order less those that cannot take any update of that kind:

- by the handler's own type (PTB's classes, not subclasses, whose check we know): a
  ``CommandHandler`` takes only a message whose first entity is a command at offset 0; a
  ``CallbackQueryHandler`` only a button press; ``PollHandler``, ``PollAnswerHandler`` and
  ``ChatMemberHandler`` only their own kind of update;
- by the filters a ``MessageHandler``'s filter must all pass (``A & B & …``): a test of the
  update's type (``filters.UpdateType.*``) or of the chat's type (``filters.ChatType.*``)
  gives the same answer for every update of a kind, so it is asked once per kind.

A kind is which of the update's fields are set, the type of the chat of its message, and
whether that message starts with a command: everything those tests read. So the first handler
to take an update is the one PTB would have found, and one handler still runs per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from telegram import MessageEntity, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    PollHandler,
    filters,
)
from telegram.ext._utils.types import CCT

_AnyHandler = BaseHandler[Any, Any, Any]
Kind = tuple[tuple[str, ...], str | None, bool]

# Filters whose answer depends only on the kind of update (the fields set, the chat's type).
_KIND_FILTERS: tuple[filters.BaseFilter, ...] = (
    filters.UpdateType.MESSAGE,
    filters.UpdateType.MESSAGES,
    filters.UpdateType.EDITED_MESSAGE,
    filters.UpdateType.EDITED,
    filters.UpdateType.CHANNEL_POST,
    filters.UpdateType.CHANNEL_POSTS,
    filters.UpdateType.EDITED_CHANNEL_POST,
    filters.ChatType.PRIVATE,
    filters.ChatType.GROUP,
    filters.ChatType.SUPERGROUP,
    filters.ChatType.GROUPS,
    filters.ChatType.CHANNEL,
)
# A handler of one of these types takes only updates with one of these fields set.
_FIELDS_OF: dict[type[Any], frozenset[str]] = {
    CallbackQueryHandler: frozenset({"callback_query"}),
    PollHandler: frozenset({"poll"}),
    PollAnswerHandler: frozenset({"poll_answer"}),
    ChatMemberHandler: frozenset({"my_chat_member", "chat_member"}),
}


async def _never_called(update: object, context: object) -> None:  # pragma: no cover
    raise AssertionError("the router hands updates to its handlers' callbacks")


class Router(BaseHandler[Update, CCT, Any]):
    """A group's handlers behind one: see the module docstring. Every handler must block
    (PTB's default), as the router itself does."""

    def __init__(self, handlers: Sequence[_AnyHandler]) -> None:
        super().__init__(_never_called)
        for handler in handlers:
            if handler.block is not True and handler.block is not self.block:
                raise ValueError(f"{handler!r} does not block: it cannot be routed")
        self.handlers = list(handlers)
        self._by_kind: dict[Kind, list[_AnyHandler]] = {}

    def check_update(self, update: object) -> tuple[_AnyHandler, object] | None:
        if not isinstance(update, Update):
            return None
        kind = kind_of(update)
        candidates = self._by_kind.get(kind)
        if candidates is None:
            candidates = self._by_kind[kind] = [
                handler for handler in self.handlers if _may_take(handler, update, kind)
            ]
        for handler in candidates:
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check
        return None

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, CCT, Any, Any, Any, Any],
        check_result: object,
        context: CCT,
    ) -> Any:
        handler, check = cast(tuple[_AnyHandler, object], check_result)  # check_update's
        return await handler.handle_update(update, application, check, context)


def kind_of(update: Update) -> Kind:
    """What the tests the router asks once per kind read of an update."""
    fields = tuple(name for name in Update.ALL_TYPES if getattr(update, name, None) is not None)
    message = update.effective_message
    if message is None:
        return fields, None, False
    entities = message.entities
    command = bool(entities) and entities[0].type == MessageEntity.BOT_COMMAND
    return fields, message.chat.type, command and entities[0].offset == 0


def _may_take(handler: _AnyHandler, update: Update, kind: Kind) -> bool:
    """False only when ``handler`` can take no update of ``update``'s kind."""
    fields, _, command = kind
    kind_type = type(handler)
    if kind_type is CommandHandler:
        return command
    needed = _FIELDS_OF.get(kind_type)
    if needed is not None:
        return not needed.isdisjoint(fields)
    if kind_type is MessageHandler:
        assert isinstance(handler, MessageHandler)
        return all(
            bool(leaf.check_update(update))
            for leaf in _all_of(handler.filters)
            if any(leaf is known for known in _KIND_FILTERS)
        )
    return True


def _all_of(given: filters.BaseFilter) -> list[filters.BaseFilter]:
    """The filters ``given`` needs all of: ``A & B & C`` gives A, B and C (PTB's merged filter
    with an ``and_filter``); anything else is one filter."""
    base = getattr(given, "base_filter", None)
    also = getattr(given, "and_filter", None)
    if base is not None and also is not None:
        return [*_all_of(base), *_all_of(also)]
    return [given]
