-- The on-time rate (按期办结率, issue #18 item 4): each 办结 is judged against the resolve-by
-- deadline in force at that moment. The issue row keeps only the latest deadline (a 重办 sets a
-- fresh one), so the event writer (storage.issues.repo.IssueRepo.add_event) copies the deadline
-- onto every resolve event as it writes it.
ALTER TABLE issue_events ADD COLUMN resolve_by TEXT;

-- Existing resolutions: the issue's deadline is still the one in force for its latest resolve
-- unless a 重办 followed it; the earlier rounds' deadlines are lost and stay NULL (not counted).
UPDATE issue_events
SET resolve_by = (SELECT resolve_by FROM issues WHERE issues.id = issue_events.issue_id)
WHERE action = 'resolve'
  AND NOT EXISTS (
      SELECT 1 FROM issue_events later
      WHERE later.issue_id = issue_events.issue_id
        AND later.action = 'reopen' AND later.id > issue_events.id
  );

-- The digest counts resolutions of a period several times (the day, 30 days, per grid and
-- category): a small covering index over the resolve events alone.
CREATE INDEX issue_events_resolved ON issue_events (at, resolve_by, issue_id)
WHERE action = 'resolve';
