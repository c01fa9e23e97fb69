"""Argon2id password hashing (pwdlib), always off the event loop."""

from __future__ import annotations

import anyio
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

#: Longest accepted password in characters; Argon2 cost grows with input length.
MAX_PASSWORD_CHARS = 1024


class PasswordHasher:
    """Hash and verify passwords with Argon2id at a configured cost."""

    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
        # Verifying against this when an account does not exist keeps login timing flat.
        self._dummy = self._hash.hash("not-a-real-password")

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """True when ``password`` matches; ``None`` or ``""`` (an account without a
        password) burns the same time and returns False."""
        target = password_hash or self._dummy
        ok = await anyio.to_thread.run_sync(self._hash.verify, password, target)
        return bool(ok) and bool(password_hash)
