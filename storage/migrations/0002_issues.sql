-- The issue loop (issue #3): issues, who reported them, photos, every change as an event, and
-- the feedback slips (评单) the three rates are computed from. Times: ISO-8601 UTC text.

-- One resident report. ``number`` is what people see (#12); ``id`` is internal.
-- ``building``/``unit`` are parsed from the text ("3号楼2单元" → 3 / 2) for duplicate matching
-- and for the masked location shown in groups; ``location`` is free text from the private flow.
CREATE TABLE issues (
    id             INTEGER PRIMARY KEY,
    number         INTEGER NOT NULL UNIQUE,
    type           TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    grid           TEXT    NOT NULL,
    building       TEXT,
    unit           TEXT,
    location       TEXT,
    description    TEXT    NOT NULL,
    urgent         INTEGER NOT NULL DEFAULT 0,
    private        INTEGER NOT NULL DEFAULT 0,
    anonymous      INTEGER NOT NULL DEFAULT 0,
    state          TEXT    NOT NULL DEFAULT 'new'
                   CHECK (state IN ('new', 'accepted', 'assigned', 'in_progress',
                                    'return_requested', 'resolved', 'closed', 'rejected',
                                    'merged')),
    handler        TEXT,
    merged_into    INTEGER REFERENCES issues (id),
    reason         TEXT,
    source_chat_id INTEGER NOT NULL,
    source_message_id INTEGER,
    reported_at    TEXT    NOT NULL,
    respond_by     TEXT    NOT NULL,
    resolve_by     TEXT,
    accepted_at    TEXT,
    assigned_at    TEXT,
    contacted_at   TEXT,
    resolved_at    TEXT,
    closed_at      TEXT,
    round          INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX issues_grid_state ON issues (grid, state);
CREATE INDEX issues_handler_state ON issues (handler, state) WHERE handler IS NOT NULL;

-- Everyone who reported the issue; a merge copies the merged issue's reporters here, which is
-- how merged issues share the outcome (every reporter gets the feedback slip).
CREATE TABLE issue_reporters (
    issue_id     INTEGER NOT NULL REFERENCES issues (id),
    user_id      INTEGER NOT NULL,
    display_name TEXT    NOT NULL,
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER,
    via_issue    INTEGER REFERENCES issues (id),
    added_at     TEXT    NOT NULL,
    PRIMARY KEY (issue_id, user_id)
);
CREATE INDEX issue_reporters_user ON issue_reporters (user_id);

CREATE TABLE issue_photos (
    id        INTEGER PRIMARY KEY,
    issue_id  INTEGER NOT NULL REFERENCES issues (id),
    file_id   TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('report', 'resolution')),
    added_at  TEXT    NOT NULL
);
CREATE INDEX issue_photos_issue ON issue_photos (issue_id);

-- The timeline: append-only; ``from_state`` is NULL for the event that created the issue.
CREATE TABLE issue_events (
    id          INTEGER PRIMARY KEY,
    issue_id    INTEGER NOT NULL REFERENCES issues (id),
    actor_id    INTEGER,
    actor_role  TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    note        TEXT
);
CREATE INDEX issue_events_issue ON issue_events (issue_id, id);

-- One slip per reporter per resolution round. ``grid``, ``handler`` and ``category`` are copied
-- when the slip is issued, so the rates credit whoever handled that round even if the issue is
-- later moved. 'cancelled': superseded by a reopen before it was answered (counts nowhere).
CREATE TABLE feedback_slips (
    id           INTEGER PRIMARY KEY,
    issue_id     INTEGER NOT NULL REFERENCES issues (id),
    round        INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    grid         TEXT    NOT NULL,
    handler      TEXT,
    category     TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'answered', 'expired', 'cancelled')),
    created_at   TEXT    NOT NULL,
    reminded_at  TEXT,
    expired_at   TEXT,
    answered_at  TEXT,
    contacted    INTEGER,
    solved       TEXT CHECK (solved IN ('solved', 'partly', 'not_solved')),
    satisfaction TEXT CHECK (satisfaction IN ('satisfied', 'basic', 'unsatisfied')),
    comment      TEXT,
    UNIQUE (issue_id, round, user_id)
);
CREATE INDEX feedback_slips_open ON feedback_slips (created_at) WHERE state = 'open';
CREATE INDEX feedback_slips_period ON feedback_slips (created_at);
