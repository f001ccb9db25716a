"""Locations and venues (issue #18 item 3): sendLocation/sendVenue, as Telegram answers them."""

from __future__ import annotations

from typing import Any

from sandbox.methods_messages import (
    commit,
    reply_target,
    sendable_chat,
    set_optional,
    validate_markup,
)
from sandbox.models import JSON, BotAccount, bad_request, clone
from sandbox.state import SandboxState, api_method


def location_json(latitude: Any, longitude: Any) -> JSON:
    """A Location object; Telegram refuses coordinates off the globe."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError) as exc:
        raise bad_request("wrong latitude or longitude") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("wrong latitude or longitude")
    return {"latitude": lat, "longitude": lon}


def venue_json(latitude: Any, longitude: Any, title: Any, address: Any) -> JSON:
    if not title:
        raise bad_request("venue title is empty")
    return {
        "location": location_json(latitude, longitude),
        "title": str(title),
        "address": str(address or ""),
    }


def _send(st: SandboxState, bot: BotAccount, p: JSON, method: str, content: JSON) -> JSON:
    chat = sendable_chat(st, bot, p)
    markup = validate_markup(p.get("reply_markup"))
    reply_to = reply_target(st, chat, p)
    st.check_flood(chat)
    set_optional(content, "reply_markup", markup)
    stored = st.store_message(chat, bot.user, content, reply_to)
    commit(st, method, chat, stored.data, p)
    return clone(stored.data)


@api_method("sendLocation")
async def send_location(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    return _send(
        st, bot, p, "sendLocation", {"location": location_json(p["latitude"], p["longitude"])}
    )


@api_method("sendVenue")
async def send_venue(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    venue = venue_json(p["latitude"], p["longitude"], p.get("title"), p.get("address"))
    # Telegram's message carries the venue and, beside it, its location.
    return _send(st, bot, p, "sendVenue", {"venue": venue, "location": venue["location"]})
