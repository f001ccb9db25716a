-- Rollups (issue #15 item 2): counters per (community, local day, grid, handler, category), so a
-- digest, the rates and the per-grid open/overdue counts read O(days × grids) rows, never
-- O(issues). The two triggers at the end keep them in the statement that writes each issue
-- event (IssueRepo.add_event is the one writer); `gridbot rollups rebuild` recomputes them from
-- the issues, events and slips (storage.issues.rollups), and `gridbot rollups check` compares.
--
-- Attribution: counters that come from an issue's events (reported, accepted, resolved,
-- reopened, and the on-time counts of its resolutions) are filed under the issue's *current*
-- grid, handler and category, the way the digest's naive queries join the issue: 改类别, 交办 or
-- 转办 moves the issue's counters. Slip counters are filed under the slip's own grid, handler
-- and category, copied when it was issued (migration 0002), and under the day it was issued.
-- handler is '' for none (a primary key column cannot be NULL).
CREATE TABLE issue_rollup (
    community   TEXT    NOT NULL,
    day         TEXT    NOT NULL,  -- local calendar day, YYYY-MM-DD (zone: rollup_settings)
    grid        TEXT    NOT NULL,
    handler     TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    reported    INTEGER NOT NULL DEFAULT 0,  -- events that created an issue
    accepted    INTEGER NOT NULL DEFAULT 0,  -- 受理, or 交办 straight from 已登记
    resolved    INTEGER NOT NULL DEFAULT 0,  -- 办结 (every resolve event)
    reopened    INTEGER NOT NULL DEFAULT 0,  -- 重办
    timed       INTEGER NOT NULL DEFAULT 0,  -- resolutions with a deadline (按期办结率)
    punctual    INTEGER NOT NULL DEFAULT 0,  -- of which at or before it
    valid       INTEGER NOT NULL DEFAULT 0,  -- answered slips issued that day
    missing     INTEGER NOT NULL DEFAULT 0,  -- expired slips (未评价)
    contacted   INTEGER NOT NULL DEFAULT 0,
    solved      INTEGER NOT NULL DEFAULT 0,
    partly      INTEGER NOT NULL DEFAULT 0,
    satisfied   INTEGER NOT NULL DEFAULT 0,
    basic       INTEGER NOT NULL DEFAULT 0,
    unsatisfied INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community, day, grid, handler, category)
) WITHOUT ROWID;
-- The street office's roll-up reads one period across every community.
CREATE INDEX issue_rollup_day ON issue_rollup (day);

-- Open issues now, by the local day of their deadline ('' for none): "overdue now" is the sum
-- over the days before today plus one indexed query for today's (issues_open_due below).
CREATE TABLE open_rollup (
    community TEXT    NOT NULL,
    grid      TEXT    NOT NULL,
    handler   TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    due_day   TEXT    NOT NULL,
    open      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community, grid, handler, category, due_day)
) WITHOUT ROWID;

-- Where each issue is counted now: the key of its event counters and its open bucket (NULL
-- when it is not open). The next event of the issue compares it with the issue's row and
-- moves what changed.
CREATE TABLE rollup_issues (
    issue_id  INTEGER PRIMARY KEY,
    community TEXT    NOT NULL,
    grid      TEXT    NOT NULL,
    handler   TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    due_day   TEXT
);

-- Whether a finished slip (answered or expired) is in the counters yet.
ALTER TABLE feedback_slips ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;

-- The local days the counters are filed under: the UTC moment each day starts. SQL finds the
-- day of a timestamp here, so a zone with summer time is right too. The zone is the config's
-- [community] timezone; the bot rebuilds the rollups at start when it differs (the figures are
-- exact either way: a period not made of whole rollup days is read from the raw tables at its
-- edges). Filled for 2000-2100; other moments fall back to their UTC date.
CREATE TABLE rollup_days (
    start TEXT PRIMARY KEY,
    day   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE rollup_settings (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    zone TEXT    NOT NULL
);

-- An open issue's deadline: respond-by while 已登记 (or the resolve-by, if earlier), else the
-- resolve-by. The expression must stay word for word as in storage.issues.rollups.DUE.
CREATE INDEX issues_open_due ON issues (
    (CASE WHEN state = 'new' AND (resolve_by IS NULL OR respond_by < resolve_by)
          THEN respond_by ELSE resolve_by END),
    community
) WHERE state IN ('new', 'accepted', 'assigned', 'in_progress', 'return_requested');

-- The default zone (Asia/Shanghai, UTC+8 all year since 1992) and the backfill of existing
-- databases. The statements are those of storage.issues.rollups.rebuild for a fixed offset.
INSERT INTO rollup_settings (id, zone) VALUES (1, 'Asia/Shanghai');

INSERT INTO rollup_days (start, day)
WITH RECURSIVE n (k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 36889)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', '2000-01-01', '+' || k || ' days', '-8 hours'),
       date('2000-01-01', '+' || k || ' days')
FROM n;

INSERT INTO issue_rollup (community, day, grid, handler, category,
                          reported, accepted, resolved, reopened, timed, punctual)
SELECT i.community, date(e.at, '+8 hours'), i.grid, COALESCE(i.handler, ''), i.category,
       SUM(e.from_state IS NULL),
       SUM(e.action = 'accept' OR (e.action = 'assign' AND e.from_state = 'new')),
       SUM(e.action = 'resolve'),
       SUM(e.action = 'reopen'),
       SUM(e.action = 'resolve' AND e.resolve_by IS NOT NULL),
       SUM(e.action = 'resolve' AND e.resolve_by IS NOT NULL AND e.at <= e.resolve_by)
FROM issue_events e JOIN issues i ON i.id = e.issue_id
WHERE e.from_state IS NULL OR e.action IN ('accept', 'assign', 'resolve', 'reopen')
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO issue_rollup (community, day, grid, handler, category,
                          valid, missing, contacted, solved, partly, satisfied, basic, unsatisfied)
SELECT i.community, date(s.created_at, '+8 hours'), s.grid, COALESCE(s.handler, ''), s.category,
       SUM(s.state = 'answered'),
       SUM(s.state = 'expired'),
       SUM(s.state = 'answered' AND s.contacted = 1),
       SUM(s.state = 'answered' AND s.solved = 'solved'),
       SUM(s.state = 'answered' AND s.solved = 'partly'),
       SUM(s.state = 'answered' AND s.satisfaction = 'satisfied'),
       SUM(s.state = 'answered' AND s.satisfaction = 'basic'),
       SUM(s.state = 'answered' AND s.satisfaction = 'unsatisfied')
FROM feedback_slips s JOIN issues i ON i.id = s.issue_id
WHERE s.state IN ('answered', 'expired')
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (community, day, grid, handler, category) DO UPDATE SET
    valid = excluded.valid, missing = excluded.missing, contacted = excluded.contacted,
    solved = excluded.solved, partly = excluded.partly, satisfied = excluded.satisfied,
    basic = excluded.basic, unsatisfied = excluded.unsatisfied;

UPDATE feedback_slips SET counted = 1 WHERE state IN ('answered', 'expired');

INSERT INTO rollup_issues (issue_id, community, grid, handler, category, due_day)
SELECT id, community, grid, COALESCE(handler, ''), category,
       CASE WHEN state IN ('new', 'accepted', 'assigned', 'in_progress', 'return_requested')
            THEN COALESCE(date(CASE WHEN state = 'new'
                                         AND (resolve_by IS NULL OR respond_by < resolve_by)
                                    THEN respond_by ELSE resolve_by END, '+8 hours'), '') END
FROM issues;

INSERT INTO open_rollup (community, grid, handler, category, due_day, open)
SELECT community, grid, handler, category, due_day, COUNT(*)
FROM rollup_issues WHERE due_day IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

-- The rollups follow every issue event in the statement that records it (issue #15 item 2):
-- every change to an issue is written with an event (IssueRepo.add_event) after the issue's row
-- has its new values, in the same transaction. Before the event row: if the issue's community,
-- grid, handler or category changed since it was last counted (rollup_issues), its earlier
-- events' counters move to the new key, and its open bucket is taken off.
CREATE TRIGGER rollups_before_event BEFORE INSERT ON issue_events
WHEN NEW.from_state IS NOT NULL
BEGIN
    INSERT INTO issue_rollup (community, day, grid, handler, category,
                              reported, accepted, resolved, reopened, timed, punctual)
    SELECT r.community, COALESCE((SELECT d.day FROM rollup_days d WHERE d.start <= e.at
                                ORDER BY d.start DESC LIMIT 1), substr(e.at, 1, 10)),
           r.grid, r.handler, r.category,
           -SUM(e.from_state IS NULL),
           -SUM(e.action = 'accept' OR (e.action = 'assign' AND e.from_state = 'new')),
           -SUM(e.action = 'resolve'),
           -SUM(e.action = 'reopen'),
           -SUM(e.action = 'resolve' AND e.resolve_by IS NOT NULL),
           -SUM(e.action = 'resolve' AND e.resolve_by IS NOT NULL AND e.at <= e.resolve_by)
    FROM rollup_issues r JOIN issues i ON i.id = r.issue_id
    JOIN issue_events e ON e.issue_id = r.issue_id
    WHERE r.issue_id = NEW.issue_id
      AND (r.community, r.grid, r.handler, r.category)
          <> (i.community, i.grid, COALESCE(i.handler, ''), i.category)
      AND (e.from_state IS NULL OR e.action IN ('accept', 'assign', 'resolve', 'reopen'))
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (community, day, grid, handler, category) DO UPDATE SET
        reported = reported + excluded.reported,
        accepted = accepted + excluded.accepted,
        resolved = resolved + excluded.resolved,
        reopened = reopened + excluded.reopened,
        timed = timed + excluded.timed,
        punctual = punctual + excluded.punctual;
    INSERT INTO issue_rollup (community, day, grid, handler, category,
                              reported, accepted, resolved, reopened, timed, punctual)
    SELECT i.community, COALESCE((SELECT d.day FROM rollup_days d WHERE d.start <= e.at
                                ORDER BY d.start DESC LIMIT 1), substr(e.at, 1, 10)),
           i.grid, COALESCE(i.handler, ''), i.category,
           SUM(e.from_state IS NULL),
           SUM(e.action = 'accept' OR (e.action = 'assign' AND e.from_state = 'new')),
           SUM(e.action = 'resolve'),
           SUM(e.action = 'reopen'),
           SUM(e.action = 'resolve' AND e.resolve_by IS NOT NULL),
           SUM(e.action = 'resolve' AND e.resolve_by IS NOT NULL AND e.at <= e.resolve_by)
    FROM rollup_issues r JOIN issues i ON i.id = r.issue_id
    JOIN issue_events e ON e.issue_id = r.issue_id
    WHERE r.issue_id = NEW.issue_id
      AND (r.community, r.grid, r.handler, r.category)
          <> (i.community, i.grid, COALESCE(i.handler, ''), i.category)
      AND (e.from_state IS NULL OR e.action IN ('accept', 'assign', 'resolve', 'reopen'))
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (community, day, grid, handler, category) DO UPDATE SET
        reported = reported + excluded.reported,
        accepted = accepted + excluded.accepted,
        resolved = resolved + excluded.resolved,
        reopened = reopened + excluded.reopened,
        timed = timed + excluded.timed,
        punctual = punctual + excluded.punctual;
    INSERT INTO open_rollup (community, grid, handler, category, due_day, open)
    SELECT community, grid, handler, category, due_day, -1 FROM rollup_issues
    WHERE issue_id = NEW.issue_id AND due_day IS NOT NULL
    ON CONFLICT (community, grid, handler, category, due_day) DO UPDATE SET open = open + excluded.open;
END;

-- After it: the open bucket where the issue is now, what it is counted under, the event's own
-- counters, and the issue's slips answered or expired since (each counted once: `counted`).
CREATE TRIGGER rollups_after_event AFTER INSERT ON issue_events
BEGIN
    INSERT INTO open_rollup (community, grid, handler, category, due_day, open)
    SELECT community, grid, COALESCE(handler, ''), category,
           CASE WHEN state IN ('new', 'accepted', 'assigned', 'in_progress', 'return_requested')
                THEN COALESCE((SELECT d.day FROM rollup_days d WHERE d.start <= (CASE
                              WHEN state = 'new' AND (resolve_by IS NULL OR respond_by < resolve_by)
                              THEN respond_by ELSE resolve_by END)
                              ORDER BY d.start DESC LIMIT 1),
                              substr(CASE
                              WHEN state = 'new' AND (resolve_by IS NULL OR respond_by < resolve_by)
                              THEN respond_by ELSE resolve_by END, 1, 10), '') END, 1
    FROM issues WHERE id = NEW.issue_id
      AND state IN ('new', 'accepted', 'assigned', 'in_progress', 'return_requested')
    ON CONFLICT (community, grid, handler, category, due_day) DO UPDATE SET open = open + excluded.open;
    INSERT OR REPLACE INTO rollup_issues (issue_id, community, grid, handler, category, due_day)
    SELECT id, community, grid, COALESCE(handler, ''), category,
           CASE WHEN state IN ('new', 'accepted', 'assigned', 'in_progress', 'return_requested')
                THEN COALESCE((SELECT d.day FROM rollup_days d WHERE d.start <= (CASE
                              WHEN state = 'new' AND (resolve_by IS NULL OR respond_by < resolve_by)
                              THEN respond_by ELSE resolve_by END)
                              ORDER BY d.start DESC LIMIT 1),
                              substr(CASE
                              WHEN state = 'new' AND (resolve_by IS NULL OR respond_by < resolve_by)
                              THEN respond_by ELSE resolve_by END, 1, 10), '') END
    FROM issues WHERE id = NEW.issue_id;
    INSERT INTO issue_rollup (community, day, grid, handler, category,
                              reported, accepted, resolved, reopened, timed, punctual)
    SELECT i.community, COALESCE((SELECT d.day FROM rollup_days d WHERE d.start <= NEW.at
                                ORDER BY d.start DESC LIMIT 1), substr(NEW.at, 1, 10)),
           i.grid, COALESCE(i.handler, ''), i.category,
           NEW.from_state IS NULL,
           NEW.action = 'accept' OR (NEW.action = 'assign' AND NEW.from_state = 'new'),
           NEW.action = 'resolve',
           NEW.action = 'reopen',
           NEW.action = 'resolve' AND NEW.resolve_by IS NOT NULL,
           NEW.action = 'resolve' AND NEW.resolve_by IS NOT NULL AND NEW.at <= NEW.resolve_by
    FROM issues i
    WHERE i.id = NEW.issue_id
      AND (NEW.from_state IS NULL OR NEW.action IN ('accept', 'assign', 'resolve', 'reopen'))
    ON CONFLICT (community, day, grid, handler, category) DO UPDATE SET
        reported = reported + excluded.reported,
        accepted = accepted + excluded.accepted,
        resolved = resolved + excluded.resolved,
        reopened = reopened + excluded.reopened,
        timed = timed + excluded.timed,
        punctual = punctual + excluded.punctual;
    INSERT INTO issue_rollup (community, day, grid, handler, category,
                              valid, missing, contacted, solved, partly, satisfied, basic, unsatisfied)
    SELECT i.community, COALESCE((SELECT d.day FROM rollup_days d WHERE d.start <= s.created_at
                                ORDER BY d.start DESC LIMIT 1), substr(s.created_at, 1, 10)),
           s.grid, COALESCE(s.handler, ''), s.category,
           SUM(s.state = 'answered'),
           SUM(s.state = 'expired'),
           SUM(s.state = 'answered' AND s.contacted = 1),
           SUM(s.state = 'answered' AND s.solved = 'solved'),
           SUM(s.state = 'answered' AND s.solved = 'partly'),
           SUM(s.state = 'answered' AND s.satisfaction = 'satisfied'),
           SUM(s.state = 'answered' AND s.satisfaction = 'basic'),
           SUM(s.state = 'answered' AND s.satisfaction = 'unsatisfied')
    FROM feedback_slips s JOIN issues i ON i.id = s.issue_id
    WHERE s.issue_id = NEW.issue_id AND s.counted = 0 AND s.state IN ('answered', 'expired')
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (community, day, grid, handler, category) DO UPDATE SET
        valid = valid + excluded.valid,
        missing = missing + excluded.missing,
        contacted = contacted + excluded.contacted,
        solved = solved + excluded.solved,
        partly = partly + excluded.partly,
        satisfied = satisfied + excluded.satisfied,
        basic = basic + excluded.basic,
        unsatisfied = unsatisfied + excluded.unsatisfied;
    UPDATE feedback_slips SET counted = 1
    WHERE issue_id = NEW.issue_id AND counted = 0 AND state IN ('answered', 'expired');
END;
