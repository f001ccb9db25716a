"""The playground's endpoints, driven over HTTP as the page drives them: the issue loop
through the sandbox and the real bot, and a clock jump that brings the 08:00 digest."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from playground.runtime import DATABASE, Playground, Saved
from playground.serve import is_loopback, playing, run_play

GROUP, RESIDENT, WORKER, PROPERTY, SECRETARY = -1001234567001, 9501, 9101, 9301, 9201


class Page:
    """What the page's JavaScript does, as plain HTTP calls."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url

    async def get(self, path: str, **query: Any) -> Any:
        async with self.http.get(self.url + path, params=query) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, **body: Any) -> Any:
        async with self.http.post(self.url + path, json=body) as response:
            data = await response.json()
            assert response.status == 200 and data["ok"], data
            return data

    async def messages(self, viewer: int, chat: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await self.get("api/messages", chat=chat, **{"as": viewer})
        )["messages"]
        return found

    async def press(self, viewer: int, chat: int, label: str) -> dict[str, Any]:
        """Press the newest button labelled ``label`` that ``viewer`` sees in ``chat``."""
        for message in reversed(await self.messages(viewer, chat)):
            if any(b["text"] == label for row in message["buttons"] for b in row):
                result: dict[str, Any] = await self.post(
                    "api/press",
                    chat=chat,
                    message_id=message["id"],
                    label=label,
                    **{"as": viewer},
                )
                return result
        raise AssertionError(f"no button {label!r} in chat {chat}")

    async def say(self, viewer: int, chat: int, text: str) -> None:
        await self.post("api/send", chat=chat, text=text, **{"as": viewer})


def last_html(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["html"])


async def test_the_issue_loop_through_the_page_endpoints(
    tmp_path: Path, community: Saved | None
) -> None:
    async with (
        playing("community", tmp_path, port=0, saved=community) as (_, url),
        aiohttp.ClientSession() as http,
    ):
        page = Page(http, url)
        state = await page.get("api/state", **{"as": RESIDENT})
        assert state["clock"] == "3月4日 周三 09:30"
        assert {c["id"] for c in state["chats"]} == {GROUP, RESIDENT}
        await page.say(RESIDENT, GROUP, "#报事 3号楼2单元门口积水很深")
        group = await page.messages(RESIDENT, GROUP)
        assert group[-2]["own"] and "已登记 <b>#4</b>" in last_html(group)
        await page.press(WORKER, WORKER, "受理")
        await page.press(WORKER, WORKER, "交办")
        await page.press(WORKER, WORKER, "万象美物业")
        card = next(m for m in await page.messages(WORKER, WORKER) if "#4" in m["html"])
        assert "已交办" in card["html"] and card["edited"]  # the card was edited in place
        await page.say(PROPERTY, PROPERTY, "/done 4 已疏通下水口")
        for label in ("是", "已解决", "满意", "提交评价"):
            await page.press(RESIDENT, RESIDENT, label)
        mine = await page.messages(RESIDENT, RESIDENT)
        assert any("#4" in m["html"] and "满意" in m["html"] for m in mine[-3:])


async def test_a_clock_jump_to_eight_brings_the_digest_to_the_secretary(
    tmp_path: Path, community: Saved | None
) -> None:
    async with (
        playing("community", tmp_path, port=0, saved=community) as (play, url),
        aiohttp.ClientSession() as http,
    ):
        page = Page(http, url)
        before = await page.messages(SECRETARY, SECRETARY)
        assert not any("每日简报" in m["html"] for m in before)
        await page.post("api/clock", jump="eight")
        state = await page.get("api/state", **{"as": SECRETARY})
        assert state["clock"] == "3月5日 周四 08:00"
        after = await page.messages(SECRETARY, SECRETARY)
        assert any("每日简报" in m["html"] for m in after)
        assert play.clock.now().hour == 8


async def test_the_empty_scene_has_people_but_nothing_said(tmp_path: Path) -> None:
    async with (
        playing("empty", tmp_path, port=0) as (_, url),
        aiohttp.ClientSession() as http,
    ):
        page = Page(http, url)
        state = await page.get("api/state", **{"as": RESIDENT})
        assert [c["started"] for c in state["chats"]] == [True, False]
        assert await page.messages(RESIDENT, GROUP) == []
        await page.say(RESIDENT, RESIDENT, "/start")
        assert "王阿姨" in last_html(await page.messages(RESIDENT, RESIDENT))


@pytest.mark.sqlite_only  # a saved playground is its SQLite files (the page tests' harness)
async def test_a_playground_started_from_a_saved_one_stands_where_it_stood(
    tmp_path: Path,
) -> None:
    """What the page tests start from (tests/playground/conftest.py): the same chats and
    messages, issues and clock as the played scene, nothing sent again at the start, and it
    goes on from there, leaving what was saved as it was for the next copy."""
    async with playing("community", tmp_path / "played", port=0) as (played, _):
        pass
    saved = played.saved()
    chats = transcripts(played)
    with sqlite3.connect(tmp_path / "played" / DATABASE) as db:
        issues = db.execute(ISSUES).fetchall()
    assert len(issues) >= 3 and len(chats) >= 5  # the scene did something

    async with playing("community", tmp_path / "copy", port=0, saved=saved) as (copy, _):
        assert transcripts(copy) == chats
        assert copy.clock.now() == played.clock.now()
        rows = await copy.bot.db.fetchall(ISSUES)
        assert [tuple(row) for row in rows] == issues
        await copy.settle()
        assert len(copy.server.sent) == len(played.server.sent)  # nothing sent again
        await copy.send(RESIDENT, GROUP, "#报事 5号楼门禁坏了")
        filed = copy.server.chat_messages(GROUP)[-1]["text"]
        assert f"#{len(issues) + 1}" in filed, filed

    async with playing("community", tmp_path / "again", port=0, saved=saved) as (again, _):
        assert transcripts(again) == chats


ISSUES = "SELECT number, state, description FROM issues ORDER BY number"


def transcripts(play: Playground) -> dict[int, list[dict[str, Any]]]:
    """Every chat's messages as the sandbox holds them."""
    return {chat: play.server.chat_messages(chat) for chat in play.server.chats}


def test_only_loopback_counts_as_local() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


async def test_gridbot_play_prints_the_url_that_answers_and_warns_off_loopback(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    ready, stop = asyncio.Event(), asyncio.Event()

    def out(line: str) -> None:
        lines.append(line)
        ready.set()

    serving = asyncio.create_task(
        run_play("empty", tmp_path, "127.0.0.1", 0, False, stop=stop, out=out, err=lines.append)
    )
    await asyncio.wait_for(ready.wait(), 30)
    [line] = lines
    url = line.split("打开：", 1)[1].split("（", 1)[0]
    async with aiohttp.ClientSession() as http, http.get(url) as page:
        assert page.status == 200 and "网格通" in await page.text()
    stop.set()
    assert await serving == 0
    assert (tmp_path / "gridbot.sqlite3").exists()  # --data keeps the database

    warnings: list[str] = []
    assert (
        await run_play(
            "nowhere",
            None,
            "0.0.0.0",
            0,
            False,
            stop=stop,
            out=warnings.append,
            err=warnings.append,
        )
        == 2
    )
    assert "0.0.0.0" in warnings[0] and "没有登录" in warnings[0]
    assert "no scene 'nowhere'" in warnings[1]


async def test_a_native_poll_is_votable_and_shows_the_counts(
    tmp_path: Path, community: Saved | None
) -> None:
    async with (
        playing("community", tmp_path, port=0, saved=community) as (_, url),
        aiohttp.ClientSession() as http,
    ):
        page = Page(http, url)
        await page.say(WORKER, GROUP, "/poll 周末义诊放在哪天 | 周六 | 周日")
        [poll] = [m["poll"] for m in await page.messages(RESIDENT, GROUP) if "poll" in m]
        assert "周末义诊放在哪天" in poll["question"] and poll["total"] == 0
        await page.post("api/vote", poll_id=poll["id"], options=[1], **{"as": RESIDENT})
        [seen] = [m["poll"] for m in await page.messages(RESIDENT, GROUP) if "poll" in m]
        assert [(o["text"], o["count"], o["mine"]) for o in seen["options"]] == [
            ("周六", 0, False),
            ("周日", 1, True),
        ]


async def test_hours_on_the_clock_chase_the_report_nobody_accepted(
    tmp_path: Path, community: Saved | None
) -> None:
    """#2 is due to be accepted by 11:30; at 12:30 the worker gets 催受理 with its buttons."""
    async with (
        playing("community", tmp_path, port=0, saved=community) as (_, url),
        aiohttp.ClientSession() as http,
    ):
        page = Page(http, url)
        for _ in range(2):
            await page.post("api/clock", jump="hour")
        assert not any("催受理" in m["html"] for m in await page.messages(WORKER, WORKER))
        await page.post("api/clock", jump="hour")
        [reminder] = [m for m in await page.messages(WORKER, WORKER) if "催受理" in m["html"]]
        assert "#2" in reminder["html"]
        assert "受理" in [b["text"] for row in reminder["buttons"] for b in row]


async def test_the_page_speaks_chinese_first_and_english_on_request(tmp_path: Path) -> None:
    async with (
        playing("empty", tmp_path, port=0) as (_, url),
        aiohttp.ClientSession() as http,
    ):
        async with http.get(url) as zh, http.get(url + "?lang=en") as en:
            chinese, english = await zh.text(), await en.text()
        assert '<html lang="zh-CN">' in chinese and "大字" in chinese and "到 08:00" in chinese
        assert '<html lang="en">' in english and "Large text" in english
        assert "大字" not in english


async def test_documents_the_bot_sends_download_from_the_page(
    tmp_path: Path, community: Saved | None
) -> None:
    async with (
        playing("community", tmp_path, port=0, saved=community) as (_, url),
        aiohttp.ClientSession() as http,
    ):
        page = Page(http, url)
        await page.say(SECRETARY, SECRETARY, "/ledger")
        [ledger] = [
            m["document"] for m in await page.messages(SECRETARY, SECRETARY) if "document" in m
        ]
        assert ledger["name"].endswith(".xlsx")
        async with http.get(url + ledger["url"].lstrip("/")) as download:
            assert download.status == 200
            assert (await download.read()).startswith(b"PK")  # an xlsx is a zip
            assert "filename*=UTF-8''" in download.headers["Content-Disposition"]


async def test_albums_voice_and_places_through_the_page_endpoints(
    tmp_path: Path, community: Saved | None
) -> None:
    """Issue #18 on the page: an album shows as one bubble, a voice note with its length, a
    venue as a pin; a place outside the world is refused before it reaches the sandbox."""
    async with (
        playing("community", tmp_path, port=0, saved=community) as (play, url),
        aiohttp.ClientSession() as http,
    ):
        page = Page(http, url)
        state = await page.get("api/state", **{"as": RESIDENT})
        assert state["places"][2] == {
            "title": "阅海湾菜市场",
            "address": "亲水大街 88 号",
            "latitude": 38.487,
            "longitude": 106.236,
        }
        form = aiohttp.FormData({"as": str(RESIDENT), "chat": str(GROUP), "caption": "好多落叶"})
        for index in range(2):
            form.add_field("photo", b"\x89PNG" + bytes([index]), filename=f"{index}.png")
        async with http.post(url + "api/album", data=form) as response:
            assert response.status == 200, await response.text()
        own = (await page.messages(RESIDENT, GROUP))[-1]
        assert len(own["photos"]) == 2 and own["html"] == "好多落叶" and own["album"]
        voice = aiohttp.FormData({"as": str(RESIDENT), "chat": str(RESIDENT), "duration": "2.6"})
        voice.add_field("voice", b"OggS recorded", filename="voice.ogg")
        async with http.post(url + "api/voice", data=voice) as response:
            assert response.status == 200, await response.text()
        note = next(m for m in await page.messages(RESIDENT, RESIDENT) if "voice" in m)
        assert note["voice"]["duration"] == 3
        async with http.get(url + note["voice"]["url"].lstrip("/")) as response:
            assert await response.read() == b"OggS recorded"
        await page.post(
            "api/place",
            chat=RESIDENT,
            latitude=38.487,
            longitude=106.236,
            title="阅海湾菜市场",
            **{"as": RESIDENT},
        )
        pins = [m["place"] for m in await page.messages(RESIDENT, RESIDENT) if "place" in m]
        assert pins[-1]["title"] == "阅海湾菜市场" and pins[-1]["latitude"] == "38.48700"
        plain = {"as": RESIDENT, "chat": RESIDENT, "latitude": 38.4862, "longitude": 106.2312}
        await play.send_voice(RESIDENT, GROUP, b"OggS", 1)
        state = await page.get("api/state", **{"as": RESIDENT})
        assert next(c for c in state["chats"] if c["id"] == GROUP)["preview"] == "[语音]"
        await page.post("api/place", **plain)  # a location without a title
        pins = [m["place"] for m in await page.messages(RESIDENT, RESIDENT) if "place" in m]
        assert pins[-1]["title"] == "" and pins[-1]["longitude"] == "106.23120"
        before = len(play.server.sent)
        async with http.post(
            url + "api/place",
            json={"as": RESIDENT, "chat": RESIDENT, "latitude": 91, "longitude": 0},
        ) as response:
            assert response.status == 400
        assert len(play.server.sent) == before


async def test_stopping_the_page_server_ends_its_open_event_streams(
    tmp_path: Path, community: Saved | None
) -> None:
    """A page left open (or a browser that closed without saying so) must not hold the stop
    up: its event stream ends as a response ends. Cut off by aiohttp's shutdown timeout
    instead, the stream stops mid-response, which the client reports as an error."""
    async with aiohttp.ClientSession() as http:
        async with playing("community", tmp_path, port=0, saved=community) as (_, url):
            response = await http.get(url + "events")
            assert await response.content.readuntil(b"\n\n") == b"retry: 1000\ndata: hello\n\n"
        rest = await response.content.read()  # raises ClientPayloadError when cut off
        response.release()
    assert rest in (b"", b"data: change\n\n")
