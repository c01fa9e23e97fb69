from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from jacameno.api.db import Database
from jacameno.api.db.models import Invite
from tests.support.api_client import ApiClient


async def test_members_roles_and_last_owner(api: ApiClient) -> None:
    owner = await api.signup()
    editor = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, editor, "editor")
    members = (await api.call("GET", f"/api/v1/projects/{pid}/members", editor.access_token)).json()
    assert {(m["email"], m["role"]) for m in members["items"]} == {
        (owner.email, "owner"),
        (editor.email, "editor"),
    }
    # The last owner can neither leave nor be demoted.
    leave = await api.call(
        "DELETE", f"/api/v1/projects/{pid}/members/{owner.user_id}", owner.access_token
    )
    assert leave.status_code == 409
    demote = await api.call(
        "PATCH",
        f"/api/v1/projects/{pid}/members/{owner.user_id}",
        owner.access_token,
        json={"role": "viewer"},
    )
    assert demote.status_code == 409
    # With a second owner, the first may step down.
    promote = await api.call(
        "PATCH",
        f"/api/v1/projects/{pid}/members/{editor.user_id}",
        owner.access_token,
        json={"role": "owner"},
    )
    assert promote.status_code == 200
    assert promote.json()["role"] == "owner"
    leave = await api.call(
        "DELETE", f"/api/v1/projects/{pid}/members/{owner.user_id}", owner.access_token
    )
    assert leave.status_code == 204
    assert (await api.call("GET", f"/api/v1/projects/{pid}", owner.access_token)).status_code == 404


async def test_only_owners_manage_members(api: ApiClient) -> None:
    owner = await api.signup()
    editor = await api.signup()
    third = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, editor, "editor")
    add = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/members",
        editor.access_token,
        json={"email": third.email, "role": "viewer"},
    )
    assert add.status_code == 403
    twice = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/members",
        owner.access_token,
        json={"email": editor.email, "role": "viewer"},
    )
    assert twice.status_code == 409
    bad_role = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/members",
        owner.access_token,
        json={"email": third.email, "role": "admin"},
    )
    assert bad_role.status_code == 422


async def test_adding_by_email_sends_an_invite_the_person_accepts(api: ApiClient) -> None:
    owner = await api.signup(display_name="Ada")
    person = await api.signup()
    pid = await api.create_project(owner, "Train Song")
    members = f"/api/v1/projects/{pid}/members"
    shouted = f"  {person.email.upper()} "
    invited = await api.call(
        "POST", members, owner.access_token, json={"email": shouted, "role": "editor"}
    )
    ghost = await api.call(
        "POST", members, owner.access_token, json={"email": "Ghost@Example.com", "role": "editor"}
    )
    # The same answer whether or not the address has an account, and no token.
    assert invited.status_code == ghost.status_code == 201
    assert (
        set(invited.json())
        == set(ghost.json())
        == {"id", "role", "email", "created_at", "expires_at", "accepted_at"}
    )
    assert invited.json()["email"] == person.email
    assert ghost.json()["email"] == "ghost@example.com"
    # Nobody joins without accepting.
    assert (
        await api.call("GET", f"/api/v1/projects/{pid}", person.access_token)
    ).status_code == 404

    pending = (await api.call("GET", "/api/v1/me/invites", person.access_token)).json()["items"]
    assert [
        (i["id"], i["project_id"], i["project_name"], i["role"], i["invited_by"]) for i in pending
    ] == [(invited.json()["id"], pid, "Train Song", "editor", "Ada")]
    stranger = await api.signup()
    taken = await api.call(
        "POST", f"/api/v1/me/invites/{invited.json()['id']}/accept", stranger.access_token
    )
    assert taken.status_code == 404
    assert (await api.call("GET", "/api/v1/me/invites", stranger.access_token)).json()[
        "items"
    ] == []

    accepted = await api.call(
        "POST", f"/api/v1/me/invites/{invited.json()['id']}/accept", person.access_token
    )
    assert accepted.status_code == 200
    assert (accepted.json()["id"], accepted.json()["role"]) == (pid, "editor")
    again = await api.call(
        "POST", f"/api/v1/me/invites/{invited.json()['id']}/accept", person.access_token
    )
    assert again.status_code == 409
    assert (await api.call("GET", "/api/v1/me/invites", person.access_token)).json()["items"] == []
    roles = (await api.call("GET", members, owner.access_token)).json()["items"]
    assert {(m["email"], m["role"]) for m in roles} == {
        (owner.email, "owner"),
        (person.email, "editor"),
    }

    # Addresses are not verified yet: whoever signs up with the address gets the invite.
    newcomer = await api.signup("ghost@example.com")
    (only,) = (await api.call("GET", "/api/v1/me/invites", newcomer.access_token)).json()["items"]
    joined = await api.call(
        "POST", f"/api/v1/me/invites/{only['id']}/accept", newcomer.access_token
    )
    assert (joined.status_code, joined.json()["role"]) == (200, "editor")
    analytics = (
        await api.call(
            "GET", f"/api/v1/projects/{pid}/analytics?kind=member_added", owner.access_token
        )
    ).json()
    assert [e["data"] for e in analytics["items"]] == [{"role": "editor", "via": "email"}] * 2


async def test_a_new_email_invite_replaces_the_pending_one(api: ApiClient, db_url: str) -> None:
    owner = await api.signup()
    person = await api.signup()
    pid = await api.create_project(owner)
    members = f"/api/v1/projects/{pid}/members"
    first = await api.call(
        "POST", members, owner.access_token, json={"email": person.email, "role": "viewer"}
    )
    second = await api.call(
        "POST", members, owner.access_token, json={"email": person.email, "role": "editor"}
    )
    assert first.status_code == second.status_code == 201
    pending = (await api.call("GET", "/api/v1/me/invites", person.access_token)).json()["items"]
    assert [(i["id"], i["role"]) for i in pending] == [(second.json()["id"], "editor")]
    withdrawn = await api.call(
        "POST", f"/api/v1/me/invites/{first.json()['id']}/accept", person.access_token
    )
    assert withdrawn.status_code == 404

    # An expired invite is no longer listed, and accepting it is 410.
    database = Database(db_url)
    async with database.session() as session:
        await session.execute(
            update(Invite)
            .where(Invite.id == second.json()["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await database.aclose()
    assert (await api.call("GET", "/api/v1/me/invites", person.access_token)).json()["items"] == []
    expired = await api.call(
        "POST", f"/api/v1/me/invites/{second.json()['id']}/accept", person.access_token
    )
    assert expired.status_code == 410


async def test_accepting_an_invite_never_demotes(api: ApiClient) -> None:
    owner = await api.signup()
    editor = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, editor, "editor")
    created = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/invites",
        owner.access_token,
        json={"role": "viewer", "email": editor.email},
    )
    accepted = await api.call(
        "POST", f"/api/v1/invites/{created.json()['token']}/accept", editor.access_token
    )
    assert (accepted.status_code, accepted.json()["role"]) == (200, "editor")
    promoted = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/invites",
        owner.access_token,
        json={"role": "owner", "email": editor.email},
    )
    mine = (await api.call("GET", "/api/v1/me/invites", editor.access_token)).json()["items"]
    assert [i["id"] for i in mine] == [promoted.json()["id"]]
    accepted = await api.call(
        "POST", f"/api/v1/me/invites/{promoted.json()['id']}/accept", editor.access_token
    )
    assert (accepted.status_code, accepted.json()["role"]) == (200, "owner")


async def test_removed_member_cannot_read(api: ApiClient) -> None:
    owner = await api.signup()
    member = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, member, "editor")
    assert (
        await api.call("GET", f"/api/v1/projects/{pid}", member.access_token)
    ).status_code == 200
    removed = await api.call(
        "DELETE", f"/api/v1/projects/{pid}/members/{member.user_id}", owner.access_token
    )
    assert removed.status_code == 204
    assert (
        await api.call("GET", f"/api/v1/projects/{pid}", member.access_token)
    ).status_code == 404
    listed = (await api.call("GET", "/api/v1/projects", member.access_token)).json()
    assert listed["total"] == 0


async def test_invite_single_use_and_role(api: ApiClient) -> None:
    owner = await api.signup()
    guest = await api.signup()
    late = await api.signup()
    pid = await api.create_project(owner)
    created = await api.call(
        "POST", f"/api/v1/projects/{pid}/invites", owner.access_token, json={"role": "viewer"}
    )
    assert created.status_code == 201
    token = created.json()["token"]
    listed = (await api.call("GET", f"/api/v1/projects/{pid}/invites", owner.access_token)).json()
    assert "token" not in listed["items"][0]

    accepted = await api.call("POST", f"/api/v1/invites/{token}/accept", guest.access_token)
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "viewer"
    again = await api.call("POST", f"/api/v1/invites/{token}/accept", late.access_token)
    assert again.status_code == 409
    assert (await api.call("GET", f"/api/v1/projects/{pid}", late.access_token)).status_code == 404
    analytics = (
        await api.call(
            "GET", f"/api/v1/projects/{pid}/analytics?kind=member_added", owner.access_token
        )
    ).json()
    assert analytics["total"] == 1
    assert analytics["items"][0]["data"] == {"role": "viewer", "via": "invite"}


async def test_expired_and_addressed_invites(api: ApiClient, db_url: str) -> None:
    owner = await api.signup()
    guest = await api.signup()
    pid = await api.create_project(owner)
    addressed = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/invites",
        owner.access_token,
        json={"role": "editor", "email": "someone.else@example.com"},
    )
    wrong_person = await api.call(
        "POST", f"/api/v1/invites/{addressed.json()['token']}/accept", guest.access_token
    )
    assert wrong_person.status_code == 403
    too_short = await api.call(
        "POST",
        f"/api/v1/projects/{pid}/invites",
        owner.access_token,
        json={"role": "editor", "expires_in_s": 5},
    )
    assert too_short.status_code == 422
    bogus = await api.call("POST", "/api/v1/invites/not-a-token/accept", guest.access_token)
    assert bogus.status_code == 404

    expiring = await api.call(
        "POST", f"/api/v1/projects/{pid}/invites", owner.access_token, json={"role": "viewer"}
    )
    # Move the expiry into the past in the database rather than waiting for it.
    database = Database(db_url)
    async with database.session() as session:
        await session.execute(
            update(Invite)
            .where(Invite.id == expiring.json()["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await database.aclose()
    expired = await api.call(
        "POST", f"/api/v1/invites/{expiring.json()['token']}/accept", guest.access_token
    )
    assert expired.status_code == 410
    assert (await api.call("GET", f"/api/v1/projects/{pid}", guest.access_token)).status_code == 404


async def test_api_keys_scoped_revocable_and_shown_once(api: ApiClient) -> None:
    owner = await api.signup()
    project_a = await api.create_project(owner, "A")
    project_b = await api.create_project(owner, "B")
    editor_key = await api.api_key(owner, project_a, "editor")
    viewer_key = await api.api_key(owner, project_a, "viewer")
    assert editor_key.startswith("jmk_")

    me = await api.call("GET", "/api/v1/me", editor_key)
    assert me.status_code == 200
    assert me.json()["user"] is None
    assert me.json()["api_key"]["project_id"] == project_a
    assert (await api.call("GET", f"/api/v1/projects/{project_a}", editor_key)).status_code == 200
    other = await api.call("GET", f"/api/v1/projects/{project_b}", editor_key)
    assert other.status_code == 403
    assert "another project" in other.json()["error"]["message"]
    listing = (await api.call("GET", "/api/v1/projects", editor_key)).json()
    assert [p["id"] for p in listing["items"]] == [project_a]

    viewer_write = await api.call(
        "PATCH", f"/api/v1/projects/{project_a}", viewer_key, json={"name": "bot was here"}
    )
    assert viewer_write.status_code == 403
    editor_write = await api.call(
        "PATCH", f"/api/v1/projects/{project_a}", editor_key, json={"description": "by bot"}
    )
    assert editor_write.status_code == 200

    keys = (
        await api.call("GET", f"/api/v1/projects/{project_a}/api-keys", owner.access_token)
    ).json()
    assert len(keys["items"]) == 2
    assert all("key" not in item for item in keys["items"])
    # API keys cannot mint API keys or create projects.
    mint = await api.call(
        "POST",
        f"/api/v1/projects/{project_a}/api-keys",
        editor_key,
        json={"name": "x", "role": "owner"},
    )
    assert mint.status_code == 403
    create = await api.call("POST", "/api/v1/projects", editor_key, json={"name": "x"})
    assert create.status_code == 403

    key_id = me.json()["api_key"]["id"]
    revoke = await api.call(
        "DELETE", f"/api/v1/projects/{project_a}/api-keys/{key_id}", owner.access_token
    )
    assert revoke.status_code == 204
    assert (await api.call("GET", "/api/v1/me", editor_key)).status_code == 401


async def test_analytics_owner_only(api: ApiClient) -> None:
    owner = await api.signup()
    viewer = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, viewer, "viewer")
    events = (await api.call("GET", f"/api/v1/projects/{pid}/analytics", owner.access_token)).json()
    assert [e["kind"] for e in events["items"]] == ["member_added", "project_created"]
    denied = await api.call("GET", f"/api/v1/projects/{pid}/analytics", viewer.access_token)
    assert denied.status_code == 403
