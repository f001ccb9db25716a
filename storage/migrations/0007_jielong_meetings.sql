-- Consultation (issue #6): 接龙 sign-up lists and meetings (议事会 / 协商会).
-- Times: ISO-8601 UTC text. Names are the Telegram display names people tapped with; groups
-- only ever see them masked (李*), with building-unit from the registry when verified.

-- A 接龙 list posted in a group; ``cap`` NULL = no cap, ``deadline`` NULL = open until closed.
CREATE TABLE jielongs (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    topic      TEXT    NOT NULL,
    cap        INTEGER CHECK (cap IS NULL OR cap > 0),
    deadline   TEXT,
    starter_id INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    closed_at  TEXT,
    closed_by  INTEGER  -- NULL with closed_at set: closed by its deadline
);
CREATE INDEX jielongs_open ON jielongs (closed_at, deadline);

-- One row per +1 tap, in tap order (the id); one per person. 撤回 deletes the row.
CREATE TABLE jielong_entries (
    id         INTEGER PRIMARY KEY,
    jielong_id INTEGER NOT NULL REFERENCES jielongs (id),
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    joined_at  TEXT    NOT NULL,
    UNIQUE (jielong_id, user_id)
);

-- A meeting. scope_kind/scope_value: ('unit', '3-2'), ('building', '3'), ('grid', 'g1'),
-- ('community', ''). closed_at: minutes published and the publicity window (公示) opened,
-- which ends at publicity_until; final_at: the resolutions took effect.
CREATE TABLE meetings (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL,
    starts_at       TEXT    NOT NULL,
    ends_at         TEXT    NOT NULL,
    place           TEXT    NOT NULL,
    scope_kind      TEXT    NOT NULL
                    CHECK (scope_kind IN ('unit', 'building', 'grid', 'community')),
    scope_value     TEXT    NOT NULL DEFAULT '',
    convenor_id     INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    closed_at       TEXT,
    publicity_until TEXT,
    final_at        TEXT
);

-- Agenda items in announced order (no vote on an item that was not announced).
CREATE TABLE meeting_agenda (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    position   INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    PRIMARY KEY (meeting_id, position)
);

-- The groups a meeting was announced in: the minutes and the final notice go there too.
CREATE TABLE meeting_chats (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    chat_id    INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, chat_id)
);

-- Invitees (invited by the convenor, or signed up with 报名) and attendance (签到).
CREATE TABLE meeting_people (
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id),
    user_id       INTEGER NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    invited       INTEGER NOT NULL DEFAULT 0,
    signed_up_at  TEXT,
    signed_in_at  TEXT,
    PRIMARY KEY (meeting_id, user_id)
);

-- Opinion collection (意见征集) before the meeting; agenda_item NULL = not tied to an item.
CREATE TABLE meeting_suggestions (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    user_id     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    agenda_item INTEGER,
    text        TEXT    NOT NULL,
    via         TEXT    NOT NULL CHECK (via IN ('private', 'group')),
    created_at  TEXT    NOT NULL
);
CREATE INDEX meeting_suggestions_meeting ON meeting_suggestions (meeting_id);

-- Resolutions the convenor recorded, and objections raised during the publicity window.
CREATE TABLE meeting_resolutions (
    id         INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    text       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);

CREATE TABLE meeting_objections (
    id         INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
