-- 窗帘之约 escalation (issue #13 item 19): an alert nobody handles goes to the grid leaders
-- after schedule.checkin.escalate_after, then to the secretaries, then to everyone again;
-- ``escalation`` is the last step sent (0: only the first alert), so a restart repeats none.
ALTER TABLE checkin_alerts ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
-- The name the resident goes by, taken when they consent, so an alert names them to the
-- people who must act (private chats only). Personal data: ends with the enrolment.
ALTER TABLE checkin_enrolments ADD COLUMN name TEXT;
