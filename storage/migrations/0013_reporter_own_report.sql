-- Each reporter keeps the type and the anonymity of the report they filed (issue #13 item 11).
-- A merge copies reporters onto the target issue, whose type said nothing about them: the
-- resident who filed a 投诉 merged into a 报事 was shown to the handler by full name. The
-- privacy rule (bot/privacy/service.py) now reads these columns, not the target's.
ALTER TABLE issue_reporters ADD COLUMN report_type TEXT NOT NULL DEFAULT 'report';
ALTER TABLE issue_reporters ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;

-- Rows from before: the report a reporter came with is via_issue (merged) or the issue itself.
UPDATE issue_reporters SET
    report_type = (SELECT i.type FROM issues i
                   WHERE i.id = COALESCE(issue_reporters.via_issue, issue_reporters.issue_id)),
    anonymous = (SELECT i.anonymous FROM issues i
                 WHERE i.id = COALESCE(issue_reporters.via_issue, issue_reporters.issue_id));
