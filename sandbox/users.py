"""The control side: simulated users acting in chats (what tests use to play residents)."""

from __future__ import annotations

import copy

from sandbox.entities import derive_entities
from sandbox.media import document_json, photo_sizes, store_file, voice_json
from sandbox.methods_chats import member_updated
from sandbox.models import (
    JSON,
    BotAccount,
    CallbackState,
    ChatState,
    Member,
    SandboxError,
    SandboxUser,
    clone,
)
from sandbox.places import location_json, venue_json
from sandbox.state import SandboxState

# A tiny valid 1x1 PNG, used when a test doesn't care about the picture.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class UserActions(SandboxState):
    # ------------------------------------------------------------------ helpers
    def _member_chat(self, chat_id: int, user_id: int, bot_token: str | None) -> ChatState:
        user = self._user(user_id)
        chat = self.chat(chat_id)
        if chat.migrated_to is not None:
            raise SandboxError(f"chat {chat_id} was migrated to {chat.migrated_to}")
        if chat.type == "private":
            if chat.id != user.id:
                raise SandboxError(f"user {user_id} can't write in the private chat {chat_id}")
            bot = self.bot_for(bot_token)
            bot.started_by.add(user.id)
            bot.blocked_by.discard(user.id)
        elif not chat.is_present(user_id):
            raise SandboxError(f"user {user_id} is not a member of chat {chat_id}")
        return chat

    def _post(
        self,
        chat: ChatState,
        user_id: int,
        content: JSON,
        reply_to: int | None,
        bot_token: str | None,
    ) -> JSON:
        if reply_to is not None and reply_to not in chat.messages:
            raise SandboxError(f"no message {reply_to} in chat {chat.id}")
        stored = self.store_message(chat, self.users[user_id], content, reply_to)
        only = self.bot_for(bot_token) if chat.type == "private" else None
        self.deliver_message(chat, stored.data, "message", only_bot=only)
        return clone(stored.data)

    # ------------------------------------------------------------------ messages
    async def start_private(
        self, user_id: int, *, payload: str | None = None, bot_token: str | None = None
    ) -> JSON:
        """The user opens the bot and presses Start: a ``/start`` message is delivered."""
        chat = self._member_chat(self.private_chat(user_id).id, user_id, bot_token)
        text = "/start" + (f" {payload}" if payload else "")
        return self._post(
            chat, user_id, {"text": text, "entities": derive_entities(text)}, None, bot_token
        )

    async def user_sends(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to_message_id: int | None = None,
        entities: list[JSON] | None = None,
        bot_token: str | None = None,
    ) -> JSON:
        chat = self._member_chat(chat_id, user_id, bot_token)
        content: JSON = {"text": text}
        ents = derive_entities(text) if entities is None else entities
        if ents:
            content["entities"] = ents
        return self._post(chat, user_id, content, reply_to_message_id, bot_token)

    async def user_sends_photo(
        self,
        chat_id: int,
        user_id: int,
        caption: str | None = None,
        image_bytes: bytes = TINY_PNG,
        *,
        media_group_id: str | None = None,
        reply_to_message_id: int | None = None,
        bot_token: str | None = None,
    ) -> JSON:
        """A photo; photos of one album share ``media_group_id`` (the caption is on one)."""
        chat = self._member_chat(chat_id, user_id, bot_token)
        content: JSON = {"photo": photo_sizes(self, image_bytes)}
        if media_group_id:
            content["media_group_id"] = media_group_id
        if caption:
            content["caption"] = caption
            if ents := derive_entities(caption):
                content["caption_entities"] = ents
        return self._post(chat, user_id, content, reply_to_message_id, bot_token)

    async def user_sends_document(
        self,
        chat_id: int,
        user_id: int,
        filename: str,
        data: bytes,
        caption: str | None = None,
        *,
        mime_type: str | None = None,
        reply_to_message_id: int | None = None,
        bot_token: str | None = None,
    ) -> JSON:
        chat = self._member_chat(chat_id, user_id, bot_token)
        stored = store_file(self, "document", data, filename, mime_type)
        content: JSON = {"document": document_json(stored)}
        if caption:
            content["caption"] = caption
        return self._post(chat, user_id, content, reply_to_message_id, bot_token)

    async def user_sends_voice(
        self,
        chat_id: int,
        user_id: int,
        duration: int,
        caption: str | None = None,
        *,
        data: bytes = b"OggS\x00\x02voice",
        reply_to_message_id: int | None = None,
        bot_token: str | None = None,
    ) -> JSON:
        """A voice note of ``duration`` seconds (Telegram records OGG/Opus)."""
        chat = self._member_chat(chat_id, user_id, bot_token)
        stored = store_file(self, "voice", data, None, "audio/ogg")
        stored.duration = duration
        content: JSON = {"voice": voice_json(stored, duration)}
        if caption:
            content["caption"] = caption
            if ents := derive_entities(caption):
                content["caption_entities"] = ents
        return self._post(chat, user_id, content, reply_to_message_id, bot_token)

    async def user_sends_location(
        self,
        chat_id: int,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        title: str | None = None,
        address: str | None = None,
        reply_to_message_id: int | None = None,
        bot_token: str | None = None,
    ) -> JSON:
        """The user shares a location (📎 → 位置), or a venue when ``title`` is given (a
        place picked from the map's list: title and address beside the location)."""
        chat = self._member_chat(chat_id, user_id, bot_token)
        if title:
            venue = venue_json(latitude, longitude, title, address)
            content: JSON = {"venue": venue, "location": venue["location"]}
        else:
            content = {"location": location_json(latitude, longitude)}
        return self._post(chat, user_id, content, reply_to_message_id, bot_token)

    async def user_sends_sticker(
        self, chat_id: int, user_id: int, emoji: str = "👍", *, bot_token: str | None = None
    ) -> JSON:
        chat = self._member_chat(chat_id, user_id, bot_token)
        stored = store_file(
            self, "sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp", "image/webp"
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return self._post(chat, user_id, {"sticker": sticker}, None, bot_token)

    async def user_edits(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        new_text: str,
        *,
        bot_token: str | None = None,
    ) -> JSON:
        chat = self._member_chat(chat_id, user_id, bot_token)
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted or stored.sender_id != user_id:
            raise SandboxError(f"user {user_id} has no message {message_id} in {chat_id}")
        stored.data["text"] = new_text
        stored.data.pop("entities", None)
        if ents := derive_entities(new_text):
            stored.data["entities"] = ents
        stored.data["edit_date"] = self.now()
        only = self.bot_for(bot_token) if chat.type == "private" else None
        self.deliver_message(chat, stored.data, "edited_message", only_bot=only)
        return clone(stored.data)

    # ------------------------------------------------------------------ buttons & polls
    async def press_button(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        callback_data: str | None = None,
        button_text: str | None = None,
        *,
        forge: bool = False,
    ) -> str:
        chat = self._member_chat(chat_id, user_id, None)
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise SandboxError(f"no message {message_id} in chat {chat_id}")
        bot = next((b for b in self.bots.values() if b.id == stored.sender_id), None)
        if bot is None:
            raise SandboxError(f"message {message_id} was not sent by a bot")
        buttons = [
            b
            for row in (stored.data.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]
        if not forge:
            matches = [
                b
                for b in buttons
                if (callback_data is None or b["callback_data"] == callback_data)
                and (button_text is None or b["text"] == button_text)
            ]
            if callback_data is None and button_text is None and len(buttons) != 1:
                matches = []
            if not matches:
                labels = [(b["text"], b["callback_data"]) for b in buttons]
                raise SandboxError(
                    f"no matching callback button on message {message_id}; buttons: {labels}"
                )
            callback_data = matches[0]["callback_data"]
        query_id = str(4_300_000_000_000_000_000 + self.next_id())
        self.callbacks[query_id] = CallbackState(
            id=query_id,
            bot_id=bot.id,
            user_id=user_id,
            chat_id=chat.id,
            message_id=message_id,
            data=callback_data,
        )
        query: JSON = {
            "id": query_id,
            "from": self.users[user_id].to_json(),
            "message": clone(stored.data),
            "chat_instance": str(abs(chat.id) * 7919 % 10**18),
        }
        if callback_data is not None:
            query["data"] = callback_data
        self.enqueue(bot, "callback_query", query)
        return query_id

    async def vote_poll(self, poll_id: str, user_id: int, option_ids: list[int]) -> JSON:
        poll_state = self.polls.get(str(poll_id))
        if poll_state is None:
            raise SandboxError(f"unknown poll {poll_id}")
        self._member_chat(poll_state.chat_id, user_id, None)
        poll = poll_state.data
        if poll["is_closed"]:
            raise SandboxError("poll is closed")
        if any(not 0 <= i < len(poll["options"]) for i in option_ids):
            raise SandboxError(f"invalid option ids {option_ids}")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise SandboxError("poll doesn't allow multiple answers")
        previous = poll_state.votes.get(user_id)
        if previous and not poll["allows_revoting"]:
            raise SandboxError("poll doesn't allow changing the vote")
        for i in previous or []:
            poll["options"][i]["voter_count"] -= 1
        for i in option_ids:
            poll["options"][i]["voter_count"] += 1
        if option_ids:
            poll_state.votes[user_id] = list(option_ids)
        else:
            poll_state.votes.pop(user_id, None)
        poll["total_voter_count"] = len(poll_state.votes)
        bot = next(b for b in self.bots.values() if b.id == poll_state.bot_id)
        if not poll["is_anonymous"]:
            answer = {
                "poll_id": poll["id"],
                "user": self.users[user_id].to_json(),
                "option_ids": list(option_ids),
                "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
            }
            self.enqueue(bot, "poll_answer", answer)
        self.enqueue(bot, "poll", poll)
        return clone(poll)

    # ------------------------------------------------------------------ membership
    def _service(self, chat: ChatState, actor: SandboxUser, content: JSON) -> JSON:
        stored = self.store_message(chat, actor, content)
        self.deliver_message(chat, stored.data)
        return clone(stored.data)

    def _chat_member_update(
        self,
        chat: ChatState,
        actor: SandboxUser,
        subject: SandboxUser,
        old: Member | None,
        new: Member | None,
    ) -> None:
        update = member_updated(self, chat, actor, subject, old, new)
        for bot in self.bots.values():
            if bot.id == subject.id:
                self.enqueue(bot, "my_chat_member", update)
            elif chat.status_of(bot.id) in ("administrator", "creator"):
                self.enqueue(bot, "chat_member", update)

    async def join(self, chat_id: int, user_id: int, *, by_user_id: int | None = None) -> JSON:
        chat = self.chat(chat_id)
        user = self._user(user_id)
        if chat.type == "private" or chat.is_present(user_id):
            raise SandboxError(f"user {user_id} can't join chat {chat_id}")
        actor = self._user(by_user_id) if by_user_id is not None else user
        old = chat.members.get(user_id)
        chat.members[user_id] = Member("member")
        message = self._service(chat, actor, {"new_chat_members": [user.to_json()]})
        self._chat_member_update(chat, actor, user, old, chat.members[user_id])
        return message

    async def leave(self, chat_id: int, user_id: int) -> JSON:
        chat = self.chat(chat_id)
        user = self._user(user_id)
        if chat.type == "private" or not chat.is_present(user_id):
            raise SandboxError(f"user {user_id} is not in chat {chat_id}")
        old = chat.members[user_id]
        chat.members[user_id] = Member("left")
        message = self._service(chat, user, {"left_chat_member": user.to_json()})
        self._chat_member_update(chat, user, user, old, chat.members[user_id])
        return message

    async def remove_bot(
        self, chat_id: int, by_user_id: int, *, bot_token: str | None = None
    ) -> None:
        chat = self.chat(chat_id)
        bot = self.bot_for(bot_token)
        if chat.type == "private" or not chat.is_present(bot.id):
            raise SandboxError(f"bot is not in chat {chat_id}")
        old = chat.members[bot.id]
        chat.members[bot.id] = Member("kicked" if chat.type == "supergroup" else "left")
        self.enqueue(
            bot,
            "my_chat_member",
            member_updated(
                self, chat, self._user(by_user_id), bot.user, old, chat.members[bot.id]
            ),
        )

    async def add_bot_to_group(
        self,
        chat_id: int,
        by_user_id: int,
        *,
        as_admin: bool = False,
        bot_token: str | None = None,
    ) -> JSON:
        chat = self.chat(chat_id)
        bot = self.bot_for(bot_token)
        actor = self._user(by_user_id)
        if chat.type == "private" or chat.is_present(bot.id):
            raise SandboxError(f"bot can't be added to chat {chat_id}")
        old = chat.members.get(bot.id)
        chat.members[bot.id] = Member("administrator" if as_admin else "member")
        self.enqueue(
            bot,
            "my_chat_member",
            member_updated(self, chat, actor, bot.user, old, chat.members[bot.id]),
        )
        return self._service(chat, actor, {"new_chat_members": [bot.user.to_json()]})

    def block_bot(self, user_id: int, *, bot_token: str | None = None) -> None:
        self._set_blocked(user_id, True, bot_token)

    def unblock_bot(self, user_id: int, *, bot_token: str | None = None) -> None:
        self._set_blocked(user_id, False, bot_token)

    def _set_blocked(self, user_id: int, blocked: bool, bot_token: str | None) -> None:
        bot: BotAccount = self.bot_for(bot_token)
        user = self._user(user_id)
        chat = self.private_chat(user_id)
        was = Member("kicked") if user_id in bot.blocked_by else Member("member")
        if blocked:
            bot.blocked_by.add(user_id)
        else:
            bot.blocked_by.discard(user_id)
            bot.started_by.add(user_id)
        now = Member("kicked") if blocked else Member("member")
        if was.status != now.status:
            self.enqueue(
                bot, "my_chat_member", member_updated(self, chat, user, bot.user, was, now)
            )

    async def migrate_to_supergroup(self, chat_id: int) -> int:
        """Upgrade a basic group; returns the new supergroup id (-100...)."""
        old = self.chat(chat_id)
        if old.type != "group" or old.migrated_to is not None:
            raise SandboxError(f"chat {chat_id} is not a basic group")
        new_id = -(1_002_000_000_000 + next(self._next_group))
        new = ChatState(
            id=new_id,
            type="supergroup",
            title=old.title,
            members=copy.deepcopy(old.members),
            migrated_from=old.id,
        )
        self.chats[new_id] = new
        owner_id = next((u for u, m in old.members.items() if m.status == "creator"), None)
        actor = self.users[owner_id] if owner_id is not None else next(iter(self.users.values()))
        self._service(old, actor, {"migrate_to_chat_id": new_id})
        old.migrated_to = new_id
        self._service(new, actor, {"migrate_from_chat_id": old.id})
        return new_id
