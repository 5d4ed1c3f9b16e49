/**
 * The memory service against a real database and the real (tiny) embedding model. Most tests share one service
 * and one database, each in its own project; tests that need their own model setup make their own.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { SageError } from "../lib/errors.ts";
import type { MemoryService } from "../lib/memory/service.ts";
import type { SearchResult } from "../lib/types.ts";
import { estimateTokens } from "../lib/text/tokens.ts";
import { newService, sql, tempDir, type TestService } from "./support/harness.ts";
import { writeTinyModel } from "./support/tiny_model.ts";

/** Tests share a service whose pool and worker outlive a single test; the last test closes them. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `service: ${name}`, fn, sanitizeOps: false, sanitizeResources: false });
}

let shared: TestService | null = null;
const extra: TestService[] = [];

async function main(): Promise<TestService> {
  shared ??= await newService();
  return shared;
}

/** Another service on the shared database (its own pool, model or none). */
async function another(options: Parameters<typeof newService>[0] = {}): Promise<TestService> {
  const t = await newService({ url: (await main()).url, ...options });
  extra.push(t);
  return t;
}

async function rowCount(url: string): Promise<number> {
  return (await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM sage.memories"))[0].n;
}

/** Expects `p` to fail with a SageError of `code` whose message matches `pattern`. */
async function failsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<SageError> {
  try {
    await p;
  } catch (err) {
    assert(err instanceof SageError, `expected a SageError, got ${err}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected a ${code} error, but the call succeeded`);
}

const ids = (r: SearchResult) => r.hits.map((h) => h.id);

async function saveAll(s: MemoryService, project: string, contents: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const content of contents) out.push((await s.saveMemory({ content, project })).id);
  return out;
}

// ---- saving ---------------------------------------------------------------------------------------------------

test("save → get round trip keeps every field", async () => {
  const { service: s } = await main();
  const r = await s.saveMemory({
    content: "  We chose PostgreSQL 16 with pgvector for storage.  ",
    kind: "decision",
    tags: ["db", "architecture"],
    metadata: { source: "meeting", n: 3, nested: { ok: true } },
    project: "/p/roundtrip",
    session: "roundtrip-session",
  });
  assert.equal(r.duplicate, false);
  assert.equal(r.embedded, true);
  assert.equal(r.project, "/p/roundtrip");
  assert.equal(r.session, "roundtrip-session");
  assert.deepEqual(r.warnings, []);
  const m = await s.get(r.id, r.project);
  assert.equal(m.id, r.id);
  assert.equal(m.content, "We chose PostgreSQL 16 with pgvector for storage."); // trimmed
  assert.equal(m.kind, "decision");
  assert.deepEqual(m.tags, ["db", "architecture"]);
  assert.deepEqual(m.metadata, { source: "meeting", n: 3, nested: { ok: true } });
  assert.equal(m.project, "/p/roundtrip");
  assert.equal(m.session, "roundtrip-session");
  assert.match(m.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  assert.equal(m.created_at, r.created_at);
  assert.equal(m.updated_at, m.created_at);
  assert.equal(m.content_hash, createHash("sha256").update(m.content).digest("hex"));
  assert.deepEqual(m.embedding, { model: (await s.loadModel()).key, chunks: 1 });
  // Also by a string id, as MCP clients sometimes send it.
  assert.equal((await s.get(String(r.id), r.project)).id, r.id);
  await failsWith(s.get(99_999_999), "not_found", /no memory with id 99999999/);
  await failsWith(s.get("abc"), "invalid_input");
});

test("an exact duplicate returns the same id and stores one row; another project is a new memory", async () => {
  const { service: s, url } = await main();
  const content = "Duplicate detection works on exact content within a project.";
  const a = await s.saveMemory({ content, project: "/p/dup-a" });
  const b = await s.saveMemory({ content: `\n${content}  `, project: "/p/dup-a", tags: ["ignored"] });
  assert.equal(b.id, a.id);
  assert.equal(b.duplicate, true);
  assert.equal(b.created_at, a.created_at);
  const rows = await sql(url, "SELECT id FROM sage.memories WHERE project = $1", ["/p/dup-a"]);
  assert.equal(rows.length, 1);
  const c = await s.saveMemory({ content, project: "/p/dup-b" });
  assert.notEqual(c.id, a.id);
  assert.equal(c.duplicate, false);
  // Two equal items in one batch: the first is stored, the second reports it.
  const [x, y] = await s.saveMany([
    { content: "batched twice", project: "/p/dup-a" },
    { content: "batched twice", project: "/p/dup-a" },
  ]);
  assert.deepEqual([x.duplicate, y.duplicate, y.id], [false, true, x.id]);
  // Different only in punctuation: a near-duplicate, merged into the first (the rule: retrieval_test.ts).
  const d = await s.saveMemory({ content: content.replace(".", "!"), project: "/p/dup-a" });
  assert.deepEqual([d.id, d.duplicate], [a.id, true]);
  // A different word: a different memory.
  const e = await s.saveMemory({ content: content.replace("exact", "normalised"), project: "/p/dup-a" });
  assert.equal(e.duplicate, false);
});

test("save_conversation stores one conversation memory in the User/Assistant format", async () => {
  const { service: s } = await main();
  const r = await s.saveConversation({
    user_prompt: "  How do I reset the staging database?  ",
    assistant_response: "\nRun `make reset-staging`; it drops and reseeds it.\n",
    project: "/p/conversation",
    tags: ["ops"],
  });
  assert.equal(r.kind, "conversation");
  const m = await s.get(r.id, r.project);
  assert.equal(
    m.content,
    "User: How do I reset the staging database?\n\nAssistant: Run `make reset-staging`; it drops and reseeds it.",
  );
  assert.deepEqual(m.tags, ["ops"]);
  await failsWith(
    s.saveConversation({ user_prompt: "hi", assistant_response: "" }),
    "invalid_input",
    /assistant_response/,
  );
  await failsWith(s.saveConversation({ user_prompt: 5, assistant_response: "x" }), "invalid_input", /user_prompt/);
});

test("privacy filtering happens before storage: the secret never reaches the database", async () => {
  const { service: s, url } = await main();
  const key = "sk-ant-api03-Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA";
  const r = await s.saveMemory({
    content: `Deploy with ANTHROPIC_API_KEY ${key} and db postgres://app:Pa55wordXYZ@db.internal/app.` +
      " <private>my home address is 1 Elm Street</private> Done.",
    project: "/p/privacy",
  });
  assert.deepEqual([...new Set(r.redactions)].sort(), ["Anthropic key", "password in URL", "private block"]);
  const [row] = await sql<{ content: string; terms: string }>(
    url,
    "SELECT content, terms::text AS terms FROM sage.memories WHERE id = $1",
    [r.id],
  );
  for (const secret of [key, "Pa55wordXYZ", "Elm Street", "home address"]) {
    assert(!row.content.includes(secret), `${secret} stored: ${row.content}`);
  }
  assert(!/pa55word|elm|zq9xw8/.test(row.terms), `secret reached the keyword index: ${row.terms}`);
  assert(row.content.includes("postgres://app:[REDACTED]@db.internal/app"));
  // Not findable by the secret either.
  assert.deepEqual(ids(await s.search({ query: "Pa55wordXYZ", mode: "keyword", project: "/p/privacy" })), []);
  // Text that is only private stores nothing.
  const before = await rowCount(url);
  await failsWith(s.saveMemory({ content: "<private>all of it</private>", project: "/p/privacy" }), "invalid_input");
  assert.equal(await rowCount(url), before);
});

// ---- searching ------------------------------------------------------------------------------------------------

test("keyword search finds exact identifiers and numbers", async () => {
  const { service: s } = await main();
  const p = "/p/keyword";
  const [conn42, conn41, port] = await saveAll(s, p, [
    "The nightly sync failed with ERR_CONN_RESET_42 from the payments gateway.",
    "Older incident: ERR_CONN_RESET_41 came from the load balancer.",
    "The admin console listens on port 8443 behind the proxy.",
    "Unrelated note about lunch plans.",
  ]);
  const r = await s.search({ query: "ERR_CONN_RESET_42", mode: "keyword", project: p });
  assert.equal(r.hits[0].id, conn42);
  assert(r.hits[0].score > 0.8, `keyword score is the share of the query matched: ${r.hits[0].score}`);
  assert.equal(r.hits[0].match.keyword_rank, 1);
  // The sibling identifier shares only the parts; it may follow but never lead.
  assert(!ids(r).includes(conn41) || ids(r).indexOf(conn41) > 0);
  assert.deepEqual(ids(await s.search({ query: "8443", mode: "keyword", project: p })), [port]);
  assert.equal((await s.search({ query: "8443", project: p })).hits[0].id, port); // hybrid too
  // Identifier parts are terms too: a sibling identifier is found, but its own memory leads.
  assert.equal((await s.search({ query: "ERR_CONN_RESET_41", mode: "keyword", project: p })).hits[0].id, conn41);
  assert.deepEqual(ids(await s.search({ query: "TIMEOUT_99", mode: "keyword", project: p })), []);
  assert.deepEqual(ids(await s.search({ query: "8444", mode: "keyword", project: p })), []);
});

test("vector search finds by meaning what keyword search cannot (synonyms)", async () => {
  const { service: s } = await main();
  const p = "/p/synonym";
  const [pg, car, cat] = await saveAll(s, p, [
    "postgres crashed twice overnight",
    "the automobile needs new tyres",
    "my kitten sleeps on the keyboard",
  ]);
  assert.deepEqual(ids(await s.search({ query: "database", mode: "keyword", project: p })), []);
  const v = await s.search({ query: "database", mode: "vector", project: p });
  assert.equal(v.mode, "vector");
  assert.equal(v.hits[0].id, pg);
  assert(v.hits[0].match.similarity! > v.hits[1].match.similarity! + 0.2, JSON.stringify(v.hits.map((h) => h.match)));
  assert.equal((await s.search({ query: "vehicle", mode: "vector", project: p })).hits[0].id, car);
  assert.equal((await s.search({ query: "cat", mode: "vector", project: p })).hits[0].id, cat);
  assert.equal((await s.search({ query: "database", mode: "hybrid", project: p })).hits[0].id, pg);
});

test("Chinese keyword search: 数据库 finds 数据库迁移; cross-lingual and mixed queries", async () => {
  const { service: s } = await main();
  const p = "/p/chinese";
  const [zh, kitten] = await saveAll(s, p, [
    "周五完成了数据库迁移，速度很慢。",
    "My kitten sleeps all day.",
    "Quarterly invoice report for the finance team.",
  ]);
  assert.deepEqual(ids(await s.search({ query: "数据库", mode: "keyword", project: p })), [zh]);
  assert.deepEqual(ids(await s.search({ query: "迁移", mode: "keyword", project: p })), [zh]);
  assert.deepEqual(ids(await s.search({ query: "猫", mode: "keyword", project: p })), []);
  // 猫 ≈ cat ≈ kitten: only the vectors know.
  assert.equal((await s.search({ query: "猫", mode: "vector", project: p })).hits[0].id, kitten);
  // A mixed query: the Chinese word matches by keyword, the English one by meaning; hybrid gets both on top.
  const mixed = "cat 迁移";
  assert.deepEqual(ids(await s.search({ query: mixed, mode: "keyword", project: p })), [zh]);
  assert.equal((await s.search({ query: mixed, mode: "vector", project: p })).hits[0].id, kitten);
  const hybrid = await s.search({ query: mixed, mode: "hybrid", project: p });
  assert.deepEqual(new Set(ids(hybrid).slice(0, 2)), new Set([zh, kitten]));
  const both = hybrid.hits.find((h) => h.id === zh)!;
  assert.equal(both.match.keyword_rank, 1);
  assert.equal(typeof both.match.vector_rank, "number");
});

test("search modes: keyword, vector and hybrid report their own ranks", async () => {
  const { service: s } = await main();
  const p = "/p/modes";
  const [exact, synonym] = await saveAll(s, p, [
    "database backups run at 02:00",
    "postgres replication lag alert fired",
    "gardening tips for spring",
  ]);
  const k = await s.search({ query: "database", mode: "keyword", project: p });
  assert.equal(k.mode, "keyword");
  assert.deepEqual(ids(k), [exact]); // keyword mode: only literal matches
  assert.deepEqual(Object.keys(k.hits[0].match), ["keyword", "keyword_rank"]);
  const v = await s.search({ query: "database", mode: "vector", project: p });
  assert(ids(v).slice(0, 2).includes(synonym)); // vector mode: the synonym too
  assert(v.hits.every((h) => h.match.keyword_rank === undefined && typeof h.match.similarity === "number"));
  const h = await s.search({ query: "database", project: p });
  assert.equal(h.mode, "hybrid");
  assert.equal(h.hits[0].id, exact); // first in both lists
  assert.equal(h.hits[0].match.keyword_rank, 1);
  assert.equal(h.hits[0].match.vector_rank, 1);
  assert(h.hits[0].score > 0.8, `a full keyword match plus the best vector: ${h.hits[0].score}`);
  assert(ids(h).includes(synonym));
  for (let i = 1; i < h.hits.length; i++) assert(h.hits[i - 1].score >= h.hits[i].score);
  await failsWith(s.search({ query: "database", mode: "fuzzy", project: p }), "invalid_input", /mode must be/);
});

test("filters: session, tags (all must match), kinds", async () => {
  const { service: s } = await main();
  const p = "/p/filters";
  const a = await s.saveMemory({ content: "alpha database note", project: p, session: "f-s1", tags: ["x", "y"] });
  const b = await s.saveMemory({
    content: "beta database decision",
    project: p,
    session: "f-s2",
    tags: ["x"],
    kind: "decision",
  });
  const c = await s.saveMemory({ content: "gamma database fact", project: p, tags: ["y"], kind: "fact" });
  for (const mode of ["keyword", "vector", "hybrid"]) {
    const q = { query: "database", mode, project: p };
    assert.deepEqual(ids(await s.search({ ...q, session: "f-s1" })), [a.id], mode);
    assert.deepEqual(ids(await s.search({ ...q, tags: ["x", "y"] })), [a.id], mode);
    assert.deepEqual(new Set(ids(await s.search({ ...q, tags: ["x"] }))), new Set([a.id, b.id]), mode);
    assert.deepEqual(ids(await s.search({ ...q, tags: ["y", "nope"] })), [], mode);
    assert.deepEqual(ids(await s.search({ ...q, kinds: ["decision"] })), [b.id], mode);
    assert.deepEqual(new Set(ids(await s.search({ ...q, kinds: ["decision", "fact"] }))), new Set([b.id, c.id]), mode);
    assert.deepEqual(ids(await s.search({ ...q, kinds: ["fact"], tags: ["x"] })), [], mode);
  }
});

test("filters: after/before time ranges and created_at honoured", async () => {
  const { service: s } = await main();
  const p = "/p/time";
  const old = await s.saveMemory({
    content: "database note from 2020",
    project: p,
    created_at: "2020-01-15T10:00:00Z",
  });
  const mid = await s.saveMemory({
    content: "database note from 2021",
    project: p,
    created_at: "2021-01-15T10:00:00.123Z",
  });
  const recent = await s.saveMemory({ content: "database note from today", project: p });
  assert.equal(old.created_at, "2020-01-15T10:00:00.000000Z");
  assert.equal((await s.get(mid.id, p)).created_at, "2021-01-15T10:00:00.123000Z");
  assert.equal((await s.get(mid.id, p)).updated_at, "2021-01-15T10:00:00.123000Z");
  for (const mode of ["keyword", "vector", "hybrid"]) {
    const q = { query: "database", mode, project: p };
    assert.deepEqual(ids(await s.search({ ...q, after: "2020-06-01", before: "2021-06-01" })), [mid.id], mode);
    assert.deepEqual(ids(await s.search({ ...q, before: "2020-01-15T10:00:00Z" })), [], mode); // before is exclusive
    assert.deepEqual(ids(await s.search({ ...q, after: "2020-01-15T10:00:00Z", before: "2020-02-01" })), [old.id]);
    assert.deepEqual(ids(await s.search({ ...q, after: "7d" })), [recent.id], mode);
  }
  await failsWith(s.search({ query: "x", project: p, after: "2021-01-01", before: "2020-01-01" }), "invalid_input");
  await failsWith(s.search({ query: "x", project: p, after: "last tuesday" }), "invalid_input", /after must be/);
});

test("project scoping: another project's memories never appear; all_projects widens", async () => {
  const { service: s } = await main();
  const a = await s.saveMemory({ content: "project A database password rotation plan", project: "/scope/a" });
  const b = await s.saveMemory({ content: "project B database sharding plan", project: "/scope/b" });
  for (const mode of ["keyword", "vector", "hybrid"]) {
    for (const query of ["database", "rotation", "project A database password rotation plan"]) {
      const r = await s.search({ query, mode, project: "/scope/b" });
      assert.equal(r.project, "/scope/b");
      assert(!ids(r).includes(a.id), `${mode} "${query}" leaked project A into B`);
      assert(r.hits.every((h) => h.project === "/scope/b"));
    }
    const all = await s.search({ query: "database plan", mode, all_projects: true, limit: 100 });
    assert.equal(all.project, null);
    assert(ids(all).includes(a.id) && ids(all).includes(b.id), mode);
  }
  // A trailing slash names the same project.
  assert.deepEqual(ids(await s.search({ query: "sharding", mode: "keyword", project: "/scope/b/" })), [b.id]);
  await failsWith(s.search({ query: "x", all_projects: "yes" }), "invalid_input", /all_projects/);
});

test("limit caps the hits", async () => {
  const { service: s } = await main();
  const p = "/p/limit";
  await saveAll(s, p, Array.from({ length: 15 }, (_, i) => `database maintenance log entry ${i}`));
  assert.equal((await s.search({ query: "database maintenance", project: p })).hits.length, 10); // default
  for (const mode of ["keyword", "vector", "hybrid"]) {
    assert.equal((await s.search({ query: "database maintenance", project: p, limit: 5, mode })).hits.length, 5);
  }
  assert.equal((await s.search({ query: "database", project: p, limit: 100 })).hits.length, 15);
  for (const limit of [0, 101, 2.5, "5"]) {
    await failsWith(s.search({ query: "database", project: p, limit }), "invalid_input", /limit/);
  }
});

// ---- context --------------------------------------------------------------------------------------------------

test("get_context respects the token budget, dates and cites memories oldest first", async () => {
  const { service: s } = await main();
  const p = "/p/context";
  const days = ["2024-03-05", "2024-01-02", "2024-05-09", "2024-02-03", "2024-04-07", "2024-06-11"];
  const saved = new Map<number, string>();
  for (const [i, day] of days.entries()) {
    const r = await s.saveMemory({
      content: `Database note ${i}: the postgres cluster was tuned on ${day}; vacuum settings changed and ` +
        `the replication slot was rebuilt after the incident review. Everyone agreed it went fine.`,
      project: p,
      created_at: `${day}T08:30:00Z`,
    });
    saved.set(r.id, day);
  }
  const full = await s.context({ query: "database postgres", project: p, token_budget: 4000 });
  assert.equal(full.items.length, days.length);
  assert(full.text.startsWith("<memories"));
  assert(full.text.endsWith("</memories>"));
  const positions = full.items.map((it) => full.text.indexOf(`[memory:${it.id}]`));
  assert(positions.every((x) => x >= 0), "every item is cited as [memory:ID]");
  for (const it of full.items) assert(full.text.includes(`${saved.get(it.id)} 08:30 UTC`), `date of ${it.id}`);
  // Oldest first, in the text and in items.
  const order = full.items.map((it) => saved.get(it.id)!);
  assert.deepEqual(order, [...order].sort());
  assert.deepEqual(positions, [...positions].sort((x, y) => x - y));

  assert(full.tokens > 300, `six memories take ${full.tokens} tokens`);
  for (const budget of [100, 150, 200, 260, full.tokens - 1]) {
    const c = await s.context({ query: "database postgres", project: p, token_budget: budget });
    assert(estimateTokens(c.text) <= budget, `${estimateTokens(c.text)} tokens > budget ${budget}`);
    assert.equal(c.tokens, estimateTokens(c.text));
    assert(c.items.length < days.length, `budget ${budget} should not fit everything`);
    if (budget >= 150) assert(c.items.length >= 1, `budget ${budget} fits at least one memory`);
    const dates = c.items.map((it) => it.created_at);
    assert.deepEqual(dates, [...dates].sort());
  }
  await failsWith(s.context({ query: "x", project: p, token_budget: 50 }), "invalid_input", /token_budget/);
});

test("get_context cuts a long memory at a sentence and marks it truncated", async () => {
  const { service: s } = await main();
  const p = "/p/context-long";
  const sentences = Array.from({ length: 60 }, (_, i) => `Step ${i} of the kitten feeding schedule is written here.`);
  const long = await s.saveMemory({ content: sentences.join(" "), project: p });
  const c = await s.context({ query: "kitten feeding schedule", project: p, token_budget: 200 });
  assert.equal(c.items.length, 1);
  assert.equal(c.items[0].id, long.id);
  assert.equal(c.items[0].truncated, true);
  assert(estimateTokens(c.text) <= 200);
  assert.match(c.text, /here\. …\n<\/memories>$/); // cut after a whole sentence
  const whole = await s.context({ query: "kitten feeding schedule", project: p, token_budget: 2000 });
  assert.equal(whole.items[0].truncated, false);
  assert(whole.text.includes(sentences[59]));
  // Nothing matches in an empty project: empty text, no items.
  const none = await s.context({ query: "kitten", project: "/p/context-empty" });
  assert.deepEqual([none.text, none.items], ["", []]);
});

// ---- update and delete ----------------------------------------------------------------------------------------

test("update: new content is re-embedded and re-keyed; conflicts and unknown ids are errors", async () => {
  const { service: s, url } = await main();
  const p = "/p/update";
  const r = await s.saveMemory({ content: "zebra crossing near the kitten shelter", project: p });
  const kittenSim = async () =>
    (await s.search({ query: "kitten", mode: "vector", project: p })).hits.find((h) => h.id === r.id)!.match
      .similarity!;
  const simBefore = await kittenSim();
  const other = await s.saveMemory({ content: "an unrelated memory about invoices", project: p });
  const vecBefore = await sql<{ e: string }>(
    url,
    "SELECT embedding::text AS e FROM sage.memory_vectors WHERE memory_id = $1",
    [
      r.id,
    ],
  );
  const u = await s.update({ id: r.id, project: p, content: "postgres replication lag on the standby", tags: ["ops"] });
  assert.equal(u.content, "postgres replication lag on the standby");
  assert.deepEqual(u.tags, ["ops"]);
  assert.equal(u.created_at, r.created_at);
  assert(u.updated_at > u.created_at);
  // Old words no longer match, new words do.
  assert.deepEqual(ids(await s.search({ query: "zebra", mode: "keyword", project: p })), []);
  assert.deepEqual(ids(await s.search({ query: "replication", mode: "keyword", project: p })), [r.id]);
  // Re-embedded: the vector changed, and the new meaning is found by a synonym.
  const vecAfter = await sql<{ e: string }>(
    url,
    "SELECT embedding::text AS e FROM sage.memory_vectors WHERE memory_id = $1",
    [
      r.id,
    ],
  );
  assert.equal(vecAfter.length, 1);
  assert.notEqual(vecAfter[0].e, vecBefore[0].e);
  assert.equal((await s.search({ query: "database", mode: "vector", project: p })).hits[0].id, r.id);
  assert(await kittenSim() < simBefore - 0.2, "the old meaning is gone from the vector");
  const [row] = await sql<{ content_hash: string }>(url, "SELECT content_hash FROM sage.memories WHERE id = $1", [
    r.id,
  ]);
  assert.equal(row.content_hash, createHash("sha256").update(u.content).digest("hex"));

  // Kind/metadata only: content and vector untouched.
  const k = await s.update({ id: r.id, project: p, kind: "fact", metadata: { checked: true } });
  assert.equal(k.kind, "fact");
  assert.deepEqual(k.metadata, { checked: true });
  assert.equal(k.content, u.content);
  assert.equal((await s.get(r.id, p)).embedding?.chunks, 1);

  await failsWith(
    s.update({ id: r.id, project: p, content: "an unrelated memory about invoices" }),
    "conflict",
    new RegExp(`${other.id}`),
  );
  assert.equal((await s.get(r.id, p)).content, u.content, "a conflicting update changes nothing");
  await failsWith(s.update({ id: 99_999_999, content: "x" }), "not_found");
  await failsWith(s.update({ id: r.id, project: p }), "invalid_input", /nothing to update/);
  await failsWith(s.update({ id: r.id, project: p, kind: "Not A Kind" }), "invalid_input");
  await failsWith(s.update({ id: r.id, project: p, content: "" }), "invalid_input");
  assert.equal((await s.get(r.id, p)).kind, "fact");
});

test("delete: single, unknown id, bulk needs confirm and deletes nothing without it", async () => {
  const { service: s, url } = await main();
  const p = "/p/delete";
  const [a, b, c, d] = await saveAll(s, p, ["delete me one", "delete me two", "delete me three", "keep me four"]);
  assert.deepEqual(await s.delete({ id: a, project: p }), { deleted: [a], not_found: [] });
  await failsWith(s.get(a), "not_found");
  assert.deepEqual(await sql(url, "SELECT 1 FROM sage.memory_vectors WHERE memory_id = $1", [a]), []);
  await failsWith(s.delete({ id: a }), "not_found");
  await failsWith(s.delete({ id: "x" }), "invalid_input");
  await failsWith(s.delete({}), "invalid_input", /say what to delete/);
  await failsWith(s.delete({ id: b, ids: [c] }), "invalid_input");

  const before = await rowCount(url);
  const err = await failsWith(
    s.delete({ ids: [b, c], project: p }),
    "invalid_input",
    /would delete 2 memories; nothing was deleted/,
  );
  assert.match(err.hint ?? "", /confirm: true/);
  await failsWith(s.delete({ project: p }), "invalid_input", /would delete 3 memories/);
  await failsWith(s.delete({ project: p, confirm: "yes" }), "invalid_input", /confirm must be/);
  assert.equal(await rowCount(url), before, "nothing deleted without confirm");

  assert.deepEqual(await s.delete({ ids: [b, c, 99_999_999], project: p, confirm: true }), {
    deleted: [b, c],
    not_found: [99_999_999],
  });
  assert.equal(await rowCount(url), before - 2);
  // A filter matching one memory needs no confirmation.
  assert.deepEqual((await s.delete({ project: p })).deleted, [d]);
  assert.equal((await sql(url, "SELECT 1 FROM sage.memories WHERE project = $1", [p])).length, 0);
});

test("bulk delete by filters removes only what matches", async () => {
  const { service: s } = await main();
  const p = "/p/delete-filter";
  const old = await s.saveMemory({ content: "old tagged", project: p, tags: ["tmp"], created_at: "2020-01-01" });
  const old2 = await s.saveMemory({ content: "old tagged 2", project: p, tags: ["tmp"], created_at: "2020-01-02" });
  const keep = await s.saveMemory({ content: "new tagged", project: p, tags: ["tmp"] });
  const other = await s.saveMemory({ content: "old tagged", project: "/p/delete-filter-other", tags: ["tmp"] });
  const r = await s.delete({ project: p, tags: ["tmp"], before: "2021-01-01", confirm: true });
  assert.deepEqual(r.deleted.sort(), [old.id, old2.id].sort());
  assert.equal((await s.get(keep.id, p)).id, keep.id);
  assert.equal((await s.get(other.id, other.project)).id, other.id);
});

// ---- sessions and status --------------------------------------------------------------------------------------

test("sessions: create, save into, switch by id and name, info, list; unknown is not_found", async () => {
  // Its own service: sessions change which session later saves go to.
  const { service: s } = await another({ project: "/p/sessions", model: null });
  await failsWith(s.sessionInfo({}), "invalid_input", /no current session/);
  const one = await s.createSession({ name: "refactor auth" });
  assert.equal(one.current, true);
  assert.equal(one.name, "refactor auth");
  assert.equal(one.project, "/p/sessions");
  assert.equal(s.session, one.id);
  const m1 = await s.saveMemory({ content: "session one note" });
  const m2 = await s.saveMemory({ content: "session one decision", kind: "decision" });
  assert.equal(m1.session, one.id);
  const two = await s.createSession({ id: "explicit-two", name: "second" });
  assert.equal(two.id, "explicit-two");
  const m3 = await s.saveMemory({ content: "session two note" });
  assert.equal(m3.session, "explicit-two");
  await failsWith(s.createSession({ id: "explicit-two" }), "conflict");

  const switched = await s.switchSession({ name: "refactor auth" });
  assert.equal(switched.id, one.id);
  assert.equal(s.session, one.id);
  assert.equal((await s.saveMemory({ content: "back in one" })).session, one.id);
  assert.equal((await s.switchSession({ id: "explicit-two" })).id, "explicit-two");

  const info = await s.sessionInfo({ id: one.id });
  assert.equal(info.memories, 3);
  assert.deepEqual(info.kinds, { note: 2, decision: 1 });
  assert.equal(info.current, false);
  assert.equal(info.first_memory_at, m1.created_at);
  assert.equal((await s.sessionInfo({})).id, "explicit-two");
  assert.equal((await s.sessionInfo({ name: "second" })).memories, 1);

  const list = await s.listSessions({});
  assert.deepEqual(list.map((x) => x.id).sort(), [one.id, "explicit-two"].sort());
  assert.equal(list.find((x) => x.id === "explicit-two")!.current, true);
  assert.equal(list[0].id, one.id, "most recently used first");
  assert.deepEqual(await s.listSessions({ project: "/p/nobody" }), []);
  assert((await s.listSessions({ all_projects: true })).length >= 2);

  await failsWith(s.switchSession({ id: "no-such-session" }), "not_found", /no session with id no-such-session/);
  await failsWith(s.switchSession({ name: "no such name" }), "not_found", /no session named "no such name"/);
  await failsWith(s.sessionInfo({ id: "nope" }), "not_found");
  await failsWith(s.switchSession({}), "invalid_input");
  assert.equal(s.session, "explicit-two", "a failed switch keeps the current session");
  // Search by session.
  assert.deepEqual(
    ids(await s.search({ query: "note", mode: "keyword", session: one.id })),
    [m1.id],
  );
  assert.equal(m2.session, one.id);
});

test("status counts match the database", async () => {
  const { service: s, url } = await another({ project: "/p/status" });
  await s.saveMemory({ content: "status note one" });
  await s.saveMemory({ content: "status decision", kind: "decision", session: "status-session" });
  const st = await s.status();
  const db = st.database as Record<string, unknown>;
  assert.equal(db.connected, true);
  assert.equal(db.schema_version, db.schema_latest);
  assert.match(String(db.pgvector_version), /^\d+\.\d+/);
  const counts = st.counts as Record<string, unknown>;
  const [truth] = await sql<Record<string, number>>(
    url,
    `SELECT (SELECT count(*) FROM sage.memories)::int AS total,
            (SELECT count(*) FROM sage.sessions)::int AS sessions,
            (SELECT count(DISTINCT memory_id) FROM sage.memory_vectors WHERE model = $1)::int AS vectors`,
    [(await s.loadModel()).key],
  );
  assert.equal(counts.memories, truth.total);
  assert.equal(counts.sessions, truth.sessions);
  assert.equal(counts.with_current_vectors, truth.vectors);
  assert.equal(counts.memories_in_project, 2);
  assert.equal(counts.sessions_in_project, 1);
  assert.deepEqual(counts.kinds_in_project, { note: 1, decision: 1 });
  assert.equal(st.project, "/p/status");
  assert.equal((st.model as Record<string, unknown>).state, "ready");
});

// ---- no model, reindex, model change ------------------------------------------------------------------------

test("without a model: saving is keyword-only with a warning; vector search fails, hybrid warns; reindex fills", async () => {
  const t = await newService({ model: null, project: "/p/nomodel" });
  extra.push(t);
  const s = t.service;
  const r = await s.saveMemory({ content: "postgres vacuum tuning notes" });
  assert.equal(r.embedded, false);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /stored without a vector.*keyword search.*sage reindex/);
  const r2 = await s.saveMemory({ content: "the automobile is in the garage" });
  assert.equal((await s.get(r.id)).embedding, null);
  assert.equal(await rowCount(t.url), 2);
  assert.deepEqual(await sql(t.url, "SELECT * FROM sage.memory_vectors"), []);

  assert.deepEqual(ids(await s.search({ query: "vacuum", mode: "keyword" })), [r.id]);
  const h = await s.search({ query: "vacuum" });
  assert.equal(h.hits[0].id, r.id);
  // Hybrid may add the memory saved next to it (same session), as a neighbour with half the score, never more.
  for (const other of h.hits.slice(1)) {
    assert.equal(other.id, r2.id);
    assert.equal(other.match.keyword, undefined);
    assert(other.match.neighbour! <= h.hits[0].score / 2 + 1e-9);
  }
  assert.equal(h.warnings.length, 1);
  assert.match(h.warnings[0], /vector search unavailable.*keyword-only/);
  await failsWith(s.search({ query: "database", mode: "vector" }), "model_unavailable", /vector search unavailable/);
  await failsWith(s.reindex(), "model_unavailable", /cannot reindex/);
  // get_context still works, keyword-only.
  assert.equal((await s.context({ query: "vacuum" })).items[0].id, r.id);

  // Later, with a model: reindex fills the missing vectors.
  const withModel = await newService({ url: t.url, project: "/p/nomodel" });
  extra.push(withModel);
  const m = withModel.service;
  assert.deepEqual(ids(await m.search({ query: "database", mode: "vector" })), [], "no vectors yet");
  const done = await m.reindex({ missingOnly: true });
  assert.deepEqual(done, { embedded: 2, memories: 2, removed_models: [] });
  assert.deepEqual((await m.get(r.id)).embedding, { model: (await m.loadModel()).key, chunks: 1 });
  assert.equal((await m.search({ query: "database", mode: "vector" })).hits[0].id, r.id);
  assert.equal((await m.search({ query: "vehicle", mode: "vector" })).hits[0].id, r2.id);
  assert.deepEqual(await m.reindex({ missingOnly: true }), { embedded: 0, memories: 0, removed_models: [] });

  // A service that has not loaded the model yet still reports the stored vectors on its first call.
  const fresh = await newService({ url: t.url, project: "/p/nomodel" });
  extra.push(fresh);
  assert.deepEqual((await fresh.service.get(r.id)).embedding, { model: (await m.loadModel()).key, chunks: 1 });
});

test("reindex after a model change keeps only the new model's vectors", async () => {
  const a = await newService({ project: "/p/model-change" });
  extra.push(a);
  const [pg, cat] = await saveAll(a.service, "/p/model-change", [
    "postgres failover drill",
    "the kitten knocked over a plant",
    "invoice totals for march",
  ]);
  const oldKey = (await a.service.loadModel()).key;
  const dir = await tempDir("model48-");
  await writeTinyModel(`${dir}/tiny-48`, { dim: 48 });
  const b = await newService({ url: a.url, project: "/p/model-change", model: `${dir}/tiny-48` });
  extra.push(b);
  // Before reindexing, the new model sees no vectors of its own, and never compares with the old ones.
  assert.deepEqual(ids(await b.service.search({ query: "database", mode: "vector" })), []);
  const newKey = (await b.service.loadModel()).key;
  assert.notEqual(newKey, oldKey);
  const res = await b.service.reindex();
  assert.equal(res.memories, 3);
  assert.equal(res.embedded, 3);
  assert.deepEqual(res.removed_models, [oldKey]);
  const models = await sql<{ model: string; dims: number }>(
    a.url,
    "SELECT DISTINCT model, vector_dims(embedding) AS dims FROM sage.memory_vectors",
  );
  assert.deepEqual(models, [{ model: newKey, dims: 48 }]);
  assert.deepEqual(
    (await sql<{ key: string }>(a.url, "SELECT key FROM sage.embedding_models")).map((r) => r.key),
    [newKey],
  );
  const indexes = await sql<{ def: string }>(
    a.url,
    "SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'sage' AND indexdef LIKE '%hnsw%'",
  );
  assert.equal(indexes.length, 1);
  assert.match(indexes[0].def, /vector\(48\)/);
  assert.equal((await b.service.search({ query: "database", mode: "vector" })).hits[0].id, pg);
  assert.equal((await b.service.search({ query: "cat", mode: "vector" })).hits[0].id, cat);
  assert.deepEqual((await b.service.get(pg)).embedding, { model: newKey, chunks: 1 });
  // New saves use the new model.
  const n = await b.service.saveMemory({ content: "a speedy automobile" });
  assert.equal(n.embedded, true);
  assert.equal((await b.service.search({ query: "fast car", mode: "vector" })).hits[0].id, n.id);
});

// ---- keyword statistics ---------------------------------------------------------------------------------------

async function assertStatsExact(url: string): Promise<void> {
  const terms = await sql(
    url,
    `SELECT coalesce(a.project, b.project) AS project, coalesce(a.term, b.term) AS term, a.df AS stored, b.df AS actual
     FROM sage.term_stats a
     FULL JOIN (SELECT project, term, count(*)::int AS df FROM sage.memories, unnest(tsvector_to_array(terms)) AS term
                GROUP BY 1, 2) b ON a.project = b.project AND a.term = b.term
     WHERE a.df IS DISTINCT FROM b.df LIMIT 10`,
  );
  assert.deepEqual(terms, [], "term_stats differs from a recount");
  const projects = await sql(
    url,
    `SELECT coalesce(a.project, b.project) AS project, a.docs::int AS docs, b.docs AS actual_docs,
            a.total_terms::int AS total, b.total AS actual_total
     FROM sage.project_stats a
     FULL JOIN (SELECT project, count(*)::int AS docs, sum(term_count)::int AS total FROM sage.memories GROUP BY 1) b
       ON a.project = b.project
     WHERE a.docs IS DISTINCT FROM b.docs OR a.total_terms IS DISTINCT FROM b.total`,
  );
  assert.deepEqual(projects, [], "project_stats differs from a recount");
}

test("keyword BM25 statistics stay exact through insert, duplicate, update, delete and import", async () => {
  const { service: s, url } = await main();
  const p = "/p/stats";
  const [a, b, c] = await saveAll(s, p, [
    "database database migration plan for friday",
    "数据库迁移计划，周五执行",
    "mixed 数据库 and database terms",
  ]);
  await assertStatsExact(url);
  await s.saveMemory({ content: "database database migration plan for friday", project: p }); // duplicate
  await s.saveMany([
    { content: "batch one about caching", project: p },
    { content: "batch two about caching", project: "/p/stats-2" },
    { content: "batch one about caching", project: p },
  ]);
  await assertStatsExact(url);
  await s.update({ id: a, project: p, content: "a completely different text about kittens" });
  await s.update({ id: b, project: p, content: "数据库迁移计划，周六执行" }); // mostly the same terms
  await s.update({ id: c, project: p, tags: ["no-content-change"] });
  await assertStatsExact(url);
  await s.delete({ id: a, project: p });
  await s.delete({ project: "/p/stats-2", confirm: true });
  await assertStatsExact(url);
  await s.importLines([
    JSON.stringify({ content: "imported about caching and kittens", project: p }),
    JSON.stringify({ content: "数据库迁移计划，周六执行", project: p }), // duplicate of b
  ]);
  await assertStatsExact(url);
  await s.delete({ project: p, confirm: true });
  await assertStatsExact(url);
  const [left] = await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM sage.term_stats WHERE project = $1", [
    p,
  ]);
  assert.equal(left.n, 0, "counters of an emptied project are removed");
  assert.deepEqual(await sql(url, "SELECT * FROM sage.project_stats WHERE project = $1", [p]), []);
  // Keyword search in the emptied project finds nothing (and does not fail).
  assert.deepEqual(ids(await s.search({ query: "caching", mode: "keyword", project: p })), []);
});

// ---- bad input ------------------------------------------------------------------------------------------------

test("bad input: a clear invalid_input error and nothing stored", async () => {
  const { service: s, url } = await main();
  const small = await another({ env: { SAGE_MAX_CONTENT_CHARS: "200" }, model: null });
  assert.equal(small.config.maxContentChars, 200);
  const before = await rowCount(url);
  const p = "/p/bad";
  const invalidUtf8 = new TextDecoder().decode(new Uint8Array([0x62, 0x61, 0x64, 0x20, 0xc3, 0x28, 0xff]));
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      "oversized",
      () => small.service.saveMemory({ content: "x".repeat(201), project: p }),
      /201 characters; the limit is 200/,
    ],
    [
      "oversized conversation",
      () =>
        small.service.saveConversation({
          user_prompt: "q".repeat(150),
          assistant_response: "a".repeat(150),
          project: p,
        }),
      /limit is 200/,
    ],
    ["empty", () => s.saveMemory({ content: "   ", project: p }), /content must not be empty/],
    ["missing", () => s.saveMemory({ content: undefined, project: p }), /content must be a string/],
    ["number", () => s.saveMemory({ content: 42, project: p }), /content must be a string, got number/],
    ["object", () => s.saveMemory({ content: { text: "hi" }, project: p }), /got an object/],
    ["tags", () => s.saveMemory({ content: "ok", tags: "x", project: p }), /tags must be a list/],
    ["kind", () => s.saveMemory({ content: "ok", kind: "Bad Kind", project: p }), /kind must be/],
    ["metadata", () => s.saveMemory({ content: "ok", metadata: [1], project: p }), /metadata must be a JSON object/],
    ["session", () => s.saveMemory({ content: "ok", session: 5, project: p }), /session must be/],
    ["project", () => s.saveMemory({ content: "ok", project: 5 }), /project must be a string/],
    ["created_at", () => s.saveMemory({ content: "ok", created_at: "yesterday", project: p }), /created_at must be/],
    ["impossible date", () => s.saveMemory({ content: "ok", created_at: "2026-02-30", project: p }), /created_at/],
    ["U+FFFD", () => s.saveMemory({ content: invalidUtf8, project: p }), /not valid UTF-8/],
    ["surrogate", () => s.saveMemory({ content: "half \ud83d emoji", project: p }), /lone surrogate/],
    ["NUL", () => s.saveMemory({ content: "nul\u0000byte", project: p }), /NUL/],
    [
      "metadata surrogate",
      () => s.saveMemory({ content: "ok", metadata: { a: "\udead" }, project: p }),
      /lone surrogate/,
    ],
    [
      "batch with one bad",
      () => s.saveMany([{ content: "good one", project: p }, { content: "", project: p }]),
      /empty/,
    ],
    ["empty query", () => s.search({ query: "", project: p }), /query must not be empty/],
    ["blank query", () => s.search({ query: "  \n ", project: p }), /query must not be empty/],
    ["query type", () => s.search({ query: ["a"], project: p }), /query must be a string/],
    ["long query", () => s.search({ query: "q".repeat(4001), project: p }), /limit is 4000/],
    ["context query", () => s.context({ query: 7, project: p }), /query must be a string/],
    ["tags filter", () => s.search({ query: "x", tags: "db", project: p }), /tags must be a list/],
    ["kinds filter", () => s.search({ query: "x", kinds: ["NOTE"], project: p }), /kind must be/],
  ];
  const failures: string[] = [];
  for (const [name, call, pattern] of cases) {
    try {
      await failsWith(call(), "invalid_input", pattern);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(await rowCount(url), before, "no bad input stored anything");
});

test("SQL-looking text is stored and found verbatim", async () => {
  const { service: s, url } = await main();
  const p = "/p/sql";
  const text = '\'; DROP TABLE memories; -- and "quoted" $1 \\x00 ) OR 1=1 --';
  const r = await s.saveMemory({ content: text, project: p, tags: ["'; DROP"], metadata: { q: "'); DELETE --" } });
  const m = await s.get(r.id, p);
  assert.equal(m.content, text);
  assert.deepEqual(m.tags, ["'; DROP"]);
  assert.deepEqual(m.metadata, { q: "'); DELETE --" });
  for (const query of ["DROP TABLE memories", "'; DROP", "1=1", "\\x00"]) {
    assert.equal((await s.search({ query, project: p })).hits[0]?.id, r.id, query);
  }
  assert.equal((await s.search({ query: "drop", tags: ["'; DROP"], project: p, mode: "keyword" })).hits[0].id, r.id);
  assert((await rowCount(url)) > 0, "the table is still there");
});

test("text the model cannot represent is saved keyword-only with a note", async () => {
  const { service: s } = await main();
  const r = await s.saveMemory({ content: "😀🎉🚀", project: "/p/emoji" });
  // The tiny model has no emoji: [UNK] only. Either way the result must say what happened.
  if (!r.embedded) assert.match(r.warnings.join(" "), /cannot represent this text/);
  assert.equal((await s.get(r.id, r.project)).content, "😀🎉🚀");
});

// ---- concurrency ----------------------------------------------------------------------------------------------

test("5 parallel saves of the same content store one row and return one id", async () => {
  const { service: s, url } = await main();
  const p = "/p/race";
  const results = await Promise.all(
    Array.from({ length: 5 }, () => s.saveMemory({ content: "raced content about the database", project: p })),
  );
  assert.equal(new Set(results.map((r) => r.id)).size, 1);
  assert.equal(results.filter((r) => !r.duplicate).length, 1);
  assert.equal((await sql(url, "SELECT 1 FROM sage.memories WHERE project = $1", [p])).length, 1);
  assert.equal((await sql(url, "SELECT 1 FROM sage.memory_vectors WHERE project = $1", [p])).length, 1);

  // Five services (five pools: truly parallel transactions) saving the same thing.
  const services = await Promise.all(Array.from({ length: 5 }, () => another({ model: null, project: "/p/race-2" })));
  const raced = await Promise.all(services.map((t) => t.service.saveMemory({ content: "five writers, one memory" })));
  assert.equal(new Set(raced.map((r) => r.id)).size, 1);
  assert.equal(raced.filter((r) => !r.duplicate).length, 1);
  assert.equal((await sql(url, "SELECT 1 FROM sage.memories WHERE project = '/p/race-2'")).length, 1);
  await assertStatsExact(url);
});

test("teardown", async () => {
  for (const t of extra.splice(0)) await t.close();
  await shared?.close();
  shared = null;
});
