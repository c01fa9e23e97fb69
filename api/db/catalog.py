"""Mirror the effect-plugin catalog (``audio_services.plugins``) into the ``plugins`` table.

The code catalog is the source of truth that the mixing engine validates against;
the table lets reports and ad-hoc SQL join on plugin ids. It is refreshed by
``jacameno db upgrade`` and by ``serve``'s SQLite auto-migration.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from jacameno.api.db.engine import Database
from jacameno.api.db.models import Plugin
from jacameno.audio_services.plugins import catalog


async def sync_plugin_catalog(database: Database) -> int:
    """Upsert every catalog plugin and drop rows of plugins that no longer exist."""
    specs = catalog()
    insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    async with database.session() as session:
        for spec in specs:
            row = {
                "id": spec.id,
                "name": spec.name,
                "category": spec.category,
                "params_schema": {"params": [p.to_json() for p in spec.params]},
                "enabled": True,
            }
            statement = insert(Plugin).values(**row)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[Plugin.id],
                    set_={k: statement.excluded[k] for k in row if k != "id"},
                )
            )
        await session.execute(delete(Plugin).where(Plugin.id.not_in([s.id for s in specs])))
    return len(specs)
