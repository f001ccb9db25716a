"""Operations (issue #17): backups, health and metrics, status, dead letters."""
