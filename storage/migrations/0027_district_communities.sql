-- A district (issue #16): several street offices, each its own bot, on one database, and a
-- district roll-up across them. A bot knows only its own config's communities, so each bot
-- writes its own here at start (storage.schedule.district): the district's roll-up then names
-- every street office's communities, grouped by office, whichever bot sends it. Keyed by the
-- community (keys are unique across the database: a key says whose an issue is); a community
-- moved to another bot's config follows it at that bot's next start.
CREATE TABLE district_communities (
    community  TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    office     TEXT NOT NULL,  -- the street office's name ([street_office] name, or the bot's communities)
    bot        TEXT NOT NULL,  -- the bot serving it (telegram.bot_key)
    updated_at TEXT NOT NULL
);
CREATE INDEX district_communities_bot ON district_communities (bot);
