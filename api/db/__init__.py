"""Database access: engine, models and migrations."""

from api.db.engine import Database, create_engine

__all__ = ["Database", "create_engine"]
