-- Several bots on one database (issue #16: a district's street offices, each its own bot and
-- process, sharing one PostgreSQL database). Telegram numbers updates per bot, so two bots'
-- update ids collide: the inbox is keyed by (bot, update_id). The outbox says which bot sends
-- a row (only that bot's token can), and a chat that blocked one bot may still talk to
-- another, so unreachable_chats is per bot too. `bot` is the bot's key (telegram.bot_key, by
-- default the id in its token); '' marks rows written before this migration, which the one
-- bot of such a database adopts at start (storage.transport.inbox.adopt_unowned).
-- Not per bot: chat_migrations (a group's new id is Telegram's fact, the same for every bot)
-- and the sent marks (keyed by outbox id, unique across bots).
CREATE TABLE inbox_by_bot (
    bot         TEXT    NOT NULL DEFAULT '',
    update_id   INTEGER NOT NULL,
    raw         TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'done', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    finished_at TEXT,
    PRIMARY KEY (bot, update_id)
);
INSERT INTO inbox_by_bot (bot, update_id, raw, received_at, state, attempts, error, finished_at)
SELECT '', update_id, raw, received_at, state, attempts, error, finished_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_by_bot RENAME TO inbox;
CREATE INDEX inbox_pending ON inbox (bot, update_id) WHERE state = 'pending';

ALTER TABLE outbox ADD COLUMN bot TEXT NOT NULL DEFAULT '';
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (bot, id) WHERE state = 'pending';

CREATE TABLE unreachable_by_bot (
    bot     TEXT    NOT NULL DEFAULT '',
    chat_id INTEGER NOT NULL,
    reason  TEXT    NOT NULL,
    since   TEXT    NOT NULL,
    PRIMARY KEY (bot, chat_id)
);
INSERT INTO unreachable_by_bot (bot, chat_id, reason, since)
SELECT '', chat_id, reason, since FROM unreachable_chats;
DROP TABLE unreachable_chats;
ALTER TABLE unreachable_by_bot RENAME TO unreachable_chats;
