"""Files: storage, photo sizes, sendPhoto/sendDocument/getFile."""

from __future__ import annotations

import hashlib
import mimetypes
import struct
from typing import Any

from sandbox.methods_messages import (
    commit,
    format_or_fail,
    reply_target,
    sendable_chat,
    set_optional,
    validate_markup,
)
from sandbox.models import JSON, BotAccount, StoredFile, UploadedFile, bad_request, clone
from sandbox.state import SandboxState, api_method

_PREFIX = {
    "photo": "AgACAgUAAxkBAAI",
    "document": "BQACAgUAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "voice": "AwACAgUAAxkBAAI",
}
_FOLDER = {"photo": "photos", "document": "documents", "sticker": "stickers", "voice": "voice"}
MAX_DOWNLOAD = 20 * 1024 * 1024


def store_file(
    st: SandboxState,
    kind: str,
    data: bytes,
    filename: str | None = None,
    mime_type: str | None = None,
) -> StoredFile:
    n = st.next_id()
    digest = hashlib.sha256(data).hexdigest()
    ext = {"photo": ".jpg", "sticker": ".webp", "voice": ".oga"}.get(kind)
    if ext is None:
        ext = "." + filename.rsplit(".", 1)[-1] if filename and "." in filename else ""
    stored = StoredFile(
        file_id=f"{_PREFIX[kind]}{n:06d}{digest[:20]}",
        file_unique_id=f"AgAD{n:04d}{digest[:8]}",
        data=data,
        file_path=f"{_FOLDER[kind]}/file_{n}{ext}",
        filename=filename,
        mime_type=mime_type,
    )
    st.files[stored.file_id] = stored
    st.files_by_path[stored.file_path] = stored
    return stored


def image_size(data: bytes) -> tuple[int, int]:
    """Width/height from PNG, GIF or JPEG headers; a plausible default otherwise."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + length
    return 1280, 960


def photo_sizes(st: SandboxState, data: bytes) -> list[JSON]:
    """PhotoSize array like Telegram's (thumbnails first, the largest last)."""
    width, height = image_size(data)
    longest = max(width, height, 1)
    sizes: list[JSON] = []
    for side in (90, 320, 800):
        if side < longest:
            scale = side / longest
            thumb = store_file(st, "photo", data)
            sizes.append(
                {
                    "file_id": thumb.file_id,
                    "file_unique_id": thumb.file_unique_id,
                    "file_size": max(1, int(len(data) * scale * scale)),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
    full = store_file(st, "photo", data)
    scale = min(1.0, 2560 / longest)
    sizes.append(
        {
            "file_id": full.file_id,
            "file_unique_id": full.file_unique_id,
            "file_size": len(data),
            "width": max(1, round(width * scale)),
            "height": max(1, round(height * scale)),
        }
    )
    return sizes


def document_json(stored: StoredFile) -> JSON:
    data: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    if stored.filename:
        data["file_name"] = stored.filename
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    data["file_size"] = stored.size
    return data


def voice_json(stored: StoredFile, duration: int) -> JSON:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": duration,
        "mime_type": stored.mime_type or "audio/ogg",
        "file_size": stored.size,
    }


def _input_file(st: SandboxState, p: JSON, name: str) -> UploadedFile | StoredFile:
    value: Any = p.get(name)
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.get("_attachments", {}).get(value[len("attach://") :])
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        return value
    if isinstance(value, str):
        if value in st.files:
            return st.files[value]
        if value.startswith(("http://", "https://")):
            return UploadedFile(
                filename=value.rsplit("/", 1)[-1] or None, content_type=None, data=b""
            )
    raise bad_request("wrong file identifier/HTTP URL specified")


def _caption(p: JSON) -> tuple[str, list[JSON]]:
    return format_or_fail(
        p.get("caption"),
        p.get("parse_mode"),
        p.get("caption_entities"),
        limit=1024,
        empty=None,
        too_long="message caption is too long",
    )


@api_method("sendPhoto")
async def send_photo(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat = sendable_chat(st, bot, p)
    source = _input_file(st, p, "photo")
    caption, entities = _caption(p)
    markup = validate_markup(p.get("reply_markup"))
    reply_to = reply_target(st, chat, p)
    st.check_flood(chat)
    content: JSON = {"photo": photo_sizes(st, source.data)}
    set_optional(content, "caption", caption)
    set_optional(content, "caption_entities", entities)
    if p.get("has_spoiler"):
        content["has_media_spoiler"] = True
    if p.get("show_caption_above_media"):
        content["show_caption_above_media"] = True
    set_optional(content, "reply_markup", markup)
    stored = st.store_message(chat, bot.user, content, reply_to)
    commit(st, "sendPhoto", chat, stored.data, p)
    return clone(stored.data)


@api_method("sendDocument")
async def send_document(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat = sendable_chat(st, bot, p)
    source = _input_file(st, p, "document")
    caption, entities = _caption(p)
    markup = validate_markup(p.get("reply_markup"))
    reply_to = reply_target(st, chat, p)
    st.check_flood(chat)
    if isinstance(source, StoredFile):
        filename, mime = source.filename, source.mime_type
    else:
        filename = source.filename or "document"
        mime = source.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    stored_file = store_file(st, "document", source.data, filename, mime)
    content: JSON = {"document": document_json(stored_file)}
    set_optional(content, "caption", caption)
    set_optional(content, "caption_entities", entities)
    set_optional(content, "reply_markup", markup)
    stored = st.store_message(chat, bot.user, content, reply_to)
    commit(st, "sendDocument", chat, stored.data, p)
    return clone(stored.data)


@api_method("getFile")
async def get_file(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    stored = st.files.get(str(p["file_id"]))
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


@api_method("sendMediaGroup")
async def send_media_group(st: SandboxState, bot: BotAccount, p: JSON) -> list[JSON]:
    """An album of 2-10 photos: one message each, sharing a ``media_group_id``."""
    chat = sendable_chat(st, bot, p)
    media = p.get("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the album: must be 2-10")
    reply_to = reply_target(st, chat, p)
    st.check_flood(chat)
    group_id = f"{st.next_id():018d}"
    sent: list[JSON] = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") != "photo":
            raise bad_request("only photos are supported in albums here")
        source = _input_file(st, {**p, "photo": item.get("media")}, "photo")
        caption, entities = _caption(item)
        content: JSON = {"media_group_id": group_id, "photo": photo_sizes(st, source.data)}
        set_optional(content, "caption", caption)
        set_optional(content, "caption_entities", entities)
        stored = st.store_message(chat, bot.user, content, reply_to)
        sent.append(clone(stored.data))
    commit(st, "sendMediaGroup", chat, sent[0], p)
    return sent


@api_method("sendVoice")
async def send_voice(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    """A voice note: an upload, or a file_id (a user's voice note passed on)."""
    chat = sendable_chat(st, bot, p)
    source = _input_file(st, p, "voice")
    caption, entities = _caption(p)
    markup = validate_markup(p.get("reply_markup"))
    reply_to = reply_target(st, chat, p)
    st.check_flood(chat)
    if isinstance(source, StoredFile):
        if not source.file_path.startswith("voice/"):
            raise bad_request("wrong file type")  # Telegram: a photo's id is no voice note
        stored_file = source
    else:
        stored_file = store_file(st, "voice", source.data, source.filename, "audio/ogg")
    duration = int(p.get("duration") or 0) or stored_file.duration
    content: JSON = {"voice": voice_json(stored_file, duration)}
    set_optional(content, "caption", caption)
    set_optional(content, "caption_entities", entities)
    set_optional(content, "reply_markup", markup)
    stored = st.store_message(chat, bot.user, content, reply_to)
    commit(st, "sendVoice", chat, stored.data, p)
    return clone(stored.data)
