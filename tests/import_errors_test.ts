/**
 * `sage import` refuses a bad file with each bad line's number and the reason, and never echoes what the line held
 * (a broken line of an export is someone's memory, and may hold a secret). A real `sage import` process.
 */
import assert from "node:assert/strict";
import { admin, dbName, freshDatabase, runSage, tempDir } from "./support/harness.ts";

const SECRET = "hunter2xyz";

Deno.test("import: a rejected file names each bad line and why, never its content; nothing is stored", async () => {
  const url = await freshDatabase();
  const dir = await tempDir("import-");
  const lines = [
    JSON.stringify({ content: "A good line." }),
    `{"content": "the password is ${SECRET}", "tags": [}`, // 2: broken JSON
    `${SECRET} is not JSON at all`, // 3
    JSON.stringify({ type: `memory-${SECRET}`, content: "x" }), // 4
    JSON.stringify({ content: "x", kind: `Kind-${SECRET}` }), // 5
    JSON.stringify({ content: "x", created_at: `2026-99-${SECRET}` }), // 6
    JSON.stringify({ content: "x", tags: [`${SECRET}-${"t".repeat(80)}`] }), // 7
    JSON.stringify({ content: "x", project: `relative/${SECRET}` }), // 8
    JSON.stringify({ content: "x", id: `id-${SECRET}` }), // 9
    JSON.stringify({ content: "x", session: 42, tags: `tag ${SECRET}` }), // 10
    JSON.stringify({ content: `<private>${SECRET}</private>` }), // 11: nothing left to store
    `"${SECRET}"`, // 12: not an object
  ];
  await Deno.writeTextFile(`${dir}/in.jsonl`, lines.join("\n") + "\n");
  const r = await runSage(["import", `${dir}/in.jsonl`], {
    env: { DATABASE_URL: url, SAGE_PROJECT: "/import/errors" },
  });
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, "");
  assert.ok(!r.stderr.includes(SECRET), `the content of a rejected line was echoed:\n${r.stderr}`);
  for (let n = 2; n <= 12; n++) {
    assert.match(r.stderr, new RegExp(`line ${n}: \\S`), `line ${n} not named:\n${r.stderr}`);
  }
  assert.doesNotMatch(r.stderr, /line 1:/);
  assert.match(r.stderr, /line 2: not valid JSON/);
  assert.match(r.stderr, /line 4: type must be/);
  assert.match(r.stderr, /line 5: kind must be/);
  assert.match(r.stderr, /line 6: created_at/);
  assert.match(r.stderr, /line 8: project must be an absolute path/);
  assert.match(r.stderr, /line 11: nothing is left to store/);
  assert.match(r.stderr, /line 12: expected a JSON object/);
  const rows = await admin(
    async (c) => (await c.query("SELECT count(*)::int AS n FROM sage.memories")).rows[0].n,
    dbName(url),
  ).catch(() => 0);
  assert.equal(rows, 0, "nothing is stored from a rejected file");
});
