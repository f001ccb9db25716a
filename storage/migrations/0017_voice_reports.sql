-- Voice notes (issue #18 item 2): a report may be a voice note instead of text. The issue
-- keeps the note's Telegram file id and length; ``description`` holds its transcript (when a
-- transcriber is configured) or the summary a grid worker types with /note, else ''.
ALTER TABLE issues ADD COLUMN voice_file_id TEXT;
ALTER TABLE issues ADD COLUMN voice_seconds INTEGER;
