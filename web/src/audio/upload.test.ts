import { describe, expect, it, vi } from "vitest";
import { refusalReason, trackKindFor, trackNameFor, uploadError, UploadQueue } from "./upload";
import type { ApiClient } from "../api/client";

const file = (name: string, type = "", size = 10) => ({ name, type, size });

describe("refusalReason", () => {
  it("accepts the formats the server reads, by ending or by type", () => {
    for (const name of ["a.wav", "b.FLAC", "c.ogg", "d.mp3", "e.opus", "f.wave"]) expect(refusalReason(file(name))).toBeNull();
    expect(refusalReason(file("take", "audio/wav"))).toBeNull();
    expect(refusalReason(file("take", "audio/mpeg"))).toBeNull();
  });
  it("names formats the server refuses and what to send instead", () => {
    expect(refusalReason(file("mix.aiff", "audio/aiff"))).toMatch(/AIFF is not accepted.*WAV, FLAC, OGG or MP3/);
    expect(refusalReason(file("voice.m4a", "audio/mp4"))).toMatch(/M4A/);
    expect(refusalReason(file("x.weird", "audio/x-weird"))).toMatch(/audio\/x-weird/);
    expect(refusalReason(file("notes.txt", "text/plain"))).toMatch(/not an audio file/);
    expect(refusalReason(file("empty.wav", "audio/wav", 0))).toMatch(/empty/);
  });
});

describe("track name and kind", () => {
  it("drops the extension and keeps a name", () => {
    expect(trackNameFor("Lead_vocal take 2.wav")).toBe("Lead vocal take 2");
    expect(trackNameFor(".wav")).toBe(".wav");
    expect(trackNameFor("x".repeat(300) + ".wav")).toHaveLength(200);
  });
  it("guesses vocals from the name only", () => {
    expect(trackKindFor("Lead Vocal.wav")).toBe("vocal");
    expect(trackKindFor("vox_dbl.flac")).toBe("vocal");
    expect(trackKindFor("bvs.wav")).toBe("vocal");
    expect(trackKindFor("drums.wav")).toBe("audio");
    expect(trackKindFor("wrapped synth.wav")).toBe("audio");
    expect(trackKindFor("Vocalise pad.wav")).toBe("audio");
  });
});

describe("uploadError", () => {
  it("reads the error envelope", () => {
    const body = JSON.stringify({ error: { code: "unsupported_media_type", message: "the file is not audio we can read", details: null } });
    const error = uploadError(415, body);
    expect(error.status).toBe(415);
    expect(error.code).toBe("unsupported_media_type");
    expect(error.message).toBe("The file is not audio we can read");
  });
  it("falls back to a sentence per status and reports offline", () => {
    expect(uploadError(413, "<html>").message).toMatch(/too large/);
    expect(uploadError(429, "").message).toMatch(/Too many/);
    expect(uploadError(0, "").offline).toBe(true);
  });
});

describe("UploadQueue", () => {
  it("lists refused files with the reason and never sends them", () => {
    const queue = new UploadQueue();
    const api = { freshToken: vi.fn() } as unknown as ApiClient;
    const listener = vi.fn();
    queue.subscribe(listener);
    const [item] = queue.add(api, "p1", [new File([], "empty.wav", { type: "audio/wav" })]);
    expect(item.status).toBe("refused");
    expect(queue.snapshot()[0].error).toMatch(/empty/);
    expect(api.freshToken).not.toHaveBeenCalled();
    expect(listener).toHaveBeenCalled();
    queue.dismiss(item.id);
    expect(queue.snapshot()).toHaveLength(0);
  });
});
