"""Operations: insights into what the database is doing, scheduled upkeep, retention."""
