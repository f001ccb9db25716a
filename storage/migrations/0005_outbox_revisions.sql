-- Coalesced edits (issue #6: 接龙 taps) and per-chat look-ups (issue #3: slip deep links).

-- A pending edit can be replaced by a newer one; the sender marks a row sent only if the
-- revision it delivered is still the row's revision, so the newest text always goes out.
ALTER TABLE outbox ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

CREATE INDEX outbox_chat_state ON outbox (chat_id, state);
