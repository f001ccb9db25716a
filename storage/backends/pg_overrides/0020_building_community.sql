-- PostgreSQL's twin of 0020_building_community.sql (storage/backends/pg_overrides: used in place
-- of the translation). SQLite rebuilds the table because it cannot drop the old UNIQUE (name);
-- PostgreSQL can, and dropping the table there would fail while units refer to it. So the
-- table is altered in place: same ids, units' foreign key untouched, 'default' for every
-- building already there (as the SQLite migration gives them).
ALTER TABLE buildings ADD COLUMN community TEXT NOT NULL DEFAULT 'default';
ALTER TABLE buildings DROP CONSTRAINT buildings_name_key;
ALTER TABLE buildings ADD CONSTRAINT buildings_community_name_key UNIQUE (community, name);
