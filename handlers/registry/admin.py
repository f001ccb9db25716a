"""Staff commands of the registry (issue #4): /grant, /revoke, /bind, /ledger, and importing
the household sheet by sending it to the bot privately. Who may do what is the service's call."""

from __future__ import annotations

from datetime import date

from telegram import Message, MessageEntity, Update, User
from telegram.constants import ChatMemberStatus
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.core.errors import InvalidInput, UserError
from bot.core.parsing import parse_id
from bot.issues.ledger import LedgerService
from bot.issues.ledger_xlsx import ledger_xlsx
from bot.registry.importing import ImportRefused
from bot.registry.presenter import registry
from handlers.replies import say as reply_html
from handlers.replies import say_error

_MEMBER = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def say(context: BotContext, to: Message, template: str, **values: object) -> None:
    await reply_html(context, to, context.t.render(f"registry/{template}", **values))


def _target(message: Message, args: list[str]) -> tuple[User | int, list[str]] | None:
    """Whom a /grant is about: the replied-to sender, a text mention, or a numeric id."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None:
        return replied.from_user, args
    for entity in message.entities:
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            return entity.user, [a for a in args if not a.startswith("@")][-2:]
    user_id = parse_id(args[0].removeprefix("-")) if args else None
    if user_id is not None:
        return (-user_id if args[0].startswith("-") else user_id), args[1:]
    return None


async def change_role(update: Update, context: BotContext) -> None:
    """/grant or /revoke: the actor is told the result; the grant is audited by the service."""
    message, actor = update.effective_message, update.effective_user
    if message is None or actor is None or message.text is None:
        return
    command = message.text.split()[0].lstrip("/").split("@")[0]
    found = _target(message, list(context.args or []))
    if found is None or not found[1]:
        await say(context, message, "role_usage", command=command)
        return
    who, rest = found
    user_id = who if isinstance(who, int) else who.id
    name = str(who) if isinstance(who, int) else who.full_name
    grid = rest[1] if len(rest) > 1 else None
    service = registry(context.services)
    change = service.grant if command == "grant" else service.revoke
    try:
        outcome = await change(actor.id, user_id, rest[0], grid)
    except UserError as error:
        await say_error(context, message, error)
        return
    await say(
        context,
        message,
        "role_changed",
        action=command,
        changed=outcome.changed,
        who=name,
        role=context.t.text(f"registry.role.{outcome.role.value}"),
        grid=outcome.grid,
    )


async def bind_group(update: Update, context: BotContext) -> None:
    """/bind g1 in a group: checks the bot is a member and can read ordinary messages."""
    message, actor = update.effective_message, update.effective_user
    if message is None or actor is None:
        return
    if not context.args:
        await say(context, message, "bind_usage")
        return
    grid = "" if context.args[0].lower() in ("all", "全社区") else context.args[0]
    try:
        bound = await registry(context.services).bind(actor.id, message.chat_id, grid)
    except UserError as error:
        await say_error(context, message, error)
        return
    me = await context.bot.get_chat_member(message.chat_id, context.bot.id)
    member = me.status in _MEMBER
    can_read = bool(context.bot.bot.can_read_all_group_messages) or (
        me.status == ChatMemberStatus.ADMINISTRATOR
    )
    config_grid = context.services.config.grid_by_key(bound)
    await say(
        context,
        message,
        "bound",
        grid=bound,
        member=member,
        can_read=can_read,
        grid_name=config_grid.name if config_grid else bound,
    )


async def import_sheet(update: Update, context: BotContext) -> None:
    """A secretary sends the household sheet privately: the summary or every problem back."""
    message, actor = update.effective_message, update.effective_user
    if message is None or actor is None or message.document is None:
        return
    document = message.document
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    t = context.t
    try:
        summary = await registry(context.services).import_sheet(
            data, document.file_name or "sheet.xlsx", actor.id
        )
    except ImportRefused as refused:
        lines = [
            t.text(
                "registry.import.problem_line",
                row=p.row,
                message=t.text(f"registry.problem.{p.key}", **p.values),
            )
            if p.row
            else t.text(f"registry.problem.{p.key}", **p.values)
            for p in refused.problems
        ]
        await say(context, message, "import_refused", title=refused.render(t.text), lines=lines)
        return
    except UserError as error:
        await say_error(context, message, error)
        return
    await say(
        context,
        message,
        "import_summary",
        added=summary.added,
        updated=summary.updated,
        unchanged=summary.unchanged,
    )


def _period(args: list[str], today: date) -> tuple[date, date]:
    """/ledger [from [to]]: default the current month up to today."""
    try:
        start = date.fromisoformat(args[0]) if args else today.replace(day=1)
        end = date.fromisoformat(args[1]) if len(args) > 1 else today
    except ValueError as exc:
        raise InvalidInput("registry.errors.bad_date", text=" ".join(args)) from exc
    return start, end


async def send_ledger(update: Update, context: BotContext) -> None:
    """/ledger: a secretary receives the 台账 as an .xlsx file, privately."""
    message, actor = update.effective_message, update.effective_user
    if message is None or actor is None:
        return
    services = context.services
    ledger: LedgerService = services.features.ledger
    today = services.clock.now().astimezone(services.config.timezone).date()
    try:
        start, end = _period(list(context.args or []), today)
        book = await ledger.book(start, end, actor=actor.id)
    except UserError as error:
        await say_error(context, message, error)
        return
    caption = context.t.render(
        "registry/ledger_caption",
        community=services.config.display_name,
        start=start.isoformat(),
        end=end.isoformat(),
        count=len(book.rows),
    )
    name = f"ledger-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    await services.outbox.send_document(
        actor.id,
        ledger_xlsx(book.rows, context.t, book.on_time, communities=services.config.several),
        name,
        caption=caption,
    )


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    sheets = filters.Document.FileExtension("xlsx") | filters.Document.FileExtension("csv")
    return [
        CommandHandler(["grant", "revoke"], change_role),
        CommandHandler("bind", bind_group, filters=filters.ChatType.GROUPS),
        CommandHandler("ledger", send_ledger),
        MessageHandler(filters.ChatType.PRIVATE & sheets, import_sheet),
    ]
