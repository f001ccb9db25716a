-- Placeholder (branch r3-rollups): number 0020 belongs to another branch of issue #15, whose
-- migration takes this place when the branches are merged; this file is then deleted. It only
-- keeps the numbering gapless (storage.db.apply_migrations) on this branch.
SELECT 1;
