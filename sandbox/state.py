"""Core sandbox state: accounts, chats, messages, update queues and change notification."""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.flood import FloodControl, FloodLimits
from sandbox.models import (
    ALL_UPDATE_TYPES,
    JSON,
    ApiError,
    BotAccount,
    CallbackAnswer,
    CallbackState,
    CallRecord,
    ChatState,
    Member,
    PollState,
    SandboxError,
    SandboxUser,
    SentRecord,
    Stats,
    StoredFile,
    StoredMessage,
    bad_request,
    clone,
    forbidden,
)
from sandbox.spec import ApiSpec, load_spec

Handler = Callable[["SandboxState", BotAccount, JSON], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}
_TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method implementation under its canonical name."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


# Everything said and done in a sandbox (SandboxState.saved): accounts, chats and their messages,
# update queues, files, polls, buttons, the records, the id counters. Not its clock, the API
# description or the change notification, which belong to the server that runs it.
SAVED_STATE = (
    "bots",
    "default_bot",
    "users",
    "chats",
    "files",
    "files_by_path",
    "polls",
    "callbacks",
    "sent",
    "calls",
    "callback_answers",
    "unknown_params",
    "stats",
    "flood",
    "_ids",
    "_next_user_id",
    "_next_group",
)

# What makes a message a person's message rather than a service message (for privacy mode).
_CONTENT = ("text", "caption", "sticker", "location", "venue")


class SandboxState:
    def __init__(
        self, *, flood: FloodLimits | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.clock: Callable[[], float] = clock or time.time
        self.spec: ApiSpec = load_spec()
        self.bots: dict[str, BotAccount] = {}
        self.default_bot: BotAccount | None = None
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.polls: dict[str, PollState] = {}
        self.callbacks: dict[str, CallbackState] = {}
        self.sent: list[SentRecord] = []
        self.calls: list[CallRecord] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.unknown_params: list[tuple[str, str]] = []
        self.stats = Stats()
        self.flood = FloodControl()
        self.flood.limits = flood
        self.closing = False
        self._changed = asyncio.Event()
        self._ids = itertools.count(1)
        self._next_user_id = 5_000_000_001
        self._next_group = itertools.count(1)

    # ------------------------------------------------------------------ saving
    def saved(self) -> dict[str, Any]:
        """A copy of everything said and done here (``SAVED_STATE``), for :meth:`load`."""
        return copy.deepcopy({name: getattr(self, name) for name in SAVED_STATE})

    def load(self, saved: dict[str, Any]) -> None:
        """Take up a saved state (a copy of it: ``saved`` can be loaded again elsewhere)."""
        for name, value in copy.deepcopy(saved).items():
            setattr(self, name, value)
        self.notify()

    # ------------------------------------------------------------------ notification
    def notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_change(self, timeout: float) -> bool:  # noqa: ASYNC109
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_for(
        self,
        predicate: Callable[[Any], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Any:
        """Wait until ``predicate(server)`` is truthy and return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            value = predicate(self)
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                calls = [(c.method, c.status, c.description) for c in self.calls[-8:]]
                sent = [(s.method, s.chat_id, (s.text or "")[:60]) for s in self.sent[-5:]]
                raise TimeoutError(
                    f"sandbox condition not met within {timeout}s; last calls={calls}; "
                    f"last sent={sent}; pending updates="
                    f"{[len(b.updates) for b in self.bots.values()]}"
                )
            try:
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))
            except TimeoutError:
                pass

    def now(self) -> int:
        return int(self.clock())

    def next_id(self) -> int:
        return next(self._ids)

    # ------------------------------------------------------------------ accounts
    def add_bot(
        self,
        token: str = "123456:TEST",
        username: str = "gridbot",
        first_name: str = "网格通",
        *,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = True,
        supports_inline_queries: bool = False,
    ) -> BotAccount:
        m = _TOKEN_RE.match(token)
        if m is None:
            raise SandboxError(f"malformed bot token {token!r}")
        user = SandboxUser(
            id=int(m.group(1)), first_name=first_name, username=username, is_bot=True
        )
        bot = BotAccount(
            user=user,
            token=token,
            can_join_groups=can_join_groups,
            can_read_all_group_messages=can_read_all_group_messages,
            supports_inline_queries=supports_inline_queries,
        )
        self.bots[token] = bot
        self.users[user.id] = user
        if self.default_bot is None:
            self.default_bot = bot
        return bot

    def bot_for(self, token: str | None = None) -> BotAccount:
        if token is None:
            if self.default_bot is None:
                self.add_bot()
            assert self.default_bot is not None
            return self.default_bot
        if token not in self.bots:
            raise SandboxError(f"unknown bot token {token!r}")
        return self.bots[token]

    def add_user(
        self,
        first_name: str = "用户",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        *,
        id: int | None = None,
    ) -> SandboxUser:
        if id is None:
            id = self._next_user_id
            self._next_user_id += 1
        user = SandboxUser(
            id=id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[id] = user
        return user

    def add_group(
        self,
        title: str = "测试群",
        members: list[int] | None = None,
        *,
        supergroup: bool = False,
        bot_is_member: bool = True,
        bot_is_admin: bool = False,
        admins: list[int] | None = None,
        creator: int | None = None,
        username: str | None = None,
        bot_token: str | None = None,
        id: int | None = None,
    ) -> ChatState:
        n = next(self._next_group)
        if id is None:
            id = -(1_002_000_000_000 + n) if supergroup else -(4_000_000_000 + n)
        chat = ChatState(
            id=id, type="supergroup" if supergroup else "group", title=title, username=username
        )
        members = list(members or [])
        for uid in members:
            self._user(uid)
            chat.members[uid] = Member("member")
        owner = creator if creator is not None else (members[0] if members else None)
        if owner is not None:
            chat.members[owner] = Member("creator")
        for uid in admins or []:
            chat.members[uid] = Member("administrator")
        if bot_is_member or bot_is_admin:
            bot = self.bot_for(bot_token)
            chat.members[bot.id] = Member("administrator" if bot_is_admin else "member")
        self.chats[id] = chat
        return chat

    def _user(self, user_id: int) -> SandboxUser:
        if user_id not in self.users:
            raise SandboxError(f"unknown user {user_id}")
        return self.users[user_id]

    def chat(self, chat_id: int) -> ChatState:
        if chat_id not in self.chats:
            if chat_id in self.users:
                return self.private_chat(chat_id)
            raise SandboxError(f"unknown chat {chat_id}")
        return self.chats[chat_id]

    def private_chat(self, user_id: int) -> ChatState:
        chat = self.chats.get(user_id)
        if chat is None:
            chat = ChatState(id=user_id, type="private", user=self._user(user_id))
            chat.members[user_id] = Member("member")
            self.chats[user_id] = chat
        return chat

    # ------------------------------------------------------------------ messages
    def store_message(
        self, chat: ChatState, sender: SandboxUser, content: JSON, reply_to: int | None = None
    ) -> StoredMessage:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        data: JSON = {
            "message_id": message_id,
            "from": sender.to_json(),
            "chat": chat.to_json(),
            "date": self.now(),
        }
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is not None and not target.deleted:
                replied = clone(target.data)
                replied.pop("reply_to_message", None)
                data["reply_to_message"] = replied
        data.update(content)
        stored = StoredMessage(data=data, sender_id=sender.id)
        chat.messages[message_id] = stored
        return stored

    def chat_messages(self, chat_id: int, include_deleted: bool = False) -> list[JSON]:
        chat = self.chat(chat_id)
        return [
            clone(m.data) | ({"_deleted": True} if m.deleted else {})
            for m in chat.messages.values()
            if include_deleted or not m.deleted
        ]

    def enqueue(self, bot: BotAccount, kind: str, payload: JSON) -> JSON | None:
        if not bot.accepts(kind):
            self.stats.updates_filtered += 1
            return None
        update = {"update_id": bot.next_update_id, kind: clone(payload)}
        bot.next_update_id += 1
        bot.updates.append(update)
        self.stats.updates_queued += 1
        self.notify()
        return update

    def inject_raw_update(self, update: JSON, bot_token: str | None = None) -> JSON:
        bot = self.bot_for(bot_token)
        update = clone(update)
        if "update_id" not in update:
            update["update_id"] = bot.next_update_id
        if bot.updates and int(bot.updates[-1].get("update_id", 0)) >= int(update["update_id"]):
            bot.updates_ascend = False
        bot.filtered_for = None  # not checked against allowed_updates on its way in
        bot.next_update_id = max(bot.next_update_id, int(update["update_id"]) + 1)
        bot.updates.append(update)
        self.stats.updates_queued += 1
        self.notify()
        return update

    def pending_updates(self, token: str | None = None) -> list[JSON]:
        return clone(self.bot_for(token).updates)

    def confirm_updates(self, bot: BotAccount, offset: int | None) -> None:
        """Drop the updates ``offset`` confirms, and those the bot no longer accepts.

        Without a walk over the whole queue when it can be helped: a bot behind by 20,000
        updates asks 200 times for the next 100, and two walks over all of them each time
        were a quarter of the sandbox's CPU in the ingest benchmark (issue #15 item 6), a
        cost Telegram does not put on a bot."""
        if offset:
            before = len(bot.updates)
            if offset > 0 and bot.updates_ascend:
                updates, cut = bot.updates, 0
                while cut < len(updates) and int(updates[cut].get("update_id", 0)) < offset:
                    cut += 1
                bot.updates = updates[cut:]
            elif offset > 0:
                bot.updates = [u for u in bot.updates if int(u.get("update_id", 0)) >= offset]
            else:
                bot.updates = bot.updates[offset:]
            self.stats.updates_delivered += before - len(bot.updates)
        # enqueue() keeps out what the bot does not accept; the queue is filtered again only
        # when allowed_updates changed since (or a raw update came in unfiltered).
        allowed = tuple(bot.allowed_updates or ())
        if bot.filtered_for == allowed:
            return
        bot.filtered_for = allowed
        kept = []
        for update in bot.updates:
            kinds = [k for k in update if k in ALL_UPDATE_TYPES]
            if kinds and not bot.accepts(kinds[0]):
                self.stats.updates_filtered += 1
                continue
            kept.append(update)
        bot.updates = kept

    def deliver_message(
        self,
        chat: ChatState,
        message: JSON,
        kind: str = "message",
        only_bot: BotAccount | None = None,
    ) -> None:
        """Queue a user-originated message update to every bot that would see it."""
        sender_id = message.get("from", {}).get("id")
        for bot in self.bots.values():
            if only_bot is not None and bot is not only_bot:
                continue
            if bot.id == sender_id:
                continue
            if chat.type == "private":
                if only_bot is None and bot is not self.bot_for(None):
                    continue
                if chat.id in bot.blocked_by:
                    continue
            elif not chat.is_present(bot.id) or not self._bot_sees(bot, chat, message):
                continue
            self.enqueue(bot, kind, message)

    def _bot_sees(self, bot: BotAccount, chat: ChatState, message: JSON) -> bool:
        if bot.can_read_all_group_messages or chat.status_of(bot.id) == "administrator":
            return True
        if not any(key in message for key in _CONTENT):
            return True  # service message
        text = message.get("text") or message.get("caption") or ""
        command = re.match(r"/[A-Za-z0-9_]+(@([A-Za-z0-9_]+))?", text)
        if command and (not command.group(2) or command.group(2) == bot.user.username):
            return True
        reply = message.get("reply_to_message") or {}
        return bool(reply.get("from", {}).get("id") == bot.id)

    # ------------------------------------------------------------------ bot-side checks
    def resolve_chat(self, value: Any) -> ChatState:
        if isinstance(value, str):
            name = value.lstrip("@").lower()
            # like Telegram, "@username" only resolves public groups, never private users
            named = [c for c in self.chats.values() if (c.username or "").lower() == name]
            if not named:
                raise bad_request("chat not found")
            chat = named[0]
        else:
            found = self.chats.get(value)
            if found is None:
                person = self.users.get(value)
                if person is None or person.is_bot:
                    raise bad_request("chat not found")
                found = self.private_chat(value)
            chat = found
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def check_access(self, bot: BotAccount, chat: ChatState) -> None:
        if chat.type == "private":
            if chat.user is not None and chat.user.is_bot:
                raise forbidden("bot can't send messages to bots")
            if chat.id in bot.blocked_by:
                raise forbidden("bot was blocked by the user")
            if chat.id not in bot.started_by:
                raise forbidden("bot can't initiate conversation with a user")
            return
        status = chat.status_of(bot.id)
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.kind_label()}")
        if status not in ("creator", "administrator", "member", "restricted"):
            raise forbidden(f"bot is not a member of the {chat.kind_label()}")

    def check_flood(self, chat: ChatState) -> None:
        wait = self.flood.retry_after(chat.id, chat.type, self.clock())
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})

    def record_sent(self, method: str, chat_id: int, message: JSON | None, params: JSON) -> None:
        text = None
        markup = None
        message_id = params.get("message_id")
        if message is not None:
            text = message.get("text", message.get("caption"))
            markup = message.get("reply_markup")
            message_id = message.get("message_id", message_id)
        self.sent.append(
            SentRecord(
                method=method,
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                reply_markup=clone(markup),
                params=params,
                at=self.clock(),
            )
        )

    def max_in_window(self, chat_id: int, seconds: float) -> int:
        """Most accepted sends to ``chat_id`` that fell inside any ``seconds``-long window."""
        return self.flood.max_in_window(chat_id, seconds)

    def max_in_window_global(self, seconds: float) -> int:
        return self.flood.max_in_window_global(seconds)

    def set_flood(self, limits: FloodLimits | None) -> None:
        self.flood.limits = limits

    # ------------------------------------------------------------------ hooks
    def webhook_changed(self, bot: BotAccount) -> None:
        """Called when a bot's webhook is set or removed (the HTTP server overrides this)."""
