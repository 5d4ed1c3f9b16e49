/**
 * Retrieval beyond single lists: fusion, neighbours, time windows named in a query, near-duplicates (in results
 * and on save), the meaning of the score, and that keyword/vector modes stay pure. Real database, tiny model.
 */
import assert from "node:assert/strict";
import type { MemoryService } from "../lib/memory/service.ts";
import type { SearchResult } from "../lib/types.ts";
import { timeHint } from "../lib/text/time.ts";
import { admin, newService, type TestService } from "./support/harness.ts";

let shared: TestService | null = null;
async function svc(): Promise<MemoryService> {
  shared ??= await newService({ project: "/r/default" });
  return shared.service;
}
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name: `retrieval: ${name}`, fn, sanitizeOps: false, sanitizeResources: false });
}
const ids = (r: SearchResult) => r.hits.map((h) => h.id);

async function saveAll(
  s: MemoryService,
  project: string,
  items: (string | { content: string; created_at?: string; kind?: string; session?: string })[],
) {
  const out: number[] = [];
  for (const it of items) {
    const input = typeof it === "string" ? { content: it } : it;
    out.push((await s.saveMany([{ kind: "note", session: null, project, ...input }]))[0].id);
  }
  return out;
}

// ---- near-duplicates on save --------------------------------------------------------------------------------

test("save merges a note that says the same (case, punctuation, spacing) into the existing one", async () => {
  const s = await svc();
  const p = "/r/near";
  const first = await s.saveMemory({
    content: "Use tabs, not spaces, in this repository.",
    kind: "preference",
    project: p,
    tags: ["style"],
  });
  const again = await s.saveMemory({
    content: "use tabs not spaces in this repository",
    kind: "preference",
    project: p,
    tags: ["fmt"],
  });
  assert.equal(again.id, first.id);
  assert.equal(again.duplicate, true);
  assert.match(again.warnings[0], /merged/);
  const m = await s.get(first.id, p);
  assert.deepEqual(m.tags.sort(), ["fmt", "style"]);
  assert.equal(m.content, "Use tabs, not spaces, in this repository."); // the original text stays
  assert.equal((await s.search({ query: "tabs spaces", project: p })).hits.length, 1);
});

test("save keeps memories that differ in a number, a negation, or the kind", async () => {
  const s = await svc();
  const p = "/r/near-distinct";
  const a = await s.saveMemory({
    content: "The staging database listens on port 5432 behind the proxy.",
    kind: "fact",
    project: p,
  });
  const b = await s.saveMemory({
    content: "The staging database listens on port 5433 behind the proxy.",
    kind: "fact",
    project: p,
  });
  assert.notEqual(b.id, a.id);
  const c = await s.saveMemory({
    content: "We use the cache for session data in production.",
    kind: "decision",
    project: p,
  });
  const d = await s.saveMemory({
    content: "We never use the cache for session data in production.",
    kind: "decision",
    project: p,
  });
  assert.notEqual(d.id, c.id);
  const e = await s.saveMemory({
    content: "We use the cache for session data in production!",
    kind: "fact",
    project: p,
  });
  assert.notEqual(e.id, c.id); // the same words as a decision, but a fact
  const f = await s.saveMemory({
    content: "Deploy staging with the release script every Friday afternoon.",
    kind: "fact",
    project: p,
  });
  const g = await s.saveMemory({
    content: "Deploy staging with the release script every Monday morning.",
    kind: "fact",
    project: p,
  });
  assert.notEqual(g.id, f.id); // two words in ten differ
  const h = await s.saveMemory({
    content: "Replica beta keeps 7 days, replica gamma keeps 9 days.",
    kind: "fact",
    project: p,
  });
  const i = await s.saveMemory({
    content: "Replica beta keeps 9 days, replica gamma keeps 7 days.",
    kind: "fact",
    project: p,
  });
  assert.notEqual(i.id, h.id); // the same words and numbers, in another order: another meaning
});

test("conversation turns and imports are never merged, only exact duplicates are", async () => {
  const s = await svc();
  const p = "/r/near-conv";
  const a = await s.saveConversation({
    user_prompt: "Run the tests.",
    assistant_response: "All 93 tests passed.",
    project: p,
  });
  const b = await s.saveConversation({
    user_prompt: "run the tests",
    assistant_response: "All 93 tests passed",
    project: p,
  });
  assert.notEqual(b.id, a.id);
});

// ---- neighbours, time, purity -----------------------------------------------------------------------------

test("hybrid: a reply next to a strong match joins with half its score; keyword mode stays literal", async () => {
  const s = await svc();
  const p = "/r/neighbours";
  const [q, reply, other] = await saveAll(s, p, [
    { content: "Which games did you play at the picnic with the church group?", session: "picnic" },
    { content: "Charades and a scavenger hunt, we laughed a lot.", session: "picnic" },
    { content: "Gardening tips for the spring season.", session: "garden" },
  ]);
  const h = await s.search({ query: "picnic church games", project: p });
  assert.equal(h.hits[0].id, q);
  const joined = h.hits.find((x) => x.id === reply);
  assert(joined, "the adjacent reply joins");
  assert(joined!.match.neighbour! > 0 && joined!.match.neighbour! <= h.hits[0].score / 2 + 1e-9);
  assert(!ids(h).includes(other) || h.hits.find((x) => x.id === other)!.score < joined!.score);
  assert.deepEqual(ids(await s.search({ query: "picnic church games", project: p, mode: "keyword" })), [q]);
});

test("a time named in the query boosts memories of that period (English and Chinese)", async () => {
  const s = await svc();
  const p = "/r/time";
  const [old, jul31] = await saveAll(s, p, [
    { content: "Dropped off baked goods at the homeless shelter.", created_at: "2023-05-02T10:00:00Z" },
    { content: "Dropped off baked goods at the homeless shelter again.", created_at: "2023-07-31T10:00:00Z" },
  ]);
  const en = await s.search({ query: "What did Maria bring to the shelter on 31 July, 2023?", project: p });
  assert.equal(en.hits[0].id, jul31);
  assert.equal(en.hits[0].match.time, 0.5);
  assert.equal(en.hits.find((h) => h.id === old)?.match.time, undefined);
  const zh = await s.search({ query: "2023年5月2日 送了什么去 shelter", project: p });
  assert.equal(zh.hits[0].id, old);
});

test("timeHint understands dates, months and relative days in English and Chinese", () => {
  const now = new Date("2026-11-24T12:00:00Z");
  const day = (q: string) => timeHint(q, now)?.start.toISOString().slice(0, 10);
  assert.equal(day("what happened on 2026-11-03?"), "2026-11-03");
  assert.equal(day("on 31 July, 2023"), "2023-07-31");
  assert.equal(day("July 31st 2023"), "2023-07-31");
  assert.equal(day("in March 2024"), "2024-03-01");
  assert.equal(day("yesterday's deploy"), "2026-11-23");
  assert.equal(day("昨天的部署"), "2026-11-23");
  assert.equal(day("上周讨论了什么"), "2026-11-16");
  assert.equal(day("3 days ago"), "2026-11-21");
  assert.equal(day("2026年11月3日"), "2026-11-03");
  assert.equal(day("11月3日"), "2026-11-03");
  assert.equal(timeHint("how do I deploy?", now), null);
  // Chinese dates typed with spaces, parts of months, weeks of months, a month without a year.
  assert.equal(day("9 月 15 号那个测试"), "2026-09-15");
  assert.equal(day("2025 年 3 月 2 日"), "2025-03-02");
  const range = (q: string) => {
    const w = timeHint(q, now);
    return w && [w.start.toISOString().slice(0, 10), w.end.toISOString().slice(0, 10)];
  };
  assert.deepEqual(range("in the second week of September, what did the PM say?"), ["2026-09-08", "2026-09-15"]);
  assert.deepEqual(range("at the end of September"), ["2026-09-21", "2026-10-01"]);
  assert.deepEqual(range("late October"), ["2026-10-21", "2026-11-01"]);
  assert.deepEqual(range("early December"), ["2025-12-01", "2025-12-11"]); // December 2026 has not begun
  assert.deepEqual(range("9 月中旬的发布"), ["2026-09-11", "2026-09-21"]);
  assert.deepEqual(range("what changed in October?"), ["2026-10-01", "2026-11-01"]);
  assert.equal(timeHint("in October 2024 we", now)?.start.toISOString().slice(0, 10), "2024-10-01");
  assert.equal(timeHint("3 个月前的需求", now), null, "a duration is not a date");
  assert.equal(day("on 31 February, 2023"), "2023-02-01"); // no such day: the month is what is left
});

// ---- the meaning of the score ------------------------------------------------------------------------------

test("a query about a name unknown in the project scores low; the right project scores high", async () => {
  const s = await svc();
  await saveAll(s, "/r/alice", ["Alice researched adoption agencies last spring.", "The team lunch is on Friday."]);
  await saveAll(s, "/r/bob", ["Bob researched electric cars for a month.", "The office moved to the third floor."]);
  const right = await s.search({ query: "What did Alice research?", project: "/r/alice" });
  const wrong = await s.search({ query: "What did Alice research?", project: "/r/bob" });
  assert(right.hits[0].score > 0.6, `right project: ${right.hits[0].score}`);
  assert(wrong.hits[0].score < right.hits[0].score / 2, `wrong project: ${wrong.hits[0].score}`);
});

test("recall for a prompt leaves out the session's own memories and anything below the bar", async () => {
  const s = await svc();
  const p = "/r/recall";
  await saveAll(s, p, [
    { content: "Decision: the API uses cursor pagination with a limit of 100.", session: "old" },
    { content: "Now: the API pagination cursor is opaque base64.", session: "now" },
  ]);
  const ctx = await s.recall({
    prompt: "what is the API pagination limit?",
    project: p,
    session: "now",
    maxChars: 8000,
  });
  assert.match(ctx.text, /cursor pagination with a limit of 100/);
  assert.doesNotMatch(ctx.text, /opaque base64/);
  const none = await s.recall({ prompt: "favourite pizza toppings?", project: p, maxChars: 8000 });
  assert.equal(none.text, "");
  assert.equal(none.decision, "no evidence");
});

test("results fold near-duplicates across projects into the better hit", async () => {
  const s = await svc();
  await saveAll(s, "/r/dupe-a", ["Rotate the signing keys every ninety days."]);
  await saveAll(s, "/r/dupe-b", ["Rotate the signing keys every ninety days!"]);
  const r = await s.search({ query: "rotate signing keys", all_projects: true });
  assert.equal(r.hits.filter((h) => /signing keys/.test(h.content)).length, 1);
});

Deno.test({
  name: "retrieval: (close the shared service)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await shared?.close();
    await admin(async () => {});
  },
});
