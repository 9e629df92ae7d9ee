"""Persistence: SQLAlchemy models, database setup and Alembic migrations."""
