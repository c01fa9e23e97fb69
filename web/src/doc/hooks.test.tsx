// @vitest-environment jsdom
import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import { useComments, useMeta, usePeers, useTracks } from "./hooks";
import { addComment, addTrack, lyricsOf, metaOf, setTrackField } from "./model";

afterEach(cleanup);

function TrackList({ doc, renders }: { doc: Y.Doc; renders: { count: number } }) {
  renders.count += 1;
  const tracks = useTracks(doc);
  return <ul aria-label="tracks">{tracks.map((t) => <li key={t.id}>{t.name}</li>)}</ul>;
}

describe("useTracks", () => {
  it("re-renders on a track change and not on a lyrics or meta edit", () => {
    const doc = new Y.Doc();
    const id = addTrack(doc, "Drums");
    const renders = { count: 0 };
    render(<TrackList doc={doc} renders={renders} />);
    expect(screen.getByRole("list", { name: "tracks" }).textContent).toBe("Drums");
    const afterMount = renders.count;

    act(() => lyricsOf(doc).insert(0, "la la la"));
    act(() => metaOf(doc).set("bpm", 90));
    act(() => addComment(doc, "u", "hi", null));
    expect(renders.count).toBe(afterMount);

    act(() => setTrackField(doc, id, "name", "Kit"));
    expect(renders.count).toBe(afterMount + 1);
    expect(screen.getByRole("list", { name: "tracks" }).textContent).toBe("Kit");

    act(() => addTrack(doc, "Bass"));
    expect(renders.count).toBe(afterMount + 2);
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Kit", "Bass"]);
  });

  it("sees changes that arrive from another peer", () => {
    const local = new Y.Doc();
    const remote = new Y.Doc();
    const renders = { count: 0 };
    render(<TrackList doc={local} renders={renders} />);
    addTrack(remote, "Remote");
    act(() => Y.applyUpdate(local, Y.encodeStateAsUpdate(remote)));
    expect(screen.getByRole("list", { name: "tracks" }).textContent).toBe("Remote");
  });

  it("gives the same array between renders when nothing changed (stable snapshot)", () => {
    const doc = new Y.Doc();
    addTrack(doc, "One");
    const seen: unknown[] = [];
    function Probe({ tick }: { tick: number }) {
      seen.push(useTracks(doc));
      return <span>{tick}</span>;
    }
    const { rerender } = render(<Probe tick={1} />);
    rerender(<Probe tick={2} />);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[seen.length - 1]).toBe(seen[0]);
  });
});

describe("useMeta and useComments", () => {
  it("follow their own roots", () => {
    const doc = new Y.Doc();
    function View() {
      const meta = useMeta(doc);
      const comments = useComments(doc);
      return <p>{`${meta.bpm} bpm, ${comments.length} comments`}</p>;
    }
    render(<View />);
    expect(screen.getByText("120 bpm, 0 comments")).toBeTruthy();
    act(() => metaOf(doc).set("bpm", 84));
    act(() => addComment(doc, "u", "nice", 3));
    expect(screen.getByText("84 bpm, 1 comments")).toBeTruthy();
  });
});

describe("usePeers", () => {
  function Peers({ awareness, renders }: { awareness: Awareness; renders?: { count: number } }) {
    if (renders) renders.count += 1;
    const peers = usePeers(awareness);
    return (
      <ul aria-label="peers">
        {peers.map((p) => (
          <li key={p.clientId}>{`${(p.state.user as { name?: string } | undefined)?.name ?? "?"}${p.isLocal ? " (you)" : ""}`}</li>
        ))}
      </ul>
    );
  }

  it("lists the local and remote states and follows joins and leaves", () => {
    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const a = new Awareness(docA);
    const b = new Awareness(docB);
    a.setLocalStateField("user", { name: "Ann" });
    b.setLocalStateField("user", { name: "Ben" });
    const renders = { count: 0 };
    render(<Peers awareness={a} renders={renders} />);
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Ann (you)"]);

    // Ben's state reaches Ann's awareness the way y-websocket relays it.
    const relay = (from: Awareness, to: Awareness) => {
      applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [from.clientID]), "remote");
    };
    act(() => relay(b, a));
    expect(screen.getAllByRole("listitem").map((li) => li.textContent).sort()).toEqual(["Ann (you)", "Ben"]);

    act(() => {
      b.setLocalStateField("user", { name: "Benny" });
      relay(b, a);
    });
    expect(screen.getAllByRole("listitem").map((li) => li.textContent).sort()).toEqual(["Ann (you)", "Benny"]);

    act(() => {
      b.setLocalState(null);
      relay(b, a);
    });
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Ann (you)"]);
    a.destroy();
    b.destroy();
  });
});
