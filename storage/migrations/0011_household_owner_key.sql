-- The owner identifier (业主编号) a household sheet may carry (issue #13 item 15). 民法典 art. 278
-- counts owners, not units: one owner of several units is one head with the areas summed
-- (最高人民法院 interpretation, 2020, art. 9). Without this column the electorate could only join
-- units whose owner had verified them through a Telegram account, so an unverified owner of two
-- units counted twice. '' = not given (each such unit stays its own owner).
ALTER TABLE households ADD COLUMN owner_key TEXT NOT NULL DEFAULT '';
