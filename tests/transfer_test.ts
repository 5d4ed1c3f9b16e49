/**
 * Export and import through the memory service, checked against the rows themselves (raw SQL on both databases),
 * so "the same memories" means the same bytes, microseconds included.
 */
import assert from "node:assert/strict";
import { SageError } from "../lib/errors.ts";
import type { MemoryService } from "../lib/memory/service.ts";
import { newService, sql, type TestService } from "./support/harness.ts";

const open: TestService[] = [];

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `transfer: ${name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      try {
        await fn();
      } finally {
        for (const t of open.splice(0)) await t.close();
      }
    },
  });
}

async function service(options: Parameters<typeof newService>[0] = {}): Promise<TestService> {
  const t = await newService(options);
  open.push(t);
  return t;
}

const US = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/** Everything stored about memories and sessions, as text, in a stable order. */
async function dump(url: string): Promise<{ memories: unknown[]; sessions: unknown[] }> {
  return {
    memories: await sql(
      url,
      `SELECT id, project, session_id, kind, content, tags, metadata::text AS metadata, content_hash,
              terms::text AS terms, term_count, ${US("created_at")} AS created_at, ${US("updated_at")} AS updated_at
       FROM sage.memories ORDER BY id`,
    ),
    sessions: await sql(
      url,
      `SELECT id, project, name, metadata::text AS metadata, ${US("created_at")} AS created_at,
              ${US("updated_at")} AS updated_at
       FROM sage.sessions ORDER BY id`,
    ),
  };
}

async function counts(url: string): Promise<{ memories: number; sessions: number }> {
  const [r] = await sql<{ memories: number; sessions: number }>(
    url,
    "SELECT (SELECT count(*) FROM sage.memories)::int AS memories, (SELECT count(*) FROM sage.sessions)::int AS sessions",
  );
  return r;
}

async function exportAll(s: MemoryService, input: Record<string, unknown> = { all_projects: true }): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of s.exportLines(input)) lines.push(line.text);
  return lines;
}

/** A source database with a bit of everything. */
async function populate(s: MemoryService): Promise<void> {
  await s.createSession({ name: "first session", project: "/proj/one" });
  await s.saveMemory({ content: "Plain note in the current session.", project: "/proj/one" });
  await s.saveMemory({
    content: "Decision: use PostgreSQL 16.\nReason: pgvector ships for it.",
    kind: "decision",
    tags: ["db", "数据库"],
    metadata: { source: "meeting", n: 3, nested: { list: [1, "二", null], ok: true } },
    project: "/proj/one",
  });
  await s.saveMemory({ content: "数据库迁移在周五完成。", project: "/proj/one", session: "named-by-id" });
  await s.saveMemory({ content: 'No session here 😀 "quoted" \\ backslash', project: "/proj/two", session: null });
  await s.saveMemory({ content: "An old memory.", project: "/proj/two", created_at: "2019-06-30T23:59:59.999Z" });
  await s.saveConversation({ user_prompt: "How?", assistant_response: "Like this.", project: "/proj/two" });
  const u = await s.saveMemory({ content: "Will be edited.", project: "/proj/one" });
  await s.update({ id: u.id, project: "/proj/one", content: "Was edited, so updated_at differs.", tags: ["edited"] });
  await s.createSession({ id: "empty-session", name: null, project: "/proj/two" });
}

test("JSONL export → import into an empty database reproduces every memory and session exactly", async () => {
  const src = await service({ project: "/proj/one" });
  await populate(src.service);
  const lines = await exportAll(src.service);
  const before = await dump(src.url);
  assert.equal(before.memories.length, 7);
  assert.equal(before.sessions.length, 3);
  assert.equal(lines.length, 10);
  assert(lines.slice(0, 3).every((l) => JSON.parse(l).type === "session"), "sessions come first");
  // Microseconds in the file, not milliseconds.
  assert.match(JSON.parse(lines[3]).created_at, /\.\d{6}Z$/);

  const dst = await service({ project: "/somewhere/else" });
  await dst.service.migrate(); // migrated, still empty
  assert.deepEqual(await counts(dst.url), { memories: 0, sessions: 0 });
  const stats = await dst.service.importLines(lines);
  assert.deepEqual(stats, { read: 10, sessions: 3, imported: 7, duplicates: 0, remapped: 0 });
  const after = await dump(dst.url);
  assert.deepEqual(after.memories, before.memories);
  assert.deepEqual(after.sessions, before.sessions);
  // And exporting the copy gives the same file, byte for byte.
  assert.deepEqual(await exportAll(dst.service), lines);
  // Imported memories are searchable both ways.
  const id = (before.memories[2] as { id: number }).id;
  assert.equal((await dst.service.search({ query: "数据库", mode: "keyword", project: "/proj/one" })).hits[0].id, id);
  assert.equal((await dst.service.get(id, "/proj/one")).embedding?.chunks, 1);

  // Importing the same file again changes nothing.
  const again = await dst.service.importLines(lines);
  assert.deepEqual(again, { read: 10, sessions: 3, imported: 0, duplicates: 7, remapped: 0 });
  assert.deepEqual(await dump(dst.url), after);
});

test("import takes created_at, project, session and metadata per record", async () => {
  const t = await service({ project: "/default/project", model: null });
  const s = t.service;
  const stats = await s.importLines([
    JSON.stringify({
      content: "with everything",
      created_at: "2025-01-02T03:04:05.123456Z",
      project: "/other",
      session: "s-1",
      metadata: { k: "v" },
      tags: ["a"],
      kind: "fact",
    }),
    JSON.stringify({ content: "date only", created_at: "2025-02-03" }),
    JSON.stringify({ content: "no zone", created_at: "2025-03-04T05:06:07", updated_at: "2025-03-05T00:00:00+02:00" }),
    "",
    JSON.stringify({ content: "defaults" }),
  ]);
  assert.deepEqual(stats, { read: 4, sessions: 0, imported: 4, duplicates: 0, remapped: 0 });
  const rows = await sql<Record<string, unknown>>(
    t.url,
    `SELECT content, project, session_id, kind, tags, metadata, ${US("created_at")} AS c, ${US("updated_at")} AS u
     FROM sage.memories ORDER BY content`,
  );
  const by = new Map(rows.map((r) => [r.content, r]));
  assert.deepEqual(by.get("with everything"), {
    content: "with everything",
    project: "/other",
    session_id: "s-1",
    kind: "fact",
    tags: ["a"],
    metadata: { k: "v" },
    c: "2025-01-02T03:04:05.123456",
    u: "2025-01-02T03:04:05.123456",
  });
  assert.equal(by.get("date only")!.c, "2025-02-03T00:00:00.000000");
  assert.equal(by.get("no zone")!.c, "2025-03-04T05:06:07.000000"); // UTC, not the server's zone
  assert.equal(by.get("no zone")!.u, "2025-03-04T22:00:00.000000");
  assert.equal(by.get("defaults")!.project, "/default/project");
  assert.equal(by.get("defaults")!.kind, "note");
  assert.equal(by.get("defaults")!.session_id, null);
  // A session named only by a memory is created, in that memory's project.
  assert.deepEqual(await sql(t.url, "SELECT id, project FROM sage.sessions"), [{ id: "s-1", project: "/other" }]);
});

test("a record whose id is taken by different content is imported under a new id", async () => {
  const t = await service({ project: "/p", model: null });
  const s = t.service;
  const first = await s.saveMemory({ content: "the original memory one" }); // id 1
  assert.equal(first.id, 1);
  const stats = await s.importLines([
    JSON.stringify({ id: 1, content: "a different memory claiming id 1" }),
    JSON.stringify({ id: 2, content: "a free id two" }),
    JSON.stringify({ id: 1, content: "the original memory one" }), // the same memory: a duplicate
    JSON.stringify({ id: 9, content: "nine" }),
    JSON.stringify({ id: 9, content: "another nine, same id in the same file" }),
  ]);
  assert.deepEqual(stats, { read: 5, sessions: 0, imported: 4, duplicates: 1, remapped: 2 });
  const rows = await sql<{ id: number; content: string }>(t.url, "SELECT id, content FROM sage.memories ORDER BY id");
  const byContent = new Map(rows.map((r) => [r.content, r.id]));
  assert.equal(byContent.get("the original memory one"), 1, "the existing memory is untouched");
  assert.equal(byContent.get("a free id two"), 2);
  assert.equal(byContent.get("nine"), 9);
  const remapped = [
    byContent.get("a different memory claiming id 1")!,
    byContent.get("another nine, same id in the same file")!,
  ];
  for (const id of remapped) assert(id > 9, `remapped id ${id} must come after every explicit id`);
  assert.equal(new Set(rows.map((r) => r.id)).size, 5);
  // A different project's memory also holds its id: remapped, not merged.
  const other = await s.importLines([JSON.stringify({ id: 2, content: "a free id two", project: "/elsewhere" })]);
  assert.deepEqual(other, { read: 1, sessions: 0, imported: 1, duplicates: 0, remapped: 1 });
});

test("one bad line rejects the whole file, names the line, and stores nothing", async () => {
  const t = await service({ project: "/p", model: null });
  const s = t.service;
  await s.saveMemory({ content: "already here" });
  const before = await dump(t.url);
  const session = JSON.stringify({ type: "session", id: "would-be-created", name: "x" });
  const good = (n: number) => JSON.stringify({ content: `good record ${n}` });
  const files: [string, string[], RegExp][] = [
    ["invalid JSON", [session, good(1), "{not json", good(2)], /line 3: not valid JSON/],
    [
      "bad created_at",
      [session, JSON.stringify({ content: "x", created_at: "last week" }), good(1)],
      /line 2: created_at/,
    ],
    [
      "impossible date",
      [session, good(1), JSON.stringify({ content: "x", created_at: "2025-02-30T10:00:00Z" })],
      /line 3: created_at is not a real date/,
    ],
    [
      "missing content",
      [session, good(1), good(2), JSON.stringify({ kind: "note" })],
      /line 4: content must be a string/,
    ],
    ["empty content", [good(1), JSON.stringify({ content: "  " })], /line 2: content must not be empty/],
    ["not an object", [session, "[1, 2]"], /line 2: expected a JSON object, got a list/],
    ["bad type", [JSON.stringify({ type: "widget", content: "x" })], /line 1: type must be/],
    ["bad id", [session, JSON.stringify({ id: -4, content: "x" })], /line 2: id must be a positive integer/],
    ["bad kind", [session, JSON.stringify({ content: "x", kind: "Loud" })], /line 2: kind must be/],
    [
      "only private",
      [session, good(1), JSON.stringify({ content: "<private>secret</private>" })],
      /line 3: nothing is left/,
    ],
    ["blank lines count", [session, "", "", "oops"], /line 4: not valid JSON/],
  ];
  for (const [name, lines, pattern] of files) {
    try {
      await s.importLines(lines);
      assert.fail(`${name}: the import succeeded`);
    } catch (err) {
      assert(err instanceof SageError, `${name}: ${err}`);
      assert.equal(err.code, "invalid_input", name);
      assert.match(err.message, /import rejected, nothing was stored/, name);
      assert.match(err.message, pattern, name);
    }
    assert.deepEqual(await dump(t.url), before, `${name}: something was stored`);
  }
  // Every bad line is listed, not just the first.
  const many = await s.importLines(["{", good(1), "nope"]).catch((e) => e);
  assert.match(many.message, /line 1:[\s\S]*line 3:/);
});

test("Markdown export lists each memory; export scopes by project and session", async () => {
  const t = await service({ project: "/proj/one", model: null });
  const s = t.service;
  await populate(s);
  const md = (await exportAll(s, { format: "markdown", all_projects: true })).join("");
  const all = await sql<{ id: number; content: string; kind: string }>(
    t.url,
    "SELECT id, content, kind FROM sage.memories",
  );
  assert.match(md, /^# Sage memories\n/);
  assert.match(md, new RegExp(`· ${all.length} memories · all projects`));
  for (const m of all) {
    assert(md.includes(`## [memory:${m.id}] `), `memory ${m.id} missing`);
    assert(md.includes(m.content), `content of ${m.id} missing`);
  }
  assert(md.includes("tags: db, 数据库"));
  const one = (await exportAll(s, { format: "markdown" })).join("");
  assert(one.includes("project /proj/one"));
  assert(!one.includes("No session here"), "another project's memory leaked into a project export");

  const jsonl = (await exportAll(s, {})).map((l) => JSON.parse(l));
  const memories = jsonl.filter((r) => r.type === "memory");
  assert(memories.length > 0 && memories.every((m) => m.project === "/proj/one"));
  assert(!jsonl.some((r) => r.type === "session" && r.id === "empty-session"), "other project's session exported");
  const bySession = (await exportAll(s, { session: "named-by-id" })).map((l) => JSON.parse(l));
  assert.deepEqual(bySession.map((r) => [r.type, r.type === "memory" ? r.content : r.id]), [
    ["session", "named-by-id"],
    ["memory", "数据库迁移在周五完成。"],
  ]);
  const err = await (async () => {
    for await (const _ of s.exportLines({ format: "csv" })) { /* nothing */ }
  })().catch((e) => e);
  assert(err instanceof SageError && err.code === "invalid_input", String(err));
});

test("after importing explicit ids, a new save gets a larger id", async () => {
  const t = await service({ project: "/p", model: null });
  const s = t.service;
  await s.importLines([
    JSON.stringify({ id: 100, content: "hundred" }),
    JSON.stringify({ id: 250, content: "two hundred fifty" }),
    JSON.stringify({ id: 7, content: "seven" }),
  ]);
  const r = await s.saveMemory({ content: "saved after the import" });
  assert(r.id > 250, `new id ${r.id}`);
  const again = await s.saveMemory({ content: "and another" });
  assert.equal(again.id, r.id + 1);
});

test("large export pages through memories sharing one created_at, none lost or repeated", async () => {
  const t = await service({ project: "/p", model: null });
  const s = t.service;
  const n = 1_150; // more than two export pages and several import batches
  const lines = Array.from(
    { length: n },
    (_, i) => JSON.stringify({ content: `bulk memory number ${i}`, created_at: "2024-05-05T05:05:05.555555Z" }),
  );
  const stats = await s.importLines(lines);
  assert.equal(stats.imported, n);
  const exported = (await exportAll(s, {})).map((l) => JSON.parse(l));
  assert.equal(exported.length, n);
  assert.equal(new Set(exported.map((m) => m.id)).size, n);
  const idsInOrder = exported.map((m) => m.id);
  assert.deepEqual(idsInOrder, [...idsInOrder].sort((a, b) => a - b));
});
