import { describe, expect, it } from "vitest";
import type { FrameEvent } from "./midiEvents";
import { NoteQueue } from "./midiQueue";

const on = (frame: number, pitch: number, key: string): FrameEvent => ({ frame, pitch, velocity: 100, key });
const off = (frame: number, pitch: number, key: string): FrameEvent => ({ frame, pitch, velocity: 0, key });
const show = (events: FrameEvent[]) => events.map((e) => `${e.velocity ? "on" : "off"} ${e.pitch}@${e.frame}`);

describe("the worklet's note queue", () => {
  it("gives the events due by a frame in order, offs before ons at one frame", () => {
    const queue = new NoteQueue();
    queue.add([on(128, 62, "b"), off(100, 60, "a"), on(0, 60, "a"), off(200, 62, "b")]);
    queue.add([on(100, 64, "c")]);
    expect(queue.nextFrame()).toBe(0);
    expect(show(queue.due(99))).toEqual(["on 60@0"]);
    expect(show(queue.due(128))).toEqual(["off 60@100", "on 64@100", "on 62@128"]);
    expect(queue.sounding).toBe(2);
    expect(queue.nextFrame()).toBe(200);
    expect(show(queue.due(1000))).toEqual(["off 62@200"]);
    expect(queue.nextFrame()).toBe(Infinity);
  });

  it("drops a release of a note that never sounded, and restrikes a note struck twice", () => {
    const queue = new NoteQueue();
    queue.add([off(0, 60, "x"), on(10, 61, "y"), on(20, 61, "y")]);
    expect(show(queue.due(30))).toEqual(["on 61@10", "off 61@20", "on 61@20"]);
  });

  it("replacing keeps the releases of the notes sounding, so none is left hanging", () => {
    const queue = new NoteQueue();
    queue.add([on(0, 60, "a"), off(500, 60, "a"), on(300, 62, "b"), off(600, 62, "b")]);
    queue.due(100); // a sounds
    // A peer moved note a later: its new on and off arrive; the old release still comes.
    queue.replace([on(400, 60, "a"), off(700, 60, "a"), on(300, 65, "b"), off(600, 65, "b")]);
    expect(show(queue.due(1000))).toEqual(["on 65@300", "on 60@400", "off 60@500", "off 65@600", "off 60@700"]);
    expect(queue.sounding).toBe(0);
  });

  it("clear drops what waits and names the pitches to release now", () => {
    const queue = new NoteQueue();
    queue.add([on(0, 60, "a"), on(0, 60, "a2"), on(0, 67, "c"), off(100, 60, "a"), on(50, 70, "d")]);
    queue.due(10);
    expect(queue.clear().sort()).toEqual([60, 67]);
    expect(queue.size).toBe(0);
    expect(queue.due(1000)).toEqual([]);
  });
});
