"""Personal data in the transport tables (issue #12; see storage.privacy.declare)."""

from __future__ import annotations

from storage.privacy.declare import Declaration, Erase, Period, PersonalTable, Retention

PERSONAL_DATA = Declaration(
    tables=(
        # Raw updates: what residents wrote, as received. Not exported (/mydata shows what was
        # made of them); emptied on /forget when they are from or about the person.
        PersonalTable(
            "inbox",
            forget={"raw": Erase.SCRUB, "error": Erase.SCRUB},
            retention=(
                Retention(
                    Period.HANDLED,
                    "state IN ('done', 'dead') AND finished_at < :cutoff"
                    " AND update_id < (SELECT MAX(update_id) FROM inbox)",
                    Erase.DELETE,
                ),
            ),
        ),
        # Delivered messages: emptied when sent to the person or naming them; pending ones
        # are still owed and stay.
        PersonalTable(
            "outbox",
            forget={
                "chat_id": Erase.SCRUB,
                "payload": Erase.SCRUB,
                "attachment": Erase.SCRUB,
                "error": Erase.SCRUB,
            },
            kept={"attachment_name": "a file name the bot chose (mydata.json, 台账.xlsx)"},
        ),
        PersonalTable("unreachable_chats", mine="chat_id = :user", forget=Erase.DELETE),
    ),
    not_personal={"chat_migrations": "group chat ids before and after an upgrade"},
)
