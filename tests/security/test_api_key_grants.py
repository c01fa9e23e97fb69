"""API keys cannot make invites, and grant or change only roles below their own.

An owner key once minted owner invites that outlived the key itself.
"""

from __future__ import annotations

from tests.support.api_client import ApiClient


async def test_api_keys_cannot_create_invites(api: ApiClient) -> None:
    owner = await api.signup()
    person = await api.signup()
    pid = await api.create_project(owner)
    owner_key = await api.api_key(owner, pid, "owner")
    for role in ("owner", "editor", "viewer"):
        for path, body in (
            ("invites", {"role": role}),
            ("invites", {"role": role, "email": person.email}),
            ("members", {"role": role, "email": person.email}),
        ):
            made = await api.call("POST", f"/api/v1/projects/{pid}/{path}", owner_key, json=body)
            assert made.status_code == 403, made.text
            assert made.json()["error"]["message"].startswith("API keys cannot create invites")
    listed = await api.call("GET", f"/api/v1/projects/{pid}/invites", owner.access_token)
    assert listed.json()["items"] == []
    assert (await api.call("GET", "/api/v1/me/invites", person.access_token)).json()["items"] == []


async def test_an_owner_key_grants_and_changes_only_roles_below_owner(api: ApiClient) -> None:
    owner = await api.signup()
    editor = await api.signup()
    viewer = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, editor, "editor")
    await api.add_member(owner, pid, viewer, "viewer")
    key = await api.api_key(owner, pid, "owner")

    def member(account_id: str) -> str:
        return f"/api/v1/projects/{pid}/members/{account_id}"

    to_owner = await api.call("PATCH", member(editor.user_id), key, json={"role": "owner"})
    assert to_owner.status_code == 403
    assert to_owner.json()["error"] == {
        "code": "forbidden",
        "message": "an API key can only grant roles below its own (owner); making someone"
        " owner needs an owner signed in as a user",
        "details": {"role": "owner", "allowed": ["editor", "viewer"]},
    }
    demote_owner = await api.call("PATCH", member(owner.user_id), key, json={"role": "editor"})
    assert demote_owner.status_code == 403
    assert demote_owner.json()["error"]["details"]["member_role"] == "owner"
    remove_owner = await api.call("DELETE", member(owner.user_id), key)
    assert remove_owner.status_code == 403

    lowered = await api.call("PATCH", member(editor.user_id), key, json={"role": "viewer"})
    assert (lowered.status_code, lowered.json()["role"]) == (200, "viewer")
    raised = await api.call("PATCH", member(viewer.user_id), key, json={"role": "editor"})
    assert (raised.status_code, raised.json()["role"]) == (200, "editor")
    assert (await api.call("DELETE", member(viewer.user_id), key)).status_code == 204
    roles = (await api.call("GET", f"/api/v1/projects/{pid}/members", owner.access_token)).json()
    assert {(m["user_id"], m["role"]) for m in roles["items"]} == {
        (owner.user_id, "owner"),
        (editor.user_id, "viewer"),
    }


async def test_an_editor_key_grants_nothing(api: ApiClient) -> None:
    owner = await api.signup()
    viewer = await api.signup()
    pid = await api.create_project(owner)
    await api.add_member(owner, pid, viewer, "viewer")
    key = await api.api_key(owner, pid, "editor")
    member = f"/api/v1/projects/{pid}/members/{viewer.user_id}"
    for role in ("viewer", "editor", "owner"):
        changed = await api.call("PATCH", member, key, json={"role": role})
        assert changed.status_code == 403, changed.text
    assert (await api.call("DELETE", member, key)).status_code == 403
    invited = await api.call(
        "POST", f"/api/v1/projects/{pid}/invites", key, json={"role": "viewer"}
    )
    assert invited.status_code == 403
