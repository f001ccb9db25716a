-- Durable intake and outbox (issue #2). Times: ISO-8601 UTC text; due times: unix seconds.

-- Every update Telegram sent, stored before it is confirmed (architecture invariant 1).
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    raw         TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'done', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    finished_at TEXT
);
CREATE INDEX inbox_pending ON inbox (update_id) WHERE state = 'pending';

-- Everything a person must receive, queued in the transaction that decided to send it.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    method      TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    attachment  BLOB,
    attachment_name TEXT,
    ref         TEXT,
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'dead', 'unreachable')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  REAL    NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    sent_at     TEXT,
    message_id  INTEGER,
    error       TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_ref ON outbox (ref) WHERE ref IS NOT NULL;

-- Chats the bot may no longer write to (user blocked the bot, bot removed from a group).
CREATE TABLE unreachable_chats (
    chat_id    INTEGER PRIMARY KEY,
    reason     TEXT NOT NULL,
    since      TEXT NOT NULL
);

-- A group upgraded to a supergroup gets a new id; old ids keep resolving through this table.
CREATE TABLE chat_migrations (
    old_chat_id INTEGER PRIMARY KEY,
    new_chat_id INTEGER NOT NULL,
    migrated_at TEXT    NOT NULL
);
