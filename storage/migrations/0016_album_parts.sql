-- Albums (issue #18 item 1): Telegram delivers an album as one message per photo sharing a
-- media_group_id, the caption on one of them only. Each part is kept as it arrives, in its
-- update's transaction, so a report's album survives a restart between its parts and the
-- caption may come first or last. Kept for the raw-update period, then deleted.
CREATE TABLE album_parts (
    chat_id        INTEGER NOT NULL,
    media_group_id TEXT    NOT NULL,
    message_id     INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    file_id        TEXT    NOT NULL,
    issue_id       INTEGER REFERENCES issues (id),  -- the issue the album became, once filed
    received_at    TEXT    NOT NULL,
    PRIMARY KEY (chat_id, media_group_id, message_id)
);
CREATE INDEX album_parts_received ON album_parts (received_at);

