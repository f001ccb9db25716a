-- Each bot's sweeps keep their own clock (issue #16, several bots on one database): the next
-- sweep looks at (swept_to, now] of *its* bot, so a bot that was down catches up on its own
-- missed work (within the grace period) even while another bot kept sweeping the database.
-- schedule_clock stays as the moment any bot last swept (gridbot status). '' is the clock of
-- a database from before, adopted by its one bot at start (storage.transport.inbox).
CREATE TABLE schedule_bot_clock (
    bot      TEXT PRIMARY KEY,
    swept_to TEXT NOT NULL
);
INSERT INTO schedule_bot_clock (bot, swept_to) SELECT '', swept_to FROM schedule_clock;

-- And their own records of what was done: an occurrence's key names the work and its moment
-- ("rule:opinion_day:…", "digest:daily:…"), the same for every bot, so one bot's record must
-- not stop another's pushes and digests. Keyed by (bot, key) now.
CREATE TABLE schedule_runs_by_bot (
    bot         TEXT NOT NULL DEFAULT '',
    key         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'missed', 'skipped')),
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (bot, key)
);
INSERT INTO schedule_runs_by_bot (bot, key, kind, due_at, outcome, recorded_at)
SELECT '', key, kind, due_at, outcome, recorded_at FROM schedule_runs;
DROP TABLE schedule_runs;
ALTER TABLE schedule_runs_by_bot RENAME TO schedule_runs;
CREATE INDEX schedule_runs_due ON schedule_runs (due_at);
