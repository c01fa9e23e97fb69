"""The caller's sign-in methods and devices: sessions, API keys, linked providers, and
the password. Ending a session closes its open collaboration sockets."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.accounts import devices, email_flows, provider_flow
from jacameno.api.accounts.notices import Client
from jacameno.api.accounts.schemas import IdentitiesOut, PasswordChangeIn, SessionsOut
from jacameno.api.auth.permissions import require_user
from jacameno.api.auth.principal import UserPrincipal
from jacameno.api.http import ApiRoute, json_response, read_body
from jacameno.api.schemas import AuthOut
from jacameno.api.services import require_principal, services_of


async def _user(request: Request) -> UserPrincipal:
    async with services_of(request).database.session() as session:
        return require_user(await require_principal(request, session))


async def list_sessions(request: Request) -> Response:
    user = await _user(request)
    return json_response(await devices.list_sessions(services_of(request), user))


async def end_session(request: Request) -> Response:
    user = await _user(request)
    await devices.end_session(services_of(request), user, request.path_params["session_id"])
    return Response(status_code=204)


async def revoke_key(request: Request) -> Response:
    user = await _user(request)
    await devices.revoke_key(services_of(request), user, request.path_params["key_id"])
    return Response(status_code=204)


async def list_identities(request: Request) -> Response:
    user = await _user(request)
    return json_response(await devices.list_identities(services_of(request), user.user_id))


async def unlink(request: Request) -> Response:
    user = await _user(request)
    await provider_flow.unlink(
        services_of(request), user.user_id, request.path_params["identity_id"], Client.of(request)
    )
    return Response(status_code=204)


async def change_password(request: Request) -> Response:
    body = await read_body(request, PasswordChangeIn)
    user = await _user(request)
    answer = await email_flows.change_password(
        services_of(request), user, body.current_password, body.new_password, Client.of(request)
    )
    return json_response(answer)


M = "/api/v1/me"
routes = [
    ApiRoute(
        f"{M}/sessions",
        list_sessions,
        method="GET",
        summary="Where you are signed in (device, place, last use) and your API keys",
        tag="auth",
        response=SessionsOut,
        errors=(401, 403),
    ),
    ApiRoute(
        f"{M}/sessions/{{session_id}}",
        end_session,
        method="DELETE",
        summary="End a session: its tokens stop working and its open sockets close",
        tag="auth",
        status=204,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        f"{M}/api-keys/{{key_id}}",
        revoke_key,
        method="DELETE",
        summary="Revoke an API key you made (its open sockets close)",
        tag="auth",
        status=204,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        f"{M}/identities",
        list_identities,
        method="GET",
        summary="The providers you can sign in with",
        tag="auth",
        response=IdentitiesOut,
        errors=(401, 403),
    ),
    ApiRoute(
        f"{M}/identities/{{identity_id}}",
        unlink,
        method="DELETE",
        summary="Unlink a provider (not the last way to sign in)",
        tag="auth",
        status=204,
        errors=(401, 403, 404, 409),
    ),
    ApiRoute(
        f"{M}/password",
        change_password,
        method="POST",
        summary="Change (or first set) your password; every session ends, this one goes on"
        " with the tokens answered",
        tag="auth",
        body=PasswordChangeIn,
        response=AuthOut,
        errors=(400, 401, 403, 422, 429),
    ),
]
