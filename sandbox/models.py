"""Plain data held by the sandbox and builders for Bot API JSON objects."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

JSON = dict[str, Any]
_Value = TypeVar("_Value")


def clone(value: _Value) -> _Value:
    """A copy of Bot API JSON (dicts, lists and plain values) sharing nothing mutable with it:
    what ``copy.deepcopy`` gives here, at a fraction of its cost (no memo, no dispatch on
    types JSON never holds). Every message the sandbox hands out or stores is copied so no
    caller can change what the sandbox holds; deepcopy was ~2% of the suite's CPU."""
    if isinstance(value, dict):
        return cast(_Value, {key: clone(item) for key, item in value.items()})
    if isinstance(value, list):
        return cast(_Value, [clone(item) for item in value])
    return value


MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
PRESENT_STATUSES = ("creator", "administrator", "member", "restricted")
ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """A Bot API error response (``ok: false``)."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str, parameters: JSON | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {message}", parameters)


def forbidden(message: str) -> ApiError:
    return ApiError(403, f"Forbidden: {message}")


class SandboxError(RuntimeError):
    """Misuse of the control API (e.g. a user posting in a chat they are not in)."""


@dataclass
class SandboxUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotAccount:
    user: SandboxUser
    token: str
    can_join_groups: bool = True
    can_read_all_group_messages: bool = True
    supports_inline_queries: bool = False
    updates: list[JSON] = field(default_factory=list)
    next_update_id: int = 100_000_001
    allowed_updates: list[str] | None = None
    # Whether ``updates`` ascend by update_id (enqueue numbers them in order; a raw update
    # injected with an id of its own may not), and the allowed_updates the queue was last
    # filtered for: with both, a getUpdates need not walk the whole queue (SandboxState).
    updates_ascend: bool = True
    filtered_for: tuple[str, ...] | None = None
    webhook: Webhook | None = None
    poll_generation: int = 0
    started_by: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    commands: dict[str, list[JSON]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.user.id

    def get_me(self) -> JSON:
        data = self.user.to_json()
        data.update(
            can_join_groups=self.can_join_groups,
            can_read_all_group_messages=self.can_read_all_group_messages,
            supports_inline_queries=self.supports_inline_queries,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        return data

    def accepts(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES


@dataclass
class Member:
    status: str
    rights: JSON = field(default_factory=dict)
    until_date: int = 0


ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_pin_messages": True,
}
RESTRICTED_DEFAULTS: JSON = {
    "is_member": True,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_react_to_messages": False,
    "can_edit_tag": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


def member_json(user: SandboxUser, member: Member | None) -> JSON:
    status = member.status if member else "left"
    data: JSON = {"status": status, "user": user.to_json()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        assert member is not None
        data.update({**ADMIN_RIGHTS, **member.rights})
    elif status == "restricted":
        assert member is not None
        data.update({**RESTRICTED_DEFAULTS, **member.rights, "until_date": member.until_date})
    elif status == "kicked":
        data["until_date"] = member.until_date if member else 0
    return data


@dataclass
class StoredMessage:
    data: JSON
    sender_id: int
    deleted: bool = False
    poll_id: str | None = None


@dataclass
class ChatState:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    user: SandboxUser | None = None  # the other party of a private chat
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    migrated_to: int | None = None
    migrated_from: int | None = None
    pinned: list[int] = field(default_factory=list)
    description: str | None = None

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            assert self.user is not None
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title
            if self.username:
                data["username"] = self.username
        return data

    def status_of(self, user_id: int) -> str:
        member = self.members.get(user_id)
        return member.status if member else "left"

    def is_present(self, user_id: int) -> bool:
        return self.status_of(user_id) in PRESENT_STATUSES

    def kind_label(self) -> str:
        return "supergroup chat" if self.type == "supergroup" else "group chat"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    filename: str | None = None
    mime_type: str | None = None
    duration: int = 0  # seconds, for a voice note

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class UploadedFile:
    """A file received in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def to_json(self, with_data: bool = False) -> JSON:
        out: JSON = {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": hashlib.sha256(self.data).hexdigest(),
        }
        if with_data:
            out["data_b64"] = base64.b64encode(self.data).decode()
        return out


@dataclass
class PollState:
    id: str
    chat_id: int
    message_id: int
    data: JSON
    votes: dict[int, list[int]] = field(default_factory=dict)
    bot_id: int = 0


@dataclass
class CallbackState:
    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    answered: bool = False


@dataclass
class SentRecord:
    method: str
    chat_id: int
    message_id: int | None
    text: str | None
    reply_markup: JSON | None
    params: JSON
    at: float


@dataclass
class CallRecord:
    method: str
    params: JSON
    status: int
    description: str | None
    at: float
    token: str = ""


@dataclass
class CallbackAnswer:
    id: str
    text: str | None
    show_alert: bool
    url: str | None
    at: float


@dataclass
class Stats:
    calls: int = 0
    errors: int = 0
    rate_limited: int = 0
    injected_failures: int = 0
    dropped_connections: int = 0
    updates_queued: int = 0
    updates_filtered: int = 0
    updates_delivered: int = 0
    webhook_failures: int = 0
    by_method: dict[str, int] = field(default_factory=dict)


def to_jsonable(value: Any) -> Any:
    """Convert records (dataclasses, uploads, tuples) into plain JSON values."""
    if isinstance(value, UploadedFile):
        return value.to_json()
    if isinstance(value, bytes):
        return {"size": len(value)}
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    return value
