"""Renders a 接龙 list and queues it (issue #6).

The list is one message per 接龙, sent under ``jielong:<n>`` and edited in place. Every tap
queues a *coalesced* edit (``Outbox.edit_message(coalesce=True)``): while an edit of the list
is still waiting for the group's sending window, the next tap replaces its text instead of
queueing another, so a burst of 30 taps costs a handful of edits within Telegram's 20 a
minute per group, and the newest list always goes out — no tap is lost, because the list is
re-read from the database each time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.consult.jielong import JielongView
from bot.context import Services
from bot.core import xlsx
from bot.core.rendering import Renderer, local_datetime


def jielong_ref(number: int) -> str:
    return f"jielong:{number}"


def when(t: Renderer, moment: datetime | None, services: Services) -> str | None:
    return local_datetime(t, "meetings.format.datetime", moment, services.config.timezone)


def markup(t: Renderer, view: JielongView) -> dict[str, Any]:
    def button(key: str, verb: str) -> dict[str, str]:
        return {"text": t.text(f"jielong.buttons.{key}"), "callback_data": f"jl:{verb}:{view.id}"}

    if view.closed:
        return {"inline_keyboard": [[button("export", "e")]]}
    return {
        "inline_keyboard": [
            [button("join", "j"), button("withdraw", "w")],
            [button("close", "x"), button("export", "e")],
        ]
    }


def text(services: Services, view: JielongView) -> str:
    t = services.renderer
    return t.render("jielong/list", j=view, deadline=when(t, view.record.deadline, services))


async def post(services: Services, view: JielongView, reply_to: int | None) -> None:
    """The new list, as a reply to the message that started it."""
    await services.outbox.send_message(
        view.record.chat_id,
        text(services, view),
        reply_markup=markup(services.renderer, view),
        reply_to=reply_to,
        ref=jielong_ref(view.id),
    )


async def show(services: Services, view: JielongView) -> None:
    """The list's message shows ``view`` (coalesced with any edit still waiting)."""
    await services.outbox.edit_message(
        jielong_ref(view.id),
        view.record.chat_id,
        text(services, view),
        reply_markup=markup(services.renderer, view),
        coalesce=True,
    )


def workbook(services: Services, view: JielongView) -> bytes:
    """The full list (unmasked names: it goes privately to the starter) as .xlsx."""
    t = services.renderer
    book, sheet = xlsx.new_sheet(t.text("jielong.export.sheet"))
    columns = ("position", "place", "name", "joined")
    xlsx.append_bold(sheet, (t.text(f"jielong.export.columns.{key}") for key in columns))
    tz = services.config.timezone
    for position, entry in enumerate(view.raw, 1):
        joined = entry.joined_at.astimezone(tz).replace(tzinfo=None)
        sheet.append([position, entry.place or "", entry.name, joined])
        sheet.cell(row=position + 1, column=4).number_format = "yyyy-mm-dd hh:mm:ss"
    xlsx.set_widths(sheet, (6, 12, 16, 20))
    sheet.freeze_panes = "A2"
    return xlsx.to_bytes(book)


async def export(services: Services, view: JielongView, to: int) -> None:
    caption = services.renderer.render("jielong/export_caption", j=view)
    data = workbook(services, view)
    await services.outbox.send_document(to, data, f"jielong-{view.id}.xlsx", caption=caption)
