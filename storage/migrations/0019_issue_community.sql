-- Several communities in one deployment (issue #15 item 1): every issue carries the key of the
-- community whose grid it was reported in. A deployment configured with one [community] keeps
-- the key 'default', so databases written before this migration need no rewrite.
ALTER TABLE issues ADD COLUMN community TEXT NOT NULL DEFAULT 'default';
CREATE INDEX issues_community_state ON issues (community, state);
