from __future__ import annotations

from sqlalchemy import select

from jacameno.api.db import Database
from jacameno.api.db.models import Plugin
from jacameno.audio_services.plugins import catalog, validate_chain
from tests.support.api_client import ApiClient


async def test_catalog_lists_what_the_mixing_engine_accepts(api: ApiClient) -> None:
    response = await api.call("GET", "/api/v1/vst/plugins")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["id"] for item in items} == {spec.id for spec in catalog()}
    categories = {item["category"] for item in items}
    assert {"eq", "dynamics", "space"} <= categories
    for item in items:
        for param in item["params"]:
            assert param["min"] <= param["default"] <= param["max"]
            assert param["unit"] is not None
        # Every listed plugin, with its defaults or its extremes, is a valid effect.
        defaults = {p["name"]: p["default"] for p in item["params"]}
        highest = {p["name"]: p["max"] for p in item["params"]}
        validate_chain([{"plugin": item["id"], "params": defaults}])
        validate_chain([{"plugin": item["id"], "params": highest}])


async def test_filter_by_category(api: ApiClient) -> None:
    eq = (await api.call("GET", "/api/v1/vst/plugins?category=eq")).json()["items"]
    assert eq
    assert all(item["category"] == "eq" for item in eq)
    bad = await api.call("GET", "/api/v1/vst/plugins?category=kazoo")
    assert bad.status_code == 422


async def test_catalog_is_mirrored_into_the_database(api: ApiClient, db_url: str) -> None:
    # The server migrated and synced on start (SQLite) or the fixture did the migration.
    database = Database(db_url)
    from jacameno.api.db.catalog import sync_plugin_catalog

    await sync_plugin_catalog(database)
    async with database.session() as session:
        ids = set((await session.execute(select(Plugin.id))).scalars())
    await database.aclose()
    assert ids == {spec.id for spec in catalog()}
