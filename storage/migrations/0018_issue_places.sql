-- Places (issue #18 item 3): a resident's Telegram location or venue locates the issue.
-- ``latitude``/``longitude`` are WGS-84 as the phone sent them; ``place`` is the venue's title
-- and address when the resident sent a venue. Personal data (a private report's coordinates
-- say where a person was): declared in storage/issues/personal_data.py, cleared by /forget and
-- the retention sweep, shown to the grid workers and in the ledger, never in a group.
ALTER TABLE issues ADD COLUMN latitude REAL;
ALTER TABLE issues ADD COLUMN longitude REAL;
ALTER TABLE issues ADD COLUMN place TEXT;
