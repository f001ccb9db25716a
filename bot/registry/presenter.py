"""Keyboards and shared replies of the registry (issue #4), used by the registry handlers and
by ``/start`` (the consent card comes first for a resident who has not consented).

Callback data (never trusted — the service checks who pressed it):

    reg:consent:yes|no          the consent card
    reg:b:<building id>         pick a building → its units
    reg:u:<unit id>             pick a unit → its rooms
    reg:h:<household id>        pick a room → relation buttons
    reg:r:<household id>:<rel>  relation chosen → the claim goes to the grid worker
    reg:ok|no:<user>:<hh>       the grid worker approves or rejects
    reg:forget:yes|no           /forget confirmation
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.context import Services
from bot.core.markup import Button, Markup, button, rows
from bot.core.rendering import Renderer
from bot.registry.service import RELATIONS, Choice, RegistryService

ROW_WIDTH: Final = 4


def registry(services: Services) -> RegistryService:
    found: RegistryService = services.features.registry
    return found


def keyboard(buttons: Sequence[Button]) -> Markup:
    return rows(buttons, ROW_WIDTH)


def consent_keyboard(t: Renderer) -> Markup:
    return keyboard(
        [
            button(t.text("registry.buttons.agree"), "reg:consent:yes"),
            button(t.text("registry.buttons.decline"), "reg:consent:no"),
        ]
    )


def choices_keyboard(choices: Sequence[Choice], prefix: str) -> Markup:
    return keyboard([button(c.label, f"reg:{prefix}:{c.id}") for c in choices])


def relation_keyboard(t: Renderer, household_id: int) -> Markup:
    return keyboard(
        [button(t.text(f"registry.relation.{r}"), f"reg:r:{household_id}:{r}") for r in RELATIONS]
    )


def review_keyboard(t: Renderer, user_id: int, household_id: int) -> Markup:
    return keyboard(
        [
            button(t.text("registry.buttons.approve"), f"reg:ok:{user_id}:{household_id}"),
            button(t.text("registry.buttons.reject"), f"reg:no:{user_id}:{household_id}"),
        ]
    )


def forget_keyboard(t: Renderer) -> Markup:
    return keyboard(
        [
            button(t.text("registry.buttons.forget_confirm"), "reg:forget:yes"),
            button(t.text("registry.buttons.forget_cancel"), "reg:forget:no"),
        ]
    )


async def needs_consent(services: Services, user_id: int) -> bool:
    """A resident (not staff) who has not consented yet."""
    service = services.features.registry
    if service.is_staff(user_id):
        return False
    return not await service.has_consent(user_id)


async def send_consent_card(services: Services, chat_id: int, name: str) -> None:
    """The consent card: greeting, what is stored and why, with 同意 / 不同意."""
    t = services.renderer
    text = t.render(
        "registry/consent",
        community=services.config.display_name,
        name=name,
        retention_days=services.config.privacy.retention_days,
    )
    await services.outbox.send_message(chat_id, text, reply_markup=consent_keyboard(t))
