// When a MIDI track's notes sound: note-ons and note-offs in song seconds, computed as
// the server's renderer does (audio_services/midi_render.py note_events): a note starts
// at clip start + start_beats x 60/bpm, ends length_beats later, and is cut at its
// clip's end; a note starting at or after the clip's end is not heard. Pure functions.
import type { MidiClip } from "../doc/midi";

/** A note-on (`velocity` > 0) or note-off (`velocity` 0) at `timeS` in the song. */
export interface SongNoteEvent {
  timeS: number;
  pitch: number;
  velocity: number;
  /** The note it belongs to ("clipId/noteId"): pairs an off with its on. */
  key: string;
}

/** An event on the audio clock, at a frame of the AudioContext (what the worklet plays). */
export interface FrameEvent {
  frame: number;
  pitch: number;
  velocity: number;
  key: string;
}

/** A stretch of song played from an AudioContext time: [songFromS, songToS) from ctxStartS. */
export interface MidiPass {
  songFromS: number;
  songToS: number;
  ctxStartS: number;
}

export const secondsPerBeat = (bpm: number): number => 60 / (bpm > 0 && Number.isFinite(bpm) ? bpm : 120);

/** A note's place in the song (seconds): its start and its end, cut at its clip's end. */
export function noteSpanS(clip: Pick<MidiClip, "startS" | "durationS">, note: { startBeats: number; lengthBeats: number }, bpm: number): { onS: number; offS: number } {
  const beat = secondsPerBeat(bpm);
  const onS = clip.startS + note.startBeats * beat;
  return { onS, offS: Math.min(onS + note.lengthBeats * beat, clip.startS + clip.durationS) };
}

/** Offs before ons at one time (a repeated note is released, then struck), then by pitch. */
function compareEvents<T extends { velocity: number; pitch: number }>(time: (e: T) => number) {
  return (a: T, b: T): number => time(a) - time(b) || (a.velocity === 0 ? 0 : 1) - (b.velocity === 0 ? 0 : 1) || a.pitch - b.pitch;
}

/** Every heard note of `clips` as song-time events, in time order. */
export function songNoteEvents(clips: MidiClip[], bpm: number): SongNoteEvent[] {
  const events: SongNoteEvent[] = [];
  for (const clip of clips) {
    const clipEndS = clip.startS + clip.durationS;
    for (const note of clip.notes) {
      const { onS, offS } = noteSpanS(clip, note, bpm);
      if (onS >= clipEndS || offS <= onS) continue;
      const key = `${clip.id}/${note.id}`;
      events.push({ timeS: onS, pitch: note.pitch, velocity: note.velocity, key });
      events.push({ timeS: offS, pitch: note.pitch, velocity: 0, key });
    }
  }
  return events.sort(compareEvents((e) => e.timeS));
}

/**
 * The events of `pass` on the audio clock at `sampleRate`: notes starting in
 * [max(songFromS, notBeforeS), songToS) (a note already sounding when the pass starts is
 * not struck, as a render from that point would not either), their offs cut at the
 * pass's end. Keys carry the pass's `tag`, so a looped note is a new note each time.
 */
export function passFrameEvents(events: SongNoteEvent[], pass: MidiPass, sampleRate: number, tag = "", notBeforeS = -Infinity): FrameEvent[] {
  const fromS = Math.max(pass.songFromS, notBeforeS);
  const frameAt = (songS: number) => Math.round((pass.ctxStartS + (songS - pass.songFromS)) * sampleRate);
  const started = new Set<string>();
  const out: FrameEvent[] = [];
  for (const event of events) {
    if (event.velocity > 0) {
      if (event.timeS < fromS || event.timeS >= pass.songToS) continue;
      started.add(event.key);
      out.push({ frame: frameAt(event.timeS), pitch: event.pitch, velocity: event.velocity, key: event.key + tag });
    } else if (started.has(event.key)) {
      out.push({ frame: frameAt(Math.min(event.timeS, pass.songToS)), pitch: event.pitch, velocity: 0, key: event.key + tag });
    }
  }
  return out.sort(compareEvents((e) => e.frame));
}

/** The song's MIDI end: where the last clip stops (0 without clips). */
export const midiEndS = (clips: Pick<MidiClip, "startS" | "durationS">[]): number => clips.reduce((end, c) => Math.max(end, c.startS + c.durationS), 0);
