"""GraphQL for signing in and the account's security: the same functions as REST
(:mod:`api.accounts`), so the same checks, limits and notices."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import strawberry
from pydantic import BaseModel, ValidationError

from jacameno.api.accounts import devices, email_flows, provider_flow
from jacameno.api.accounts.notices import Client
from jacameno.api.accounts.schemas import (
    ForgotIn,
    HandoffIn,
    OAuthStartIn,
    PasswordChangeIn,
    ResetIn,
    TokenIn,
)
from jacameno.api.auth.permissions import require_user
from jacameno.api.auth.principal import UserPrincipal
from jacameno.api.errors import ValidationFailedError
from jacameno.api.graphql.context import Context
from jacameno.api.graphql.types import User
from jacameno.api.http import validation_details
from jacameno.api.schemas import AuthOut

Info = strawberry.Info[Context, None]
ModelT = TypeVar("ModelT", bound=BaseModel)


def _checked(model: type[ModelT], **values: object) -> ModelT:
    """``values`` checked as the REST body is (422 with the same details)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailedError(
            "the input is not valid", details=validation_details(exc)
        ) from None


async def _user(info: Info) -> UserPrincipal:
    return require_user(await info.context.principal())


def _client(info: Info) -> Client:
    return Client.of(info.context.request)


@strawberry.type
class SignInProvider:
    name: str
    label: str
    kind: str


@strawberry.type
class AuthPayload:
    user: User
    access_token: str
    refresh_token: str
    #: Seconds until the access token expires.
    expires_in: int

    @classmethod
    def of(cls, answer: AuthOut) -> AuthPayload:
        out = answer.user
        user = User(
            id=out.id,
            email=out.email,
            display_name=out.display_name,
            created_at=out.created_at,
            email_verified=out.email_verified,
            has_password=out.has_password,
        )
        return cls(
            user=user,
            access_token=answer.access_token,
            refresh_token=answer.refresh_token,
            expires_in=answer.expires_in,
        )


@strawberry.type
class Session:
    id: str
    current: bool
    method: str
    device: str
    ip: str | None
    place: str | None
    created_at: datetime
    last_used_at: datetime


@strawberry.type
class ApiKeyUse:
    id: str
    name: str
    prefix: str
    project_id: str
    project_name: str
    role: str
    device: str | None
    ip: str | None
    place: str | None
    created_at: datetime
    last_used_at: datetime | None


@strawberry.type
class Sessions:
    sessions: list[Session]
    api_keys: list[ApiKeyUse]


@strawberry.type
class LinkedProvider:
    id: str
    provider: str
    label: str
    email: str | None
    created_at: datetime
    last_used_at: datetime | None


@strawberry.type
class AccountQuery:
    @strawberry.field
    async def sign_in_providers(self, info: Info) -> list[SignInProvider]:
        """The providers this server signs in with (no sign-in needed)."""
        found = info.context.services.accounts.providers.values()
        return [SignInProvider(name=p.name, label=p.label, kind=p.kind) for p in found]

    @strawberry.field
    async def my_sessions(self, info: Info) -> Sessions:
        """Where you are signed in, and the API keys you made (as REST /me/sessions)."""
        listed = await devices.list_sessions(info.context.services, await _user(info))
        return Sessions(
            sessions=[Session(**item.model_dump()) for item in listed.sessions],
            api_keys=[ApiKeyUse(**item.model_dump()) for item in listed.api_keys],
        )

    @strawberry.field
    async def my_linked_providers(self, info: Info) -> list[LinkedProvider]:
        user = await _user(info)
        listed = await devices.list_identities(info.context.services, user.user_id)
        return [LinkedProvider(**item.model_dump()) for item in listed.identities]


@strawberry.type
class AccountMutation:
    @strawberry.mutation
    async def start_sign_in(self, info: Info, provider: str, mode: str = "signin") -> str:
        """The provider's authorization URL (``mode`` signin or link); the response sets
        the cookie that binds the flow to this browser, as REST's does."""
        body = _checked(OAuthStartIn, mode=mode)
        services = info.context.services
        user_id = (await _user(info)).user_id if body.mode == "link" else None
        url, browser = await provider_flow.begin(services, info.context.request, provider, user_id)
        assert info.context.response is not None
        provider_flow.set_flow_cookie(info.context.response, browser, services.settings)
        return url

    @strawberry.mutation
    async def finish_sign_in(self, info: Info, handoff: str) -> AuthPayload:
        """Trade the handoff code the provider sign-in ended with for tokens (once)."""
        body = _checked(HandoffIn, handoff=handoff)
        answer = await provider_flow.handoff(info.context.services, body.handoff, _client(info))
        return AuthPayload.of(answer)

    @strawberry.mutation
    async def confirm_provider_link(self, info: Info, token: str) -> AuthPayload:
        body = _checked(TokenIn, token=token)
        answer = await provider_flow.confirm_link(info.context.services, body.token, _client(info))
        return AuthPayload.of(answer)

    @strawberry.mutation
    async def verify_email(self, info: Info, token: str) -> User:
        body = _checked(TokenIn, token=token)
        out = await email_flows.verify_email(info.context.services, body.token)
        return User(**out.model_dump())

    @strawberry.mutation
    async def resend_verification(self, info: Info) -> bool:
        user = await _user(info)
        await email_flows.resend_verification(info.context.services, user.user_id, _client(info))
        return True

    @strawberry.mutation
    async def forgot_password(self, info: Info, email: str) -> bool:
        """Email a reset link if an account has ``email`` (true either way)."""
        body = _checked(ForgotIn, email=email)
        await email_flows.forgot_password(info.context.services, body.email, _client(info))
        return True

    @strawberry.mutation
    async def reset_password(self, info: Info, token: str, password: str) -> AuthPayload:
        body = _checked(ResetIn, token=token, password=password)
        answer = await email_flows.reset_password(
            info.context.services, body.token, body.password, _client(info)
        )
        return AuthPayload.of(answer)

    @strawberry.mutation
    async def change_password(
        self, info: Info, new_password: str, current_password: str | None = None
    ) -> AuthPayload:
        body = _checked(
            PasswordChangeIn, current_password=current_password, new_password=new_password
        )
        answer = await email_flows.change_password(
            info.context.services,
            await _user(info),
            body.current_password,
            body.new_password,
            _client(info),
        )
        return AuthPayload.of(answer)

    @strawberry.mutation
    async def end_session(self, info: Info, id: strawberry.ID) -> bool:
        """End a session: its tokens stop working and its open sockets close."""
        await devices.end_session(info.context.services, await _user(info), str(id))
        return True

    @strawberry.mutation
    async def revoke_my_api_key(self, info: Info, id: strawberry.ID) -> bool:
        await devices.revoke_key(info.context.services, await _user(info), str(id))
        return True

    @strawberry.mutation
    async def unlink_provider(self, info: Info, id: strawberry.ID) -> bool:
        user = await _user(info)
        await provider_flow.unlink(info.context.services, user.user_id, str(id), _client(info))
        return True
