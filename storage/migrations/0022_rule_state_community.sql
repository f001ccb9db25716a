-- Several communities in one deployment (issue #15 item 1): a secretary's /pause stops a
-- civic-calendar push for their own community only, so the paused state is kept per
-- community. States of a one-community database keep the key 'default'. The primary key gains
-- the community, so the table is rebuilt (nothing references it).
CREATE TABLE schedule_rule_state_by_community (
    community  TEXT NOT NULL DEFAULT 'default',
    rule       TEXT NOT NULL,
    paused     INTEGER NOT NULL,
    changed_by INTEGER NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (community, rule)
);
INSERT INTO schedule_rule_state_by_community (community, rule, paused, changed_by, changed_at)
    SELECT 'default', rule, paused, changed_by, changed_at FROM schedule_rule_state;
DROP TABLE schedule_rule_state;
ALTER TABLE schedule_rule_state_by_community RENAME TO schedule_rule_state;
