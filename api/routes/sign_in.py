"""Signing in with providers, and emailed links: verify an address, reset a password,
link a provider. The checks live in :mod:`api.accounts` (GraphQL shares them)."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jacameno.api.accounts import email_flows, provider_flow
from jacameno.api.accounts.notices import Client
from jacameno.api.accounts.provider_flow import COOKIE, FlowError
from jacameno.api.accounts.schemas import (
    ForgotIn,
    HandoffIn,
    OAuthStartIn,
    OAuthStartOut,
    ProviderOut,
    ProvidersOut,
    ResetIn,
    SentOut,
    TokenIn,
    VerifiedOut,
)
from jacameno.api.auth.permissions import require_user
from jacameno.api.http import ApiRoute, json_response, read_body
from jacameno.api.schemas import AuthOut
from jacameno.api.services import require_principal, services_of

log = structlog.get_logger(__name__)


async def providers(request: Request) -> Response:
    found = services_of(request).accounts.providers.values()
    return json_response(
        ProvidersOut(
            providers=[ProviderOut(name=p.name, label=p.label, kind=p.kind) for p in found]
        )
    )


async def start(request: Request) -> Response:
    """Begin a sign-in (or, signed in, a link): the answer sets the cookie that binds the
    flow to this browser and says where to send it."""
    services = services_of(request)
    body = await read_body(request, OAuthStartIn)
    user_id = None
    if body.mode == "link":
        async with services.database.session() as session:
            user_id = require_user(await require_principal(request, session)).user_id
    url, browser = await provider_flow.begin(
        services, request, request.path_params["provider"], user_id
    )
    response = json_response(OAuthStartOut(authorize_url=url))
    provider_flow.set_flow_cookie(response, browser, services.settings)
    return response


async def callback(request: Request) -> Response:
    """Where the provider sends the browser back: on to the web client's page."""
    services = services_of(request)
    name = request.path_params["provider"]
    try:
        page = await provider_flow.finish(
            services,
            name,
            dict(request.query_params),
            browser=request.cookies.get(COOKIE),
            client=Client.of(request),
        )
    except FlowError as exc:
        log.info("provider sign-in refused", provider=name, reason=exc.message)
        page = exc.redirect
    return RedirectResponse(page, status_code=303)


async def handoff(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, HandoffIn)
    return json_response(await provider_flow.handoff(services, body.handoff, Client.of(request)))


async def confirm_link(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, TokenIn)
    return json_response(await provider_flow.confirm_link(services, body.token, Client.of(request)))


async def verify_email(request: Request) -> Response:
    body = await read_body(request, TokenIn)
    user = await email_flows.verify_email(services_of(request), body.token)
    return json_response(VerifiedOut(user=user))


async def resend_verification(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
    await email_flows.resend_verification(services, user.user_id, Client.of(request))
    return json_response(SentOut(), 202)


async def forgot_password(request: Request) -> Response:
    body = await read_body(request, ForgotIn)
    await email_flows.forgot_password(services_of(request), body.email, Client.of(request))
    return json_response(SentOut(), 202)


async def reset_password(request: Request) -> Response:
    body = await read_body(request, ResetIn)
    answer = await email_flows.reset_password(
        services_of(request), body.token, body.password, Client.of(request)
    )
    return json_response(answer)


A = "/api/v1/auth"
routes = [
    ApiRoute(
        f"{A}/providers",
        providers,
        method="GET",
        summary="The sign-in providers this server offers",
        tag="auth",
        response=ProvidersOut,
        auth=False,
    ),
    ApiRoute(
        f"{A}/oauth/{{provider}}/start",
        start,
        method="POST",
        summary="Begin signing in (or, signed in, linking) with a provider",
        description="Answers the provider's authorization URL (PKCE, state and nonce) and"
        " sets an HttpOnly cookie binding the flow to this browser. ``mode: link`` needs"
        " the bearer token of the account to link to.",
        tag="auth",
        body=OAuthStartIn,
        response=OAuthStartOut,
        auth=False,
        errors=(400, 401, 404, 422, 429, 502),
    ),
    ApiRoute(
        f"{A}/oauth/{{provider}}/callback",
        callback,
        method="GET",
        summary="The provider's redirect back (the browser goes on to the web client)",
        description="Redirects (303) to ``/auth/done#handoff=<code>`` when signed in,"
        " ``/account?linked=<provider>`` when linked, ``/login?notice=check-email`` when"
        " the email belongs to an account (a link was emailed to it), or the page the flow"
        " began on with ``?error=<message>``.",
        tag="auth",
        status=303,
        auth=False,
    ),
    ApiRoute(
        f"{A}/oauth/handoff",
        handoff,
        method="POST",
        summary="Trade a provider sign-in's handoff code for tokens (once, within 2 minutes)",
        tag="auth",
        body=HandoffIn,
        response=AuthOut,
        auth=False,
        errors=(400, 401, 422),
    ),
    ApiRoute(
        f"{A}/email/link",
        confirm_link,
        method="POST",
        summary="Link the provider an emailed link names, and sign in",
        tag="auth",
        body=TokenIn,
        response=AuthOut,
        auth=False,
        errors=(400, 404, 409, 422),
    ),
    ApiRoute(
        f"{A}/email/verify",
        verify_email,
        method="POST",
        summary="Prove an address with the emailed link's token",
        tag="auth",
        body=TokenIn,
        response=VerifiedOut,
        auth=False,
        errors=(400, 422),
    ),
    ApiRoute(
        "/api/v1/me/email/verification",
        resend_verification,
        method="POST",
        summary="Email the verification link again",
        tag="auth",
        response=SentOut,
        status=202,
        errors=(401, 403, 409, 429, 503),
    ),
    ApiRoute(
        f"{A}/password/forgot",
        forgot_password,
        method="POST",
        summary="Email a password-reset link (the same answer whether or not the account exists)",
        tag="auth",
        body=ForgotIn,
        response=SentOut,
        status=202,
        auth=False,
        errors=(400, 422, 429, 503),
    ),
    ApiRoute(
        f"{A}/password/reset",
        reset_password,
        method="POST",
        summary="Set a new password with a reset link's token; every other session ends",
        tag="auth",
        body=ResetIn,
        response=AuthOut,
        auth=False,
        errors=(400, 422, 429),
    ),
]
