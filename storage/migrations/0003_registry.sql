-- The registry (issue #4): buildings, units, households, the people linked to them, role
-- grants with their audit trail, group bindings and sensitive data. Times: ISO-8601 UTC text.

-- Building and unit names are stored normalised ("3号楼" → "3", "2单元" → "2").
CREATE TABLE buildings (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);

CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES buildings (id),
    name        TEXT    NOT NULL,
    UNIQUE (building_id, name)
);

-- One household (户). ``area_centi`` is the registered floor area in hundredths of a square
-- metre (89.50 ㎡ → 8950): an integer, so the Civil Code art. 278 vote counts stay exact.
-- ``owner_names`` and ``phone`` are personal data from the community's own household sheet.
CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    room        TEXT    NOT NULL,
    area_centi  INTEGER NOT NULL CHECK (area_centi > 0),
    owner_names TEXT    NOT NULL DEFAULT '',
    phone       TEXT    NOT NULL DEFAULT '',
    grid        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (unit_id, room)
);
CREATE INDEX households_grid ON households (grid);

-- A Telegram user who consented to the bot storing their data. No consent, no row.
CREATE TABLE persons (
    user_id              INTEGER PRIMARY KEY,
    display_name         TEXT NOT NULL,
    consent_given_at     TEXT NOT NULL,
    consent_withdrawn_at TEXT,
    sensitive_consent_at TEXT
);

-- A person's claim to a household, verified by the household's grid worker.
CREATE TABLE person_households (
    user_id      INTEGER NOT NULL REFERENCES persons (user_id),
    household_id INTEGER NOT NULL REFERENCES households (id),
    relation     TEXT    NOT NULL CHECK (relation IN ('owner', 'tenant', 'family')),
    state        TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'verified', 'rejected')),
    requested_at TEXT    NOT NULL,
    verified_by  INTEGER,
    verified_at  TEXT,
    PRIMARY KEY (user_id, household_id)
);
CREATE INDEX person_households_household ON person_households (household_id);

-- Roles granted in chat (config roles stay valid beside these). ``grid`` '' = whole community.
CREATE TABLE role_grants (
    user_id    INTEGER NOT NULL,
    role       TEXT    NOT NULL,
    grid       TEXT    NOT NULL DEFAULT '',
    granted_by INTEGER NOT NULL,
    granted_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, role, grid)
);

-- Append-only audit trail of every grant and revocation.
CREATE TABLE role_events (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL,
    role     TEXT    NOT NULL,
    grid     TEXT    NOT NULL DEFAULT '',
    action   TEXT    NOT NULL CHECK (action IN ('grant', 'revoke')),
    actor_id INTEGER NOT NULL,
    at       TEXT    NOT NULL
);
CREATE INDEX role_events_user ON role_events (user_id, id);

-- A group chat bound to a grid ('' = the whole community) with /bind.
CREATE TABLE group_bindings (
    chat_id  INTEGER PRIMARY KEY,
    grid     TEXT    NOT NULL,
    bound_by INTEGER NOT NULL,
    bound_at TEXT    NOT NULL
);

-- Sensitive personal information (PIPL art. 28), kept apart and read only through the policy
-- (the household's grid worker and the secretary); needs the person's separate consent.
CREATE TABLE sensitive_data (
    household_id INTEGER PRIMARY KEY REFERENCES households (id),
    living_alone INTEGER NOT NULL DEFAULT 0,
    health       TEXT    NOT NULL DEFAULT '',
    disability   TEXT    NOT NULL DEFAULT '',
    consent_by   INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL
);
