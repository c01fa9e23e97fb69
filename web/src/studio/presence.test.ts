import { describe, expect, it } from "vitest";
import { accessibleName, initialsOf, peopleOf, personOf } from "./presence";

const peer = (state: unknown, clientId = 1, isLocal = false) => ({ clientId, state: state as Record<string, unknown>, isLocal });

describe("personOf", () => {
  it("reads a browser's user", () => {
    const p = personOf(peer({ user: { name: "Ana Lima", color: "#f5b642", colorLight: "#f5b64233", kind: "person", id: "u1" } }, 3, true));
    expect(p).toMatchObject({ name: "Ana Lima", initials: "AL", color: "#f5b642", isBot: false, isLocal: true, activity: null });
    expect(accessibleName(p!)).toBe("Ana Lima (you)");
  });

  it("marks bots by kind or by a bare name", () => {
    expect(personOf(peer({ user: { name: "Mixer", kind: "bot" } }))?.isBot).toBe(true);
    const bare = personOf(peer({ name: "lyric-bot" }));
    expect(bare).toMatchObject({ name: "lyric-bot", isBot: true, initials: "LB" });
    expect(bare?.color).toMatch(/^#/);
    expect(accessibleName(bare!)).toBe("lyric-bot, bot");
  });

  it("says what they are doing", () => {
    const p = personOf(peer({ user: { name: "Bo", color: "#fff" }, playhead: { time_s: 31.4, playing: true } }));
    expect(p?.activity).toBe("playing at 0:31");
    expect(accessibleName(p!)).toBe("Bo, playing at 0:31");
    expect(personOf(peer({ user: { name: "Bo" }, playhead: { time_s: 3, playing: false } }))?.activity).toBeNull();
    // Extrapolated from when the time was published.
    expect(personOf(peer({ user: { name: "Bo" }, playhead: { time_s: 10, playing: true, at: 1000 } }), 6500)?.activity).toBe("playing at 0:15");
    expect(personOf(peer({ user: { name: "Bo" }, playhead: { time_s: "x", playing: true } }))?.activity).toBeNull();
  });

  it("ignores malformed states and unsafe colours", () => {
    expect(personOf(peer(null))).toBeNull();
    expect(personOf(peer({}))).toBeNull();
    expect(personOf(peer({ user: "ana" }))).toBeNull();
    expect(personOf(peer({ user: { name: 42 } }))).toBeNull();
    expect(personOf(peer({ user: { name: "   " } }))).toBeNull();
    expect(personOf(peer({ user: { name: "X", color: "red;background:url(x)" } }))?.color).toMatch(/^#[0-9a-f]{6}$/);
  });
});

describe("peopleOf", () => {
  it("lists the local tab first, then by name", () => {
    const people = peopleOf([peer({ user: { name: "Zoe" } }, 1), peer({ junk: true }, 2), peer({ user: { name: "Me" } }, 3, true), peer({ user: { name: "Al" } }, 4)]);
    expect(people.map((p) => p.name)).toEqual(["Me", "Al", "Zoe"]);
  });

  it("shows a person with several tabs once", () => {
    const people = peopleOf([
      peer({ user: { name: "Bo", id: "u2" } }, 1),
      peer({ user: { name: "Me", id: "u1" } }, 2, true),
      peer({ user: { name: "Me", id: "u1" }, playhead: { time_s: 5, playing: true } }, 3),
      peer({ user: { name: "Bo", id: "u2" } }, 4),
      peer({ name: "bot" }, 5),
      peer({ name: "bot" }, 6),
    ]);
    expect(people.map((p) => [p.name, p.isLocal, p.activity])).toEqual([
      ["Me", true, "playing at 0:05"],
      ["Bo", false, null],
      ["bot", false, null],
      ["bot", false, null],
    ]);
  });
});

describe("initialsOf", () => {
  it("takes up to two letters", () => {
    expect(initialsOf("ana")).toBe("A");
    expect(initialsOf("ana.lima@example.com")).toBe("AL");
    expect(initialsOf("Élodie de Vries")).toBe("ÉV");
    expect(initialsOf("🎸 Rock")).toBe("🎸R");
  });
});
