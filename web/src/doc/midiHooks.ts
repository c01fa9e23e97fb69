// The MIDI tracks of the shared document, re-read when the tracks root changes.
import type * as Y from "yjs";
import { useRootSnapshot } from "./hooks";
import { readMidiTracks, type MidiTrack } from "./midi";
import { tracksOf } from "./model";

export const useMidiTracks = (doc: Y.Doc): MidiTrack[] => useRootSnapshot(doc, tracksOf(doc) as Y.AbstractType<unknown>, readMidiTracks);
