-- The handler's result (办理结果, the note given with 已办结), kept on the issue so the
-- residents see what was done: on the feedback slip, the group's 去评价 line and /issue N
-- (issue #13 item 12). Cleared when a resident's rating reopens the issue (重办); the
-- timeline keeps every round's note. Issues resolved before this migration take it from
-- their latest 办结 event.
ALTER TABLE issues ADD COLUMN result TEXT;

UPDATE issues SET result = (
    SELECT e.note FROM issue_events AS e
    WHERE e.issue_id = issues.id AND e.action = 'resolve'
    ORDER BY e.id DESC LIMIT 1
) WHERE state IN ('resolved', 'closed');
