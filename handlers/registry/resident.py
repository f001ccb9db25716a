"""Residents join the registry: consent card → building → unit → room → relation → the grid
worker approves or rejects with one tap (issue #4). All in private chat, with buttons."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import parse_id
from bot.registry.presenter import (
    choices_keyboard,
    registry,
    relation_keyboard,
    review_keyboard,
    send_consent_card,
)
from bot.registry.service import Claim, Decision, Household
from handlers.replies import answer, answer_stale, error_html

ROOM_TYPED = r"^\s*[0-9A-Za-z一-龥]+\s*[-－—]\s*[0-9A-Za-z一-龥]+\s*[-－—]\s*[0-9A-Za-z]+\s*$"


def place(household: Household) -> str:
    return f"{household.building}-{household.unit}-{household.room}"


async def on_consent(update: Update, context: BotContext) -> None:
    """同意 stores the person and opens the building picker; 不同意 stores nothing."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.data is None:
        return
    services, t = context.services, context.t
    await answer(query)
    if query.data.endswith(":no"):
        await services.outbox.send_message(user.id, t.render("registry/declined"))
        return
    await registry(services).consent(user.id, user.full_name)
    await show_buildings(context, user.id)


async def show_buildings(context: BotContext, chat_id: int) -> None:
    buildings = await registry(context.services).buildings()
    step = "building" if buildings else "empty"
    text = context.t.render("registry/pick", step=step)
    markup = choices_keyboard(buildings, "b") if buildings else None
    await context.services.outbox.send_message(chat_id, text, reply_markup=markup)


def button_ids(query: CallbackQuery, *positions: int) -> list[int] | None:
    """The ids at ``positions`` of the button's ``reg:…`` data; None if any is not an id."""
    parts = (query.data or "").split(":")
    found = [parse_id(parts[i]) if i < len(parts) else None for i in positions]
    return None if None in found else [i for i in found if i is not None]


async def on_pick(update: Update, context: BotContext) -> None:
    """A building or unit button: show the next level of the picker."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.data is None:
        return
    ids = button_ids(query, 2)
    if ids is None:
        await answer_stale(context, query)
        return
    service, t = registry(context.services), context.t
    try:
        if query.data.startswith("reg:b:"):
            building, units = await service.units_of(ids[0])
            text = t.render("registry/pick", step="unit", building=building)
            markup = choices_keyboard(units, "u")
        else:
            first, rooms = await service.rooms_of(ids[0])
            text = t.render("registry/pick", step="room", building=first.building, unit=first.unit)
            markup = choices_keyboard(rooms, "h")
    except UserError as error:
        await answer(query, error.render(t.text), alert=True)
        return
    await answer(query)
    await context.services.outbox.send_message(user.id, text, reply_markup=markup)


async def on_room(update: Update, context: BotContext) -> None:
    """A room button: ask the relation to the household."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.data is None:
        return
    ids = button_ids(query, 2)
    if ids is None:
        await answer_stale(context, query)
        return
    try:
        household = await registry(context.services).household(ids[0])
    except UserError as error:
        await answer(query, error.render(context.t.text), alert=True)
        return
    await answer(query)
    await ask_relation(context, user.id, household)


async def ask_relation(context: BotContext, chat_id: int, household: Household) -> None:
    text = context.t.render("registry/pick", step="relation", place=place(household))
    markup = relation_keyboard(context.t, household.id)
    await context.services.outbox.send_message(chat_id, text, reply_markup=markup)


async def on_typed_room(update: Update, context: BotContext) -> None:
    """A resident types 3-2-301 instead of pressing buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    services = context.services
    service = registry(services)
    if not await service.has_consent(user.id):
        await send_consent_card(services, user.id, user.first_name)
        return
    try:
        household = await service.find_room(message.text)
    except UserError as error:
        await services.outbox.send_message(user.id, error_html(context, error))
        if error.key == "registry.errors.room_in_several":  # the buttons say whose it is
            await show_buildings(context, user.id)
        return
    await ask_relation(context, user.id, household)


async def on_relation(update: Update, context: BotContext) -> None:
    """Relation chosen: the claim goes to the grid's workers with 通过 / 拒绝."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.data is None:
        return
    ids = button_ids(query, 2)
    if ids is None:
        await answer_stale(context, query)
        return
    relation = query.data.split(":")[3]
    try:
        claim = await registry(context.services).claim(user.id, ids[0], relation)
    except UserError as error:
        await answer(query, error.render(context.t.text), alert=True)
        return
    await answer(query)
    await send_claim(context, user.id, user.full_name, claim)


async def send_claim(context: BotContext, user_id: int, name: str, claim: Claim) -> None:
    t, outbox = context.t, context.services.outbox
    where, relation = place(claim.household), t.text(f"registry.relation.{claim.relation}")
    await outbox.send_message(
        user_id, t.render("registry/claim_sent", place=where, relation=relation)
    )
    card = t.render(
        "registry/claim_request",
        name=name,
        place=where,
        relation=relation,
        owners=claim.household.owner_names,
        decided=False,
    )
    markup = review_keyboard(t, user_id, claim.household.id)
    for worker in claim.reviewers:
        ref = f"reg:claim:{user_id}:{claim.household.id}:{worker}"
        await outbox.send_message(worker, card, reply_markup=markup, ref=ref)


async def on_review(update: Update, context: BotContext) -> None:
    """通过 / 拒绝 on a claim: the service checks the presser is this grid's worker."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.data is None:
        return
    ids = button_ids(query, 2, 3)
    if ids is None:
        await answer_stale(context, query)
        return
    approve = query.data.startswith("reg:ok:")
    service = registry(context.services)
    try:
        decision = await service.decide(user.id, ids[0], ids[1], approve)
    except UserError as error:
        await answer(query, error.render(context.t.text), alert=True)
        return
    await answer(query)
    await tell_decision(context, user.full_name, decision)


async def tell_decision(context: BotContext, by: str, decision: Decision) -> None:
    t, outbox = context.t, context.services.outbox
    relation = t.text(f"registry.relation.{decision.relation}")
    where = place(decision.household)
    text = t.render(
        "registry/decision", approved=decision.approved, place=where, relation=relation
    )
    await outbox.send_message(decision.user_id, text)
    card = t.render(
        "registry/claim_request",
        name=decision.name,
        place=where,
        relation=relation,
        owners=decision.household.owner_names,
        decided=True,
        approved=decision.approved,
        by=by,
    )
    for worker in registry(context.services).reviewers(decision.household.grid):
        ref = f"reg:claim:{decision.user_id}:{decision.household.id}:{worker}"
        if await outbox.repo.message_id_for(ref) is not None:
            await outbox.edit_message(ref, worker, card, reply_markup={"inline_keyboard": []})


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CallbackQueryHandler(on_consent, pattern=r"^reg:consent:(yes|no)$"),
        CallbackQueryHandler(on_pick, pattern=r"^reg:[bu]:\d+$"),
        CallbackQueryHandler(on_room, pattern=r"^reg:h:\d+$"),
        CallbackQueryHandler(on_relation, pattern=r"^reg:r:\d+:\w+$"),
        CallbackQueryHandler(on_review, pattern=r"^reg:(ok|no):\d+:\d+$"),
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & filters.Regex(ROOM_TYPED), on_typed_room
        ),
    ]
