"""Migration 0007_optout_review goes up and down on a database of its own (the schema check is tests/test_store.py)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from sms import store


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_review_table_comes_and_goes_with_its_revision(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    store.upgrade(url, "0008_terms")
    assert "opt_out_reviews" not in tables(url)
    store.upgrade(url)
    assert "opt_out_reviews" in tables(url)
    command.downgrade(store.alembic_config(url), "0008_terms")
    assert "opt_out_reviews" not in tables(url) and "subscribers" in tables(url)
