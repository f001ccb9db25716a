-- Placeholder on branch r3-pg2 only: migrations must be gapless, and numbers 0024-0025 belong
-- to branches merged before this one. The lead drops this file and renumbers 0026 at merge.
SELECT 1;
