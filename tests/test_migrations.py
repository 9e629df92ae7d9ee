"""The Alembic migrations build exactly the schema the models describe, on a fresh database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage import db as storage_db
from storage.models import Base


async def test_migrations_match_models(tmp_path) -> None:
    engine = storage_db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await storage_db.upgrade(engine)
        await storage_db.upgrade(engine)  # idempotent

        def diff(conn):
            return compare_metadata(MigrationContext.configure(conn), Base.metadata)

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def test_the_migrations_form_one_line() -> None:
    """Feature branches are merged: a new migration has exactly one revision to follow."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(storage_db.alembic_config("sqlite+aiosqlite://")).get_heads()
    assert len(heads) == 1, f"several heads, add a merge revision: {heads}"
