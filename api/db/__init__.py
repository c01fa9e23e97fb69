"""Database access: engine, models and migrations."""

from jacameno.api.db.engine import Database, create_engine

__all__ = ["Database", "create_engine"]
