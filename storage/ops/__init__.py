"""Operations on the database as a whole: backups, restores, and what an operator inspects."""
