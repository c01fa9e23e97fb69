import { describe, expect, it } from "vitest";
import { closeMeaning, MAX_REPEATED_WARNINGS } from "./closeCodes";

describe("closeMeaning", () => {
  it("renews the token on 4401 without bothering the user", () => {
    expect(closeMeaning(4401)).toEqual({ action: "refresh", message: null });
  });

  it.each([4403, 4404])("stops with a message on %i", (code) => {
    const meaning = closeMeaning(code);
    expect(meaning.action).toBe("stop");
    expect(meaning.message).toBeTruthy();
  });

  it.each([4400, 4429, 4503, 1009, 1011])("reconnects but warns on %i", (code) => {
    const meaning = closeMeaning(code);
    expect(meaning.action).toBe("warn");
    expect(meaning.message).toBeTruthy();
  });

  it.each([1000, 1001, 1006, 4408, 4500, 0, 9999])("quietly reconnects on %i", (code) => {
    expect(closeMeaning(code)).toEqual({ action: "reconnect", message: null });
  });

  it("gives distinct messages for the two stops", () => {
    expect(closeMeaning(4403).message).not.toBe(closeMeaning(4404).message);
  });

  it("stops retrying after a few repeated warnings", () => {
    expect(MAX_REPEATED_WARNINGS).toBeGreaterThanOrEqual(2);
    expect(MAX_REPEATED_WARNINGS).toBeLessThanOrEqual(10);
  });
});
