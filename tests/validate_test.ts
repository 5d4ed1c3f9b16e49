import assert from "node:assert/strict";
import { SageError } from "../lib/errors.ts";
import {
  checkId,
  checkKind,
  checkKinds,
  checkLimit,
  checkMetadata,
  checkTags,
  checkText,
  checkTime,
} from "../lib/memory/validate.ts";

/** Asserts `fn` throws an invalid_input SageError whose message matches `pattern`. */
function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert(err instanceof SageError, `not a SageError: ${err}`);
    assert.equal(err.code, "invalid_input");
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("validate: checkText accepts text and returns it unchanged", () => {
  assert.equal(checkText("content", "  hello 世界 😀  ", 100), "  hello 世界 😀  ");
});

Deno.test("validate: checkText rejects non-strings, empty, too long, bad Unicode", () => {
  rejects(() => checkText("content", 42, 100), /content must be a string, got number/);
  rejects(() => checkText("content", null, 100), /got null/);
  rejects(() => checkText("content", ["a"], 100), /got a list/);
  rejects(() => checkText("content", { a: 1 }, 100), /got an object/);
  rejects(() => checkText("content", "", 100), /content must not be empty/);
  rejects(() => checkText("content", " \n\t ", 100), /must not be empty/);
  rejects(() => checkText("content", "x".repeat(101), 100), /101 characters; the limit is 100/);
  assert.equal(checkText("content", "x".repeat(100), 100).length, 100);
  rejects(() => checkText("content", "bad \ud800 surrogate", 100), /lone surrogate/);
  rejects(() => checkText("content", "trailing high \ud83d", 100), /lone surrogate/);
  rejects(() => checkText("content", "nul \u0000 here", 100), /NUL/);
  // What TextDecoder makes of invalid UTF-8 bytes.
  const decoded = new TextDecoder().decode(new Uint8Array([0x6f, 0x6b, 0x20, 0xff, 0xfe]));
  rejects(() => checkText("content", decoded, 100), /not valid UTF-8.*U\+FFFD/);
});

Deno.test("validate: the too-long error says how to fix it", () => {
  try {
    checkText("content", "x".repeat(11), 10);
    assert.fail("no error");
  } catch (err) {
    assert(err instanceof SageError);
    assert.match(err.hint ?? "", /SAGE_MAX_CONTENT_CHARS/);
  }
});

Deno.test("validate: checkTags trims, dedupes and rejects bad tags", () => {
  assert.deepEqual(checkTags(undefined), []);
  assert.deepEqual(checkTags(null), []);
  assert.deepEqual(checkTags([" db ", "db", "数据库", "a-b"]), ["db", "数据库", "a-b"]);
  rejects(() => checkTags("db"), /tags must be a list of strings, got string/);
  rejects(() => checkTags([1]), /each tag must be a string, got number/);
  rejects(() => checkTags(["ok", "  "]), /must not be empty/);
  rejects(() => checkTags(["x".repeat(65)]), /longer than 64/);
  rejects(() => checkTags(["line\nbreak"]), /control characters/);
  rejects(() => checkTags(["bad\ud800"]), /lone surrogate/);
  rejects(() => checkTags(Array.from({ length: 33 }, (_, i) => `t${i}`)), /at most 32 tags/);
});

Deno.test("validate: checkKind accepts lowercase words only", () => {
  for (const k of ["note", "decision", "my-kind", "kind_2", "x"]) assert.equal(checkKind(k), k);
  for (const k of ["Note", "", "2fast", "has space", "x".repeat(33), "笔记", null, 3]) {
    rejects(() => checkKind(k), /kind must be a lowercase word/);
  }
  assert.deepEqual(checkKinds(["note", "fact"]), ["note", "fact"]);
  assert.equal(checkKinds(undefined), undefined);
  rejects(() => checkKinds("note"), /kinds must be a list/);
  rejects(() => checkKinds(["note", "Bad"]), /got "Bad"/);
});

Deno.test("validate: checkMetadata takes plain JSON objects within the size limit", () => {
  assert.deepEqual(checkMetadata(undefined), {});
  assert.deepEqual(checkMetadata({ a: 1, nested: { b: [1, "两"] } }), { a: 1, nested: { b: [1, "两"] } });
  // Returned as plain JSON: a Date becomes its ISO string, undefined members vanish.
  assert.deepEqual(checkMetadata({ when: new Date(0), gone: undefined }), { when: "1970-01-01T00:00:00.000Z" });
  // A literal backslash-u-0000 in a string is text, not a NUL.
  assert.deepEqual(checkMetadata({ path: "C:\\u0000dir" }), { path: "C:\\u0000dir" });
  rejects(() => checkMetadata([1, 2]), /metadata must be a JSON object, got a list/);
  rejects(() => checkMetadata("x"), /got string/);
  rejects(() => checkMetadata(5), /got number/);
  rejects(() => checkMetadata({ big: "x".repeat(20_000) }), /bytes as JSON; the limit is 16384/);
  rejects(() => checkMetadata({ n: 1n }), /plain JSON/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  rejects(() => checkMetadata(cyclic), /plain JSON/);
});

Deno.test("validate: checkMetadata rejects NUL, lone surrogates and U+FFFD in values and keys", () => {
  rejects(() => checkMetadata({ a: "x\u0000y" }), /NUL/);
  rejects(() => checkMetadata({ a: "lone \ud800" }), /lone surrogate/);
  rejects(() => checkMetadata({ deep: [{ a: "\udc00" }] }), /lone surrogate/);
  rejects(() => checkMetadata({ ["key\ud800"]: 1 }), /lone surrogate/);
  rejects(() => checkMetadata({ a: "bad \uFFFD" }), /U\+FFFD/);
});

Deno.test("validate: checkId takes positive integers and digit strings", () => {
  assert.equal(checkId(1), 1);
  assert.equal(checkId(42), 42);
  assert.equal(checkId("42"), 42);
  assert.equal(checkId(" 7 "), 7);
  for (
    const bad of [
      0,
      -1,
      1.5,
      "abc",
      "",
      "-3",
      "1.5",
      "4e2",
      NaN,
      Infinity,
      null,
      undefined,
      true,
      [1],
      "9007199254740993",
    ]
  ) {
    rejects(() => checkId(bad), /id must be a positive integer/);
  }
  rejects(() => checkId(0, "ids[]"), /^ids\[\] must be/);
});

Deno.test("validate: checkLimit bounds", () => {
  assert.equal(checkLimit(undefined, 10, 100), 10);
  assert.equal(checkLimit(100, 10, 100), 100);
  for (const bad of [0, 101, 2.5, "5", -1]) {
    rejects(() => checkLimit(bad, 10, 100), /limit must be an integer from 1 to 100/);
  }
});

Deno.test("validate: checkTime takes ISO dates and times", () => {
  assert.equal(checkTime("after", undefined), undefined);
  assert.equal(checkTime("after", ""), undefined);
  assert.equal(checkTime("after", "2026-11-01")!.toISOString(), "2026-11-01T00:00:00.000Z");
  assert.equal(checkTime("after", "2026-11-01T09:30:00Z")!.toISOString(), "2026-11-01T09:30:00.000Z");
  assert.equal(checkTime("after", "2026-11-01T09:30:00+02:00")!.toISOString(), "2026-11-01T07:30:00.000Z");
  assert.equal(checkTime("after", "2024-02-29")!.toISOString(), "2024-02-29T00:00:00.000Z");
});

Deno.test("validate: checkTime takes ages relative to now", () => {
  const now = Date.UTC(2026, 10, 20, 12, 0, 0);
  const ago = (v: string) => now - checkTime("after", v, now)!.getTime();
  assert.equal(ago("7d"), 7 * 86_400_000);
  assert.equal(ago("12h"), 12 * 3_600_000);
  assert.equal(ago("2w"), 14 * 86_400_000);
  assert.equal(ago("30m"), 30 * 60_000);
  assert.equal(ago("6mo"), 180 * 86_400_000);
  assert.equal(ago("1y"), 365 * 86_400_000);
  assert.equal(ago(" 3 D "), 3 * 86_400_000);
});

Deno.test("validate: checkTime rejects garbage and impossible dates", () => {
  for (
    const bad of [
      "yesterday",
      "7 days",
      "7x",
      "2026-13-45",
      "2026-11-01 garbage",
      "11/01/2026",
      "2026-02-30",
      "2025-02-29",
      "2026-04-31",
    ]
  ) {
    rejects(() => checkTime("after", bad), /after must be an ISO 8601 date or time/);
  }
  rejects(() => checkTime("before", 1700000000), /before must be a date string, got number/);
});
