-- Several communities in one deployment (issue #15 item 1): a role granted for a whole
-- community (grid '') says which community, so a deputy secretary of one community is nobody
-- in another. Grants of a one-community database keep the key 'default'. The primary key gains
-- the community, so the table is rebuilt (nothing references it).
CREATE TABLE role_grants_by_community (
    user_id    INTEGER NOT NULL,
    role       TEXT    NOT NULL,
    grid       TEXT    NOT NULL DEFAULT '',
    community  TEXT    NOT NULL DEFAULT 'default',
    granted_by INTEGER NOT NULL,
    granted_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, role, grid, community)
);
INSERT INTO role_grants_by_community (user_id, role, grid, community, granted_by, granted_at)
    SELECT user_id, role, grid, 'default', granted_by, granted_at FROM role_grants;
DROP TABLE role_grants;
ALTER TABLE role_grants_by_community RENAME TO role_grants;
ALTER TABLE role_events ADD COLUMN community TEXT NOT NULL DEFAULT 'default';
