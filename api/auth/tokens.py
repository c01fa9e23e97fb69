"""Access tokens (short-lived JWTs) and opaque secrets (refresh tokens, invites, API keys)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

from jacameno.api.errors import UnauthorizedError

#: The only algorithm accepted; ``alg=none`` and key-confusion tricks are refused.
JWT_ALGORITHMS = ["HS256"]
JWT_ISSUER = "jacameno"
#: API keys carry this prefix so they are told apart from JWTs without decoding.
API_KEY_PREFIX = "jmk_"


def hash_secret(secret: str) -> str:
    """SHA-256 hex of an opaque high-entropy secret (such secrets need no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_api_key() -> tuple[str, str]:
    """A fresh API key and its short display prefix."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: str
    token_id: str
    family_id: str
    issued_at: int
    expires_at: int


class TokenIssuer:
    """Issues and verifies access tokens signed with the server secret."""

    def __init__(self, secret: str, *, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, user_id: str, family_id: str) -> tuple[str, AccessClaims]:
        now = int(time.time())
        claims = AccessClaims(
            user_id=user_id,
            token_id=uuid.uuid4().hex,
            family_id=family_id,
            issued_at=now,
            expires_at=now + self.ttl_s,
        )
        payload = {
            "sub": user_id,
            "jti": claims.token_id,
            "fam": family_id,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "iss": JWT_ISSUER,
            "typ": "access",
        }
        return jwt.encode(payload, self._secret, algorithm=JWT_ALGORITHMS[0]), claims

    def verify(self, token: str) -> AccessClaims:
        """Verify signature, algorithm, expiry and required claims; raise 401 otherwise."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=JWT_ALGORITHMS,
                issuer=JWT_ISSUER,
                options={"require": ["exp", "iat", "sub", "jti", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("access token expired") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("invalid access token") from None
        if payload.get("typ") != "access" or not isinstance(payload.get("fam"), str):
            raise UnauthorizedError("invalid access token")
        return AccessClaims(
            user_id=str(payload["sub"]),
            token_id=str(payload["jti"]),
            family_id=str(payload["fam"]),
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
        )
