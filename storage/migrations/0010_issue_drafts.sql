-- Private guided reports in progress (网格悄悄话, issue #3), one row per resident, so a bot
-- restart no longer drops a half-filled draft. ``seq`` numbers the resident's draft messages
-- (the one carrying the buttons); ``draft`` is NULL once the draft was submitted or cancelled.
-- Personal data: /forget deletes the row, /mydata shows it, drafts untouched for
-- privacy.draft_days are dropped by the retention sweep.
CREATE TABLE issue_drafts (
    user_id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    draft TEXT,
    updated_at TEXT NOT NULL
);
