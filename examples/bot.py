"""A bot: join a project with an API key and leave a comment every collaborator sees live.

    JACAMENO_URL=http://127.0.0.1:8000 JACAMENO_PROJECT=<project id> \\
    JACAMENO_API_KEY=jmk_... python examples/bot.py "Nice groove!"
"""

import os
import sys

import anyio

from jacameno.collab.client import CollabClient


async def main(base_url: str, project_id: str, api_key: str, text: str) -> str:
    async with CollabClient.for_project(base_url, project_id, api_key) as bot:
        await bot.wait_synced()  # the song as it is now
        comment_id = bot.project.add_comment("bot", text, time_s=12.0)
        await bot.flush()  # stored by the server (a viewer key's edits are refused)
    return comment_id


if __name__ == "__main__":
    url, project, key = (os.environ[f"JACAMENO_{name}"] for name in ("URL", "PROJECT", "API_KEY"))
    print(anyio.run(main, url, project, key, " ".join(sys.argv[1:]) or "Hello from a bot"))
