// The note events waiting in the synthesizer's worklet, in frame order, and the notes
// sounding. Runs on the audio thread (midiWorklet.ts) and in tests; no Web Audio here.
import type { FrameEvent } from "./midiEvents";

const before = (a: FrameEvent, b: FrameEvent): number =>
  a.frame - b.frame || (a.velocity === 0 ? 0 : 1) - (b.velocity === 0 ? 0 : 1) || a.pitch - b.pitch;

export class NoteQueue {
  private pending: FrameEvent[] = [];
  private next = 0;
  /** Notes struck and not yet released: key -> pitch. */
  private held = new Map<string, number>();

  /** Queue `events` (any order) beside those already waiting. */
  add(events: FrameEvent[]): void {
    this.compact();
    this.pending = this.pending.concat(events).sort(before);
  }

  /**
   * Queue `events` in place of everything waiting, except the releases of notes already
   * sounding (a note struck before an edit still ends when it was going to). Such a
   * release is re-keyed, so a note of the same key in `events` is a note of its own.
   */
  replace(events: FrameEvent[]): void {
    this.compact();
    const kept: FrameEvent[] = [];
    for (const event of this.pending) {
      if (event.velocity !== 0 || !this.held.has(event.key)) continue;
      const key = `${event.key}#held`;
      this.held.delete(event.key);
      this.held.set(key, event.pitch);
      kept.push({ ...event, key });
    }
    this.pending = kept.concat(events).sort(before);
  }

  /** Drop everything waiting; returns the pitches still sounding (to be released now). */
  clear(): number[] {
    const pitches = [...new Set(this.held.values())];
    this.pending = [];
    this.next = 0;
    this.held.clear();
    return pitches;
  }

  /** The frame of the next waiting event (Infinity when none). */
  nextFrame(): number {
    return this.next < this.pending.length ? this.pending[this.next].frame : Infinity;
  }

  /**
   * The events due by `frame` (inclusive), in order, to be played now. A release of a
   * note that never sounded is dropped; a note struck again while it sounds (same key)
   * is released first.
   */
  due(frame: number): FrameEvent[] {
    const out: FrameEvent[] = [];
    while (this.next < this.pending.length && this.pending[this.next].frame <= frame) {
      const event = this.pending[this.next++];
      if (event.velocity > 0) {
        if (this.held.has(event.key)) out.push({ ...event, velocity: 0 });
        this.held.set(event.key, event.pitch);
        out.push(event);
      } else if (this.held.delete(event.key)) {
        out.push(event);
      }
    }
    return out;
  }

  get size(): number {
    return this.pending.length - this.next;
  }

  get sounding(): number {
    return this.held.size;
  }

  private compact(): void {
    if (this.next > 0) {
      this.pending = this.pending.slice(this.next);
      this.next = 0;
    }
  }
}
