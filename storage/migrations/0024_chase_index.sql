-- The chaser reads every issue a handler is working on at each tick (issue #15 item 3). With
-- only issues_state, SQLite finds those rows by index and then reads each from the table:
-- 0.5-0.8 s a tick on 1,000,000 issues (~5,000 chased), enough to delay a reply queued behind
-- it. This index holds every column the read needs, so the read never touches the table
-- (6 ms there). Not partial: the query binds its states as parameters, and SQLite uses a
-- partial index only when the query's literal WHERE implies the index's.
CREATE INDEX issues_chase ON issues (state, resolve_by, assigned_at, number, grid, handler);
