-- Schedules (issue #5): the JobQueue is only a clock; everything a tick must remember is here
-- (architecture.md, invariant 5). Times: ISO-8601 UTC text; ``day``: local date YYYY-MM-DD.

-- Every due occurrence the sweep has dealt with, under a key naming the work and its moment
-- ("rule:opinion_day:2026-10-08T09:00", "digest:daily:2026-10-08", "chase:12:<due>:overdue").
-- The primary key is what makes a restart never repeat an occurrence; 'missed' records work
-- that was due longer ago than the grace period when the bot came back.
CREATE TABLE schedule_runs (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'missed', 'skipped')),
    recorded_at TEXT NOT NULL
);
CREATE INDEX schedule_runs_due ON schedule_runs (due_at);

-- The moment the last sweep looked up to: the next sweep looks at (swept_to, now].
CREATE TABLE schedule_clock (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    swept_to TEXT NOT NULL
);

-- Calendar rules paused by a secretary (/pause KEY); a rule without a row runs.
CREATE TABLE schedule_rule_state (
    rule       TEXT PRIMARY KEY,
    paused     INTEGER NOT NULL,
    changed_by INTEGER NOT NULL,
    changed_at TEXT NOT NULL
);

-- 窗帘之约: residents enrolled by a grid worker. Living alone and the address are sensitive
-- (PIPL art. 28): the enrolment is inactive until the resident consents in a private chat
-- (consented_at), and only the grid's workers and the linked volunteer see the alert.
CREATE TABLE checkin_enrolments (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL UNIQUE,
    volunteer_id INTEGER,
    grid         TEXT    NOT NULL,
    location     TEXT,
    enrolled_by  INTEGER NOT NULL,
    enrolled_at  TEXT    NOT NULL,
    consented_at TEXT,
    ended_at     TEXT
);

-- One row per enrolment and morning the question was asked; confirmed by the resident or the
-- volunteer (confirmed_by).
CREATE TABLE checkin_days (
    enrolment_id INTEGER NOT NULL REFERENCES checkin_enrolments (id),
    day          TEXT    NOT NULL,
    asked_at     TEXT    NOT NULL,
    confirmed_at TEXT,
    confirmed_by INTEGER,
    PRIMARY KEY (enrolment_id, day)
);

-- No confirmation by the deadline: one alert, open until someone records what happened.
CREATE TABLE checkin_alerts (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES checkin_enrolments (id),
    day          TEXT    NOT NULL,
    raised_at    TEXT    NOT NULL,
    outcome      TEXT CHECK (outcome IN ('safe', 'visited')),
    outcome_by   INTEGER,
    outcome_at   TEXT,
    UNIQUE (enrolment_id, day)
);
