"""Access to the trimmed Bot API description in ``api_spec.json``.

The JSON is a subset of the MIT-licensed machine-readable Bot API description (see its
``_license`` field).  It is used to coerce form-encoded parameters to their declared types,
to flag unknown/missing parameters and, in tests, to check that every object the sandbox
produces only uses fields that exist in the Bot API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("api_spec.json")

# Methods the sandbox implements (canonical Bot API spelling).
IMPLEMENTED_METHODS: tuple[str, ...] = (
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "deleteMessage",
    "answerCallbackQuery",
    "sendPoll",
    "stopPoll",
    "sendPhoto",
    "sendDocument",
    "sendMediaGroup",
    "sendVoice",
    "sendLocation",
    "sendVenue",
    "getFile",
    "getChat",
    "getChatMember",
    "getChatAdministrators",
    "getChatMemberCount",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "pinChatMessage",
    "unpinChatMessage",
    "sendChatAction",
    "leaveChat",
)

# Types kept in the trimmed copy (objects produced or accepted by the sandbox).
KEPT_TYPES: tuple[str, ...] = (
    "Update",
    "Message",
    "InaccessibleMessage",
    "MaybeInaccessibleMessage",
    "User",
    "Chat",
    "ChatFullInfo",
    "AcceptedGiftTypes",
    "ChatPermissions",
    "MessageEntity",
    "CallbackQuery",
    "Poll",
    "PollOption",
    "PollAnswer",
    "InputPollOption",
    "ChatMemberUpdated",
    "ChatMember",
    "ChatMemberOwner",
    "ChatMemberAdministrator",
    "ChatMemberMember",
    "ChatMemberRestricted",
    "ChatMemberLeft",
    "ChatMemberBanned",
    "PhotoSize",
    "Document",
    "Sticker",
    "Location",
    "Venue",
    "File",
    "WebhookInfo",
    "BotCommand",
    "BotCommandScope",
    "BotCommandScopeDefault",
    "BotCommandScopeAllPrivateChats",
    "BotCommandScopeAllGroupChats",
    "BotCommandScopeAllChatAdministrators",
    "BotCommandScopeChat",
    "BotCommandScopeChatAdministrators",
    "BotCommandScopeChatMember",
    "ReplyParameters",
    "LinkPreviewOptions",
    "InlineKeyboardMarkup",
    "InlineKeyboardButton",
    "ReplyKeyboardMarkup",
    "KeyboardButton",
    "ReplyKeyboardRemove",
    "ForceReply",
    "ResponseParameters",
    "InputFile",
    "InputMediaPhoto",
    "Voice",
)

LICENSE_NOTE = (
    "Trimmed copy of the machine-readable Telegram Bot API description "
    "(api.json, MIT License, Copyright (c) 2020 Paul Larsen). Permission is hereby granted, "
    "free of charge, to any person obtaining a copy of this software and associated "
    "documentation files, to deal in the Software without restriction, subject to the "
    "condition that the copyright notice and this permission notice shall be included in "
    'all copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS", '
    "WITHOUT WARRANTY OF ANY KIND."
)


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool


def trim_spec(full: dict[str, Any]) -> dict[str, Any]:
    """Build the trimmed spec from a full api.json document (used to regenerate the copy)."""

    def fields(entry: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"name": f["name"], "types": f["types"], "required": f["required"]}
            for f in entry.get("fields", [])
        ]

    methods = {
        name: {
            "href": full["methods"][name]["href"],
            "returns": full["methods"][name]["returns"],
            "fields": fields(full["methods"][name]),
        }
        for name in IMPLEMENTED_METHODS
    }
    types: dict[str, Any] = {}
    for name in KEPT_TYPES:
        entry = full["types"][name]
        types[name] = {"href": entry["href"], "fields": fields(entry)}
        if entry.get("subtypes"):
            types[name]["subtypes"] = entry["subtypes"]
    return {
        "_license": LICENSE_NOTE,
        "version": full["version"],
        "release_date": full.get("release_date"),
        "methods": methods,
        "types": types,
    }


class ApiSpec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Field]] = {}
        self._canonical: dict[str, str] = {}
        for name, entry in data["methods"].items():
            self.methods[name] = {
                f["name"]: Field(f["name"], tuple(f["types"]), f["required"])
                for f in entry["fields"]
            }
            self._canonical[name.lower()] = name
        self.types: dict[str, dict[str, Field]] = {}
        self.subtypes: dict[str, list[str]] = {}
        for name, entry in data["types"].items():
            self.types[name] = {
                f["name"]: Field(f["name"], tuple(f["types"]), f["required"])
                for f in entry["fields"]
            }
            if entry.get("subtypes"):
                self.subtypes[name] = list(entry["subtypes"])

    def canonical(self, method: str) -> str | None:
        return self._canonical.get(method.lower())

    def validate_object(self, type_name: str, obj: Any, path: str = "") -> list[str]:
        """Check ``obj`` against the spec for ``type_name``; returns a list of problems."""
        path = path or type_name
        if type_name in self.subtypes:
            best: list[str] | None = None
            for sub in self.subtypes[type_name]:
                errors = self.validate_object(sub, obj, path)
                if not errors:
                    return []
                if best is None or len(errors) < len(best):
                    best = errors
            return best or []
        fields = self.types.get(type_name)
        if fields is None:
            return []  # not part of the trimmed copy: nothing to check
        if not isinstance(obj, dict):
            return [f"{path}: expected object, got {type(obj).__name__}"]
        errors = [f"{path}: unknown field {k!r}" for k in obj if k not in fields]
        errors += [
            f"{path}: missing {f.name!r}"
            for f in fields.values()
            if f.required and f.name not in obj
        ]
        for key, value in obj.items():
            field = fields.get(key)
            if field is None or len(field.types) != 1:
                continue
            errors += self._validate_typed(field.types[0], value, f"{path}.{key}")
        return errors

    def _validate_typed(self, type_expr: str, value: Any, path: str) -> list[str]:
        if type_expr.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected array"]
            inner = type_expr[len("Array of ") :]
            out: list[str] = []
            for i, item in enumerate(value):
                out += self._validate_typed(inner, item, f"{path}[{i}]")
            return out
        simple = {"Integer": int, "String": str, "Boolean": bool, "Float": (int, float)}
        if type_expr in simple:
            ok = isinstance(value, simple[type_expr])  # type: ignore[arg-type]
            if type_expr == "Integer" and isinstance(value, bool):
                ok = False
            return [] if ok else [f"{path}: expected {type_expr}, got {value!r}"]
        if type_expr == "True":
            return [] if value is True else [f"{path}: expected True"]
        return self.validate_object(type_expr, value, path)


@lru_cache(maxsize=1)
def load_spec() -> ApiSpec:
    return ApiSpec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))
