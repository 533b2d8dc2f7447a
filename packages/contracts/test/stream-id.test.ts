import { describe, expect, it } from "vitest";
import { streamIdMs } from "../src/index.js";

describe("streamIdMs", () => {
  it("reads the millisecond part of a stream entry id", () => {
    expect(streamIdMs("1769929500123-7")).toBe(1769929500123);
    expect(streamIdMs("0-1")).toBe(0);
  });

  it("is null for anything that is not <ms>-<seq>", () => {
    for (const id of [
      undefined,
      "",
      "nope",
      "1769929500123",
      "-1",
      "12-",
      "1.5-0",
      "17699295001231234567-0",
    ]) {
      expect(streamIdMs(id)).toBeNull();
    }
  });
});
