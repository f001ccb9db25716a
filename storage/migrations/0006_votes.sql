-- Votes and notices with 收到 (issue #6). Times: ISO-8601 UTC text.

-- One decision. ``kind`` keeps the three kinds apart (domain.md, "Decisions and votes"):
-- 'owners' (民法典 art. 278, ``matter`` ordinary/special), 'residents' (居委会组织法 art. 9,
-- counts recorded by the convenor) and 'advisory' (a native Telegram poll, no legal force).
CREATE TABLE votes (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('owners', 'residents', 'advisory')),
    matter      TEXT    CHECK (matter IN ('ordinary', 'special')),
    scope       TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    grid        TEXT    NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    deadline    TEXT,
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    closed_at   TEXT,
    eligible    INTEGER,
    present     INTEGER,
    yes         INTEGER,
    options     TEXT    NOT NULL DEFAULT '[]',
    anonymous   INTEGER NOT NULL DEFAULT 1,
    question    TEXT,
    poll_id     TEXT UNIQUE
);
CREATE INDEX votes_open ON votes (state, deadline);

-- The electorate of an owners' decision, frozen when it is created (auditable later): one
-- elector per owner whatever the number of units, with the areas of their units in scope summed
-- (co-owners of a unit share one elector), and the households that make it up.
CREATE TABLE vote_electors (
    vote_id    INTEGER NOT NULL REFERENCES votes (id),
    elector    INTEGER NOT NULL,
    area_centi INTEGER NOT NULL,
    rooms      TEXT    NOT NULL,
    PRIMARY KEY (vote_id, elector)
);

-- Verified owners who may cast an elector's ballot.
CREATE TABLE vote_elector_users (
    vote_id INTEGER NOT NULL,
    elector INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (vote_id, user_id)
);

-- Every ballot, append-only: the audit trail (who, when, what). The newest counts.
CREATE TABLE vote_ballots (
    id      INTEGER PRIMARY KEY,
    vote_id INTEGER NOT NULL REFERENCES votes (id),
    elector INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    choice  TEXT    NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    cast_at TEXT    NOT NULL
);
CREATE INDEX vote_ballots_vote ON vote_ballots (vote_id, elector, id);

-- The one reminder each owner who has not voted gets.
CREATE TABLE vote_reminders (
    vote_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    sent_at TEXT    NOT NULL,
    PRIMARY KEY (vote_id, user_id)
);

-- Native poll answers (non-anonymous polls) and the newest poll state (any poll), by poll id.
CREATE TABLE poll_answers (
    poll_id    TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    option_ids TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (poll_id, user_id)
);
CREATE TABLE poll_states (
    poll_id TEXT PRIMARY KEY,
    counts  TEXT NOT NULL,
    closed  INTEGER NOT NULL,
    at      TEXT NOT NULL
);

-- A notice that needs 收到, and who acknowledged it: by household for verified residents
-- (household_id), by user for the others (household_id 0).
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    grid       TEXT    NOT NULL,
    author     INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE TABLE notice_acks (
    notice_id    INTEGER NOT NULL REFERENCES notices (id),
    user_id      INTEGER NOT NULL,
    household_id INTEGER NOT NULL DEFAULT 0,
    at           TEXT    NOT NULL,
    PRIMARY KEY (notice_id, user_id, household_id)
);
-- Reminders sent for a notice (one per person).
CREATE TABLE notice_reminders (
    notice_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    sent_at   TEXT    NOT NULL,
    PRIMARY KEY (notice_id, user_id)
);
