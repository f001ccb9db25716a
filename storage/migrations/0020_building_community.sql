-- Several communities in one deployment (issue #15 item 1): a building belongs to one
-- community, so two communities may each have a 5号楼 with a 1单元301 without one sheet's
-- import overwriting the other's households. Buildings of a one-community database keep the
-- key 'default' (as its issues do, migration 0019). SQLite cannot drop the old UNIQUE (name),
-- so the table is rebuilt under the same ids. Units keep pointing at those ids: the
-- foreign-key check waits for the end of this transaction, and the rows are inserted into the
-- rebuilt table after the old one is dropped, which is what clears that check.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE buildings_before AS SELECT id, name FROM buildings;
DROP TABLE buildings;
CREATE TABLE buildings (
    id        INTEGER PRIMARY KEY,
    community TEXT NOT NULL DEFAULT 'default',
    name      TEXT NOT NULL,
    UNIQUE (community, name)
);
INSERT INTO buildings (id, community, name) SELECT id, 'default', name FROM buildings_before;
DROP TABLE buildings_before;
