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
from sandbox.models import SandboxError

PACKAGE = resources.files("playground")
LOCALES = ("zh_CN", "en")
PLAY_KEY = web.AppKey("playground", Playground)
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
    app.router.add_get("/", page)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/messages", messages)
    app.router.add_get("/api/file/{file_id}", file)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/photo", photo)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/link", link)
    app.router.add_post("/api/vote", vote)
    app.router.add_post("/api/clock", clock)
    app.router.add_get("/events", events)
    app.router.add_static("/static", str(PACKAGE / "static"))
    return app


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
        chats.append(_chat_entry(play, chat.id, chat.title or "", "group", viewer))
    bot_name = play.scene.bot_name
    chats.append(_chat_entry(play, viewer, bot_name, "private", viewer))
    return web.json_response(
        {
            "clock": clock_text(local, words),
            "clock_iso": local.isoformat(),
            "people": people,
            "chats": chats,
            "bot": {"name": bot_name, "avatar": bot_name[:1]},
        },
        dumps=_dumps,
    )


def _chat_entry(play: Playground, chat_id: int, title: str, kind: str, viewer: int) -> Json:
    shown = _visible(play, chat_id)
    last = shown[-1] if shown else None
    preview = ""
    if last is not None:
        preview = str(last.get("text") or last.get("caption") or "")
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


def _visible(play: Playground, chat_id: int) -> list[Json]:
    if chat_id not in play.server.chats:
        return []
    return [m for m in play.server.chat_messages(chat_id) if _content(m)]


def _content(message: Json) -> bool:
    return any(key in message for key in ("text", "caption", "photo", "document", "poll"))


async def messages(request: web.Request) -> web.Response:
    play = _play(request)
    viewer = int(request.query["as"])
    chat_id = int(request.query["chat"])
    zone = play.bot.config.timezone
    shown = [_message(play, m, viewer, zone) for m in _visible(play, chat_id)]
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
    return "application/octet-stream"


# ---------------------------------------------------------------------------- acting
async def _act(action: Any) -> web.Response:
    try:
        result = await action
    except (SandboxError, LookupError, ValueError, RuntimeError, TimeoutError) as exc:
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
        while not play.server.closing:
            changed = await play.server.wait_change(15)
            if changed:
                await asyncio.sleep(0.05)  # gather a burst of sends into one refresh
            await response.write(b"data: change\n\n" if changed else b": ping\n\n")
    return response


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
