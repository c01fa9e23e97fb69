import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Invite, Member, ProjectRole } from "../api/types";
import { useServices, useSession } from "../services";
import { describeError } from "./AuthPage";

const ROLES: ProjectRole[] = ["viewer", "editor", "owner"];

/** Members and invites of a project; owners change roles, remove and invite by email. */
export function MembersPanel({ projectId, role }: { projectId: string; role: ProjectRole }) {
  const { api } = useServices();
  const session = useSession();
  const [members, setMembers] = useState<Member[]>([]);
  const [invites, setInvites] = useState<Invite[]>([]);
  const [email, setEmail] = useState("");
  const [inviteRole, setInviteRole] = useState<ProjectRole>("editor");
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const owner = role === "owner";

  const load = useCallback(async () => {
    try {
      const list = await api.get<{ items: Member[] }>(`/api/v1/projects/${projectId}/members`);
      setMembers(list.items);
      if (owner) {
        const pending = await api.get<{ items: Invite[] }>(`/api/v1/projects/${projectId}/invites`);
        setInvites(pending.items.filter((i) => !i.accepted_at));
      }
    } catch (err) {
      setError(describeError(err));
    }
  }, [api, projectId, owner]);

  useEffect(() => {
    void load();
  }, [load]);

  async function act(action: () => Promise<unknown>, done: string) {
    setError(null);
    setMessage(null);
    try {
      await action();
      setMessage(done);
      await load();
    } catch (err) {
      setError(describeError(err));
    }
  }

  async function invite(event: FormEvent) {
    event.preventDefault();
    await act(() => api.post(`/api/v1/projects/${projectId}/members`, { email, role: inviteRole }), `Invited ${email} as ${inviteRole}.`);
    setEmail("");
  }

  return (
    <section className="members stack" aria-label="Members">
      <ul className="list">
        {members.map((member) => (
          <li key={member.user_id} className="row wrap">
            <span className="grow">
              {member.display_name || member.email} <span className="muted">{member.email}</span>
            </span>
            {owner && member.user_id !== session?.user.id ? (
              <>
                <label className="inline">
                  <span className="sr-only">Role of {member.display_name || member.email}</span>
                  <select
                    value={member.role}
                    onChange={(e) =>
                      void act(
                        () => api.patch(`/api/v1/projects/${projectId}/members/${member.user_id}`, { role: e.target.value }),
                        `${member.display_name || member.email} is now ${e.target.value}.`,
                      )
                    }
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </label>
                <button
                  className="danger"
                  onClick={() =>
                    void act(() => api.delete(`/api/v1/projects/${projectId}/members/${member.user_id}`), `Removed ${member.display_name || member.email}.`)
                  }
                >
                  Remove {member.display_name || member.email}
                </button>
              </>
            ) : (
              <span className="badge">{member.role}</span>
            )}
          </li>
        ))}
      </ul>
      {owner && (
        <>
          <form className="row wrap" onSubmit={invite}>
            <label className="grow">
              Invite by email
              <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
            </label>
            <label>
              Invite as
              <select value={inviteRole} onChange={(e) => setInviteRole(e.target.value as ProjectRole)}>
                {ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </label>
            <button type="submit" className="primary">
              Send invite
            </button>
          </form>
          {invites.length > 0 && (
            <>
              <h3>Pending invites</h3>
              <ul className="list">
                {invites.map((i) => (
                  <li key={i.id} className="row">
                    <span className="grow">
                      {i.email ?? "link invite"} as {i.role}
                    </span>
                    <button onClick={() => void act(() => api.delete(`/api/v1/projects/${projectId}/invites/${i.id}`), "Invite withdrawn.")}>
                      Withdraw invite for {i.email ?? "link"}
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
      <p role="status" className="muted">{message}</p>
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}
