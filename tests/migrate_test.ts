/**
 * Migrations against fresh databases: idempotent, safe when several processes start at once, and confined to
 * the "sage" schema.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { DbConnection } from "../lib/db/connect.ts";
import { Database } from "../lib/db/database.ts";
import { LATEST_VERSION, migrate, type MigrateResult, schemaVersion } from "../lib/db/migrate.ts";
import { admin, dbName, freshDatabase, MODEL, newService, REPO, ROOT, sql, tempDir } from "./support/harness.ts";
import { connectSage } from "./support/mcp_client.ts";

/** The advisory lock migrations serialise on (lib/db/migrate.ts LOCK_KEY). */
const MIGRATION_LOCK = 7_351_001;

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `migrate: ${name}`, fn, sanitizeOps: false, sanitizeResources: false });
}

/** What the schema consists of, to compare before and after. */
async function catalog(url: string): Promise<unknown[]> {
  return await sql(
    url,
    `SELECT c.relkind::text AS kind, n.nspname AS schema, c.relname AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sage'
     UNION ALL SELECT 'function', n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'sage'
     UNION ALL SELECT 'trigger', '', t.tgname FROM pg_trigger t WHERE NOT t.tgisinternal
     ORDER BY 1, 2, 3`,
  );
}

async function migrationRows(url: string): Promise<{ version: number; n: number }[]> {
  return await sql(url, "SELECT version, count(*)::int AS n FROM sage.schema_migrations GROUP BY version ORDER BY 1");
}

const expectedRows = () => Array.from({ length: LATEST_VERSION }, (_, i) => ({ version: i + 1, n: 1 }));

/** A working schema: the service saves and finds by keyword and by vector. */
async function assertWorks(url: string): Promise<void> {
  const t = await newService({ url, project: "/migrated" });
  try {
    const r = await t.service.saveMemory({ content: "postgres survived the concurrent migration" });
    assert.equal(r.embedded, true);
    assert.equal((await t.service.search({ query: "concurrent", mode: "keyword" })).hits[0].id, r.id);
    assert.equal((await t.service.search({ query: "database", mode: "vector" })).hits[0].id, r.id);
  } finally {
    await t.close();
  }
}

test("migrating twice is a no-op", async () => {
  const url = await freshDatabase();
  const db = new Database({ connectionString: url }, "test");
  try {
    assert.equal(await schemaVersion(db), 0);
    const first = await migrate(db);
    assert.deepEqual(first, { applied: expectedRows().map((r) => r.version), version: LATEST_VERSION });
    assert.equal(await schemaVersion(db), LATEST_VERSION);
    const schema = await catalog(url);
    assert(schema.length > 10);
    assert.deepEqual(await migrate(db), { applied: [], version: LATEST_VERSION });
    assert.deepEqual(await catalog(url), schema);
    assert.deepEqual(await migrationRows(url), expectedRows());
  } finally {
    await db.close();
  }
  // A connection opening the migrated database applies nothing either.
  const conn = new DbConnection(loadConfig({ "db-url": url }, { HOME: ROOT }));
  try {
    await conn.get();
    assert.deepEqual(conn.lastMigration, { applied: [], version: LATEST_VERSION });
  } finally {
    await conn.close();
  }
});

test("concurrent migrations (in-process and another process) apply each version once", async () => {
  const url = await freshDatabase();
  const dir = await tempDir("migrate-");
  const script = `${dir}/migrate_once.ts`;
  await Deno.writeTextFile(
    script,
    `import { Database } from "${REPO}/lib/db/database.ts";
import { migrate } from "${REPO}/lib/db/migrate.ts";
const db = new Database({ connectionString: Deno.args[0] }, "child");
try {
  console.log(JSON.stringify(await migrate(db)));
} finally {
  await db.close();
}
`,
  );
  const databases = Array.from({ length: 4 }, () => new Database({ connectionString: url }, "test"));
  const connections = Array.from({ length: 3 }, () => new DbConnection(loadConfig({ "db-url": url }, { HOME: ROOT })));
  const expected = databases.length + connections.length + 1;
  try {
    const results = await admin(async (c) => {
      // Hold the migration lock so every migrator is queued on it before any can start: real contention.
      await c.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-all", "--config", `${REPO}/deno.json`, script, url],
        env: { SAGE_LOG_LEVEL: "error" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const inProcess: Promise<MigrateResult>[] = [
        ...databases.map((db) => migrate(db)),
        ...connections.map((conn) => conn.get().then(() => conn.lastMigration!)),
      ];
      let waiting = 0;
      for (const t0 = Date.now(); Date.now() - t0 < 60_000; await new Promise((r) => setTimeout(r, 50))) {
        waiting = (await c.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )).rows[0].n;
        if (waiting >= expected) break;
      }
      await c.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
      assert.equal(waiting, expected, "every migrator should have been waiting on the migration lock");
      const out = await child;
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `the migrating process failed: ${stderr}`);
      const childResult = JSON.parse(new TextDecoder().decode(out.stdout).trim()) as MigrateResult;
      return [...await Promise.all(inProcess), childResult];
    }, dbName(url));
    const applied = results.filter((r) => r.applied.length > 0);
    assert.equal(applied.length, 1, `exactly one migrator applies: ${JSON.stringify(results)}`);
    assert.deepEqual(applied[0].applied, expectedRows().map((r) => r.version));
    assert(results.every((r) => r.version === LATEST_VERSION));
    assert.deepEqual(await migrationRows(url), expectedRows());
  } finally {
    for (const db of databases) await db.close();
    for (const conn of connections) await conn.close();
  }
  await assertWorks(url);
});

test("concurrent migrations without a held lock also end with one row per version", async () => {
  const url = await freshDatabase();
  const databases = Array.from({ length: 6 }, () => new Database({ connectionString: url }, "test"));
  try {
    const results = await Promise.all(databases.map((db) => migrate(db)));
    assert.equal(results.filter((r) => r.applied.length).length, 1);
    assert.deepEqual(await migrationRows(url), expectedRows());
  } finally {
    for (const db of databases) await db.close();
  }
  await assertWorks(url);
});

test("tables live in schema sage and leave other schemas alone", async () => {
  const url = await freshDatabase();
  // Another application's table of the same name in public must not be used or touched.
  await sql(url, "CREATE TABLE public.memories (id int PRIMARY KEY, content text)");
  await sql(url, "INSERT INTO public.memories VALUES (1, 'not sage')");
  await assertWorks(url);
  const tables = await sql<{ schema: string; name: string }>(
    url,
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  const sage = tables.filter((t) => t.schema === "sage").map((t) => t.name);
  for (
    const name of [
      "embedding_models",
      "memories",
      "memory_vectors",
      "project_stats",
      "schema_migrations",
      "sessions",
      "term_stats",
    ]
  ) {
    assert(sage.includes(name), `sage.${name} missing`);
  }
  assert.deepEqual(tables.filter((t) => t.schema !== "sage"), [{ schema: "public", name: "memories" }]);
  assert.deepEqual(await sql(url, "SELECT * FROM public.memories"), [{ id: 1, content: "not sage" }]);
  const [fn] = await sql<{ schema: string }>(
    url,
    "SELECT pronamespace::regnamespace::text AS schema FROM pg_proc WHERE proname = 'memories_keyword_stats'",
  );
  assert.equal(fn.schema, "sage");
  assert.equal((await sql(url, "SELECT 1 FROM sage.memories")).length, 1);
});

test("keyword terms an older analyzer made are made again, with their statistics, and new saves are current", async () => {
  const t = await newService({ project: "/terms", model: null });
  try {
    const old = (await t.service.saveMemory({ content: "Keep PRs small: under 400 changed lines." })).id;
    // As the analyzer before version 2 stored it: "PRs" was prs + p + rs, never pr.
    await sql(
      t.url,
      `UPDATE sage.memories SET terms = array_to_tsvector(ARRAY['keep','prs','p','rs','small','400','chang','line']),
              terms_version = 1 WHERE id = $1`,
      [old],
    );
    const before = await t.service.search({ query: "PR size", project: "/terms", mode: "keyword" });
    assert.equal(before.hits.length, 0);
    const fresh = (await t.service.saveMemory({ content: "Squash the PRs before merging." })).id;
    assert.equal(await t.service.refreshTerms(), 1, "only the stale memory");
    assert.equal(await t.service.refreshTerms(), 0, "nothing left");
    const after = await t.service.search({ query: "PR size", project: "/terms", mode: "keyword" });
    assert.deepEqual(after.hits.map((h) => h.id).sort(), [old, fresh].sort());
    const [row] = await sql<{ v: number; stats: number }>(
      t.url,
      `SELECT (SELECT min(terms_version) FROM sage.memories)::int AS v,
              (SELECT df FROM sage.term_stats WHERE project = '/terms' AND term = 'pr')::int AS stats`,
    );
    assert.deepEqual(row, { v: 2, stats: 2 }, "versions current; the new term counted once per memory");
  } finally {
    await t.close();
  }
});

test("sage serve re-analyses stale keyword terms in the background; search_memory then finds them", async () => {
  const t = await newService({ project: "/terms-serve", model: null });
  const id = (await t.service.saveMemory({ content: "Keep PRs small: under 400 changed lines." })).id;
  await t.close();
  await sql(
    t.url,
    "UPDATE sage.memories SET terms = array_to_tsvector(ARRAY['keep','prs','p','rs','small']), terms_version = 1",
  );
  const s = await connectSage({ DATABASE_URL: t.url, SAGE_EMBED_MODEL: MODEL, SAGE_PROJECT: "/terms-serve" });
  try {
    const deadline = Date.now() + 20_000;
    let version = 1;
    while (version < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      version = (await sql<{ v: number }>(t.url, "SELECT terms_version::int AS v FROM sage.memories"))[0].v;
    }
    assert.equal(version, 2, "the server re-analysed the memory");
    const r = await s.call("search_memory", { query: "PR", mode: "keyword" });
    const hits = (r.structuredContent as { hits: { id: number }[] }).hits;
    assert.deepEqual(hits.map((h) => h.id), [id]);
  } finally {
    await s.close();
  }
});
