"""The page and its JSON/SSE endpoints (aiohttp). Everything a person does goes to the
``Playground`` (which acts through the sandbox's control API); everything shown is read back
from the sandbox, as a Telegram app reads it from Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tomllib
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import jinja2
from aiohttp import web

from playground.render import entities_html
from playground.runtime import Playground
from sandbox.models import ApiError, SandboxError

PACKAGE = resources.files("playground")
LOCALES = ("zh_CN", "en")
PLAY_KEY = web.AppKey("playground", Playground)
# Set when the server begins to shut down: the open event streams end at once. Otherwise each
# one sat in its wait until aiohttp's shutdown timeout cancelled it, half a second at every
# stop (a browser that closed its page leaves its stream's handler waiting; issue #12 item 6).
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)
Json = dict[str, Any]


def strings(locale: str) -> Json:
    """The page's words in ``locale`` (playground/locales/<locale>.toml)."""
    name = locale if locale in LOCALES else LOCALES[0]
    loaded: Json = tomllib.loads((PACKAGE / "locales" / f"{name}.toml").read_text("utf-8"))
    return loaded


def clock_text(moment: datetime, words: Json) -> str:
    return str(words["clock_format"]).format(
        month=moment.month,
        month_name=words["months"][moment.month - 1],
        day=moment.day,
        weekday=words["weekdays"][moment.weekday()],
        hh=f"{moment.hour:02d}",
        mm=f"{moment.minute:02d}",
    )


def make_app(play: Playground) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[PLAY_KEY] = play
    app[STOPPING_KEY] = asyncio.Event()
    app.on_shutdown.append(_end_event_streams)
    app.router.add_get("/", page)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/messages", messages)
    app.router.add_get("/api/file/{file_id}", file)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/photo", photo)
    app.router.add_post("/api/album", album)
    app.router.add_post("/api/voice", voice)
    app.router.add_post("/api/place", place)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/link", link)
    app.router.add_post("/api/vote", vote)
    app.router.add_post("/api/clock", clock)
    app.router.add_get("/events", events)
    app.router.add_static("/static", str(PACKAGE / "static"))
    return app


async def _end_event_streams(app: web.Application) -> None:
    app[STOPPING_KEY].set()
    app[PLAY_KEY].server.notify()  # wakes every stream waiting for a change


def _play(request: web.Request) -> Playground:
    return request.app[PLAY_KEY]


_pages = jinja2.Environment(
    loader=jinja2.FunctionLoader(lambda name: (PACKAGE / "templates" / name).read_text("utf-8")),
    autoescape=True,
)


async def page(request: web.Request) -> web.Response:
    locale = request.query.get("lang", "zh_CN")
    words = strings(locale)
    html = _pages.get_template("page.html").render(
        words=words,
        lang="en" if locale == "en" else "zh-CN",
        other=LOCALES[1] if locale != "en" else LOCALES[0],
        words_json=json.dumps(words, ensure_ascii=False).replace("</", "<\\/"),
    )
    return web.Response(text=html, content_type="text/html")


# ---------------------------------------------------------------------------- reading
async def state(request: web.Request) -> web.Response:
    play = _play(request)
    words = strings(request.query.get("lang", "zh_CN"))
    viewer = int(request.query.get("as", play.scene.people[0].id))
    local = play.clock.now().astimezone(play.bot.config.timezone)
    people = [
        {
            "id": p.id,
            "name": p.name,
            "full_name": f"{p.first_name} {p.last_name}".strip(),
            "role": words["roles"].get(p.role, p.role),
            "room": p.room,
            "avatar": p.name[:1],
        }
        for p in play.scene.people
    ]
    chats = []
    for chat in play.server.chats.values():
        if chat.type == "private" or not chat.is_present(viewer):
            continue
        chats.append(_chat_entry(play, chat.id, chat.title or "", "group", viewer, words))
    bot_name = play.scene.bot_name
    chats.append(_chat_entry(play, viewer, bot_name, "private", viewer, words))
    return web.json_response(
        {
            "clock": clock_text(local, words),
            "clock_iso": local.isoformat(),
            "people": people,
            "chats": chats,
            "bot": {"name": bot_name, "avatar": bot_name[:1]},
            "places": [
                {
                    "title": p.title,
                    "address": p.address,
                    "latitude": p.latitude,
                    "longitude": p.longitude,
                }
                for p in play.scene.places
            ],
        },
        dumps=_dumps,
    )


def _chat_entry(
    play: Playground, chat_id: int, title: str, kind: str, viewer: int, words: Json
) -> Json:
    shown = _visible(play, chat_id)
    last = shown[-1] if shown else None
    preview = ""
    if last is not None:
        preview = str(last.get("text") or last.get("caption") or _kind_word(last, words))
    started = kind == "group" or chat_id in play.server.bot_for(None).started_by
    return {
        "id": chat_id,
        "title": title,
        "kind": kind,
        "avatar": title[:1],
        "preview": preview.split("\n", 1)[0][:40],
        "count": len(shown),
        "started": started,
    }


def _kind_word(message: Json, words: Json) -> str:
    """A chat list's preview of a message without words: [图片], [语音], [位置]."""
    for key in ("photo", "voice", "venue", "location"):
        if key in message:
            return str(words["previews"][key])
    return ""


def _visible(play: Playground, chat_id: int) -> list[Json]:
    if chat_id not in play.server.chats:
        return []
    return [m for m in play.server.chat_messages(chat_id) if _content(m)]


def _content(message: Json) -> bool:
    shown = ("text", "caption", "photo", "document", "poll", "voice", "location", "venue")
    return any(key in message for key in shown)


async def messages(request: web.Request) -> web.Response:
    play = _play(request)
    viewer = int(request.query["as"])
    chat_id = int(request.query["chat"])
    zone = play.bot.config.timezone
    shown = _albums([_message(play, m, viewer, zone) for m in _visible(play, chat_id)])
    return web.json_response({"chat": chat_id, "messages": shown}, dumps=_dumps)


def _message(play: Playground, m: Json, viewer: int, zone: Any) -> Json:
    sender = m.get("from", {})
    name = str(sender.get("first_name", ""))
    text = m.get("text")
    entities = m.get("entities") if text is not None else m.get("caption_entities")
    body = text if text is not None else m.get("caption")
    out: Json = {
        "id": m["message_id"],
        "from_id": sender.get("id"),
        "name": name,
        "avatar": name[:1],
        "bot": bool(sender.get("is_bot")),
        "own": sender.get("id") == viewer,
        "html": entities_html(str(body), entities) if body else "",
        "time": datetime.fromtimestamp(int(m.get("date", 0)), zone).strftime("%H:%M"),
        "edited": "edit_date" in m,
        "buttons": [
            [
                {
                    "text": b.get("text", ""),
                    "url": b.get("url"),
                    "kind": "url" if "url" in b else "callback",
                }
                for b in row
            ]
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        ],
    }
    reply = m.get("reply_to_message")
    if reply:
        quoted = str(reply.get("text") or reply.get("caption") or "")
        out["quote"] = {"name": reply.get("from", {}).get("first_name", ""), "text": quoted[:60]}
    if "photo" in m:
        out["photo"] = f"/api/file/{m['photo'][-1]['file_id']}"
    if "document" in m:
        doc = m["document"]
        out["document"] = {
            "name": doc.get("file_name", "file"),
            "url": f"/api/file/{doc['file_id']}",
        }
    if "poll" in m:
        out["poll"] = _poll(play, m["poll"], viewer)
    if "media_group_id" in m:
        out["album"] = str(m["media_group_id"])
    if "voice" in m:
        out["voice"] = {
            "url": f"/api/file/{m['voice']['file_id']}",
            "duration": int(m["voice"].get("duration", 0)),
        }
    if "venue" in m or "location" in m:
        venue = m.get("venue", {})
        spot = venue.get("location") or m["location"]
        out["place"] = {
            "title": venue.get("title", ""),
            "address": venue.get("address", ""),
            "latitude": f"{float(spot['latitude']):.5f}",
            "longitude": f"{float(spot['longitude']):.5f}",
        }
    return out


def _albums(shown: list[Json]) -> list[Json]:
    """An album's photos (one message each, one ``media_group_id``) shown as one bubble, as
    a Telegram app shows them: the first message carries every photo and the caption."""
    out: list[Json] = []
    for m in shown:
        first = out[-1] if out else None
        if (
            first is not None
            and m.get("album")
            and first.get("album") == m["album"]
            and first["from_id"] == m["from_id"]
        ):
            first["photos"].append(m["photo"])
            first["html"] = first["html"] or m["html"]
            continue
        if m.get("album") and "photo" in m:
            m["photos"] = [m.pop("photo")]
        out.append(m)
    return out


def _poll(play: Playground, poll: Json, viewer: int) -> Json:
    state = play.server.polls.get(str(poll["id"]))
    live = state.data if state is not None else poll
    chosen = state.votes.get(viewer, []) if state is not None else []
    return {
        "id": live["id"],
        "question": live.get("question", ""),
        "closed": bool(live.get("is_closed")),
        "total": live.get("total_voter_count", 0),
        "multiple": bool(live.get("allows_multiple_answers")),
        "options": [
            {"text": o.get("text", ""), "count": o.get("voter_count", 0), "mine": i in chosen}
            for i, o in enumerate(live.get("options", []))
        ],
    }


async def file(request: web.Request) -> web.Response:
    stored = _play(request).server.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    headers = {}
    if stored.filename:
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(stored.filename)}"
    return web.Response(
        body=stored.data, headers=headers, content_type=stored.mime_type or _guess(stored.data)
    )


def _guess(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    return "application/octet-stream"


# ---------------------------------------------------------------------------- acting
async def _act(action: Any) -> web.Response:
    try:
        result = await action
    except (SandboxError, ApiError, LookupError, ValueError, RuntimeError, TimeoutError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400, dumps=_dumps)
    return web.json_response({"ok": True, **(result or {})}, dumps=_dumps)


async def send(request: web.Request) -> web.Response:
    body = await request.json()
    text = str(body.get("text", "")).strip()
    if not text:
        return web.json_response({"ok": False, "error": "empty"}, status=400)
    play = _play(request)
    return await _act(play.send(int(body["as"]), int(body["chat"]), text))


async def photo(request: web.Request) -> web.Response:
    form = await request.post()
    upload = form.get("photo")
    if not isinstance(upload, web.FileField):
        return web.json_response({"ok": False, "error": "no photo"}, status=400)
    data = upload.file.read()
    play = _play(request)
    caption = str(form.get("caption", "")).strip()
    return await _act(play.send_photo(int(str(form["as"])), int(str(form["chat"])), data, caption))


async def album(request: web.Request) -> web.Response:
    form = await request.post()
    uploads = [u for u in form.getall("photo", []) if isinstance(u, web.FileField)]
    if len(uploads) < 2:
        return web.json_response({"ok": False, "error": "an album needs 2 photos"}, status=400)
    images = [u.file.read() for u in uploads]
    play = _play(request)
    caption = str(form.get("caption", "")).strip()
    return await _act(
        play.send_album(int(str(form["as"])), int(str(form["chat"])), images, caption)
    )


async def voice(request: web.Request) -> web.Response:
    form = await request.post()
    upload = form.get("voice")
    if not isinstance(upload, web.FileField):
        return web.json_response({"ok": False, "error": "no voice"}, status=400)
    data = upload.file.read()
    seconds = round(float(str(form.get("duration", "1")) or 1))
    play = _play(request)
    return await _act(play.send_voice(int(str(form["as"])), int(str(form["chat"])), data, seconds))


async def place(request: web.Request) -> web.Response:
    body = await request.json()
    play = _play(request)
    try:
        latitude, longitude = float(body["latitude"]), float(body["longitude"])
    except (KeyError, TypeError, ValueError):
        return web.json_response({"ok": False, "error": "latitude, longitude"}, status=400)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return web.json_response({"ok": False, "error": "latitude, longitude"}, status=400)
    title = str(body.get("title") or "").strip() or None
    address = str(body.get("address") or "").strip() or None
    return await _act(
        play.send_place(int(body["as"]), int(body["chat"]), latitude, longitude, title, address)
    )


async def press(request: web.Request) -> web.Response:
    body = await request.json()
    play = _play(request)

    async def pressing() -> Json:
        answer = await play.press(
            int(body["as"]), int(body["chat"]), int(body["message_id"]), str(body["label"])
        )
        return {"toast": answer.text, "alert": answer.alert}

    return await _act(pressing())


async def link(request: web.Request) -> web.Response:
    """A t.me/<bot>?start=… button opens the private chat with the bot, started with it."""
    body = await request.json()
    play = _play(request)
    url = urlparse(str(body["url"]))
    payload = parse_qs(url.query).get("start", [None])[0]
    viewer = int(body["as"])

    async def opening() -> Json:
        await play.start_chat(viewer, payload)
        return {"chat": viewer}

    return await _act(opening())


async def vote(request: web.Request) -> web.Response:
    body = await request.json()
    play = _play(request)
    options = [int(i) for i in body["options"]]
    return await _act(play.vote(int(body["as"]), str(body["poll_id"]), options))


async def clock(request: web.Request) -> web.Response:
    body = await request.json()
    return await _act(_play(request).jump(str(body["jump"])))


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: "change" whenever the sandbox saw anything (a send, an edit…)."""
    play = _play(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):
        await response.write(b"retry: 1000\ndata: hello\n\n")
        stopping = request.app[STOPPING_KEY]
        while not play.server.closing and not stopping.is_set():
            changed = await play.server.wait_change(15)
            if stopping.is_set():
                break
            if changed:
                await asyncio.sleep(0.05)  # gather a burst of sends into one refresh
            await response.write(b"data: change\n\n" if changed else b": ping\n\n")
    return response


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
