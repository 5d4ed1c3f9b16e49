/**
 * Applies pending migrations. Safe when several Sage processes start at once: all pending migrations run in one
 * transaction that first takes a transaction-level advisory lock (released by COMMIT or ROLLBACK, even if the
 * process dies), so they are applied together with their rows in schema_migrations, or not at all.
 */
// @ts-types="@types/pg"
import pg from "pg";
import { MIGRATIONS } from "../../db/migrations/mod.ts";
import { type Database, mapDbError, SCHEMA } from "./database.ts";
import { SageError } from "../errors.ts";
import { log } from "../log.ts";

const LOCK_KEY = 7_351_001; // arbitrary, constant: "sage migrations"

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export interface MigrateResult {
  applied: number[];
  version: number;
}

/** Current schema version, 0 when Sage's schema is not there yet. */
export async function schemaVersion(db: Database): Promise<number> {
  const exists = await db.query<{ ok: boolean }>(`SELECT to_regclass('${SCHEMA}.schema_migrations') IS NOT NULL AS ok`);
  if (!exists.rows[0].ok) return 0;
  const r = await db.query<{ v: number }>(
    `SELECT coalesce(max(version), 0)::int AS v FROM ${SCHEMA}.schema_migrations`,
  );
  return r.rows[0].v;
}

export async function migrate(db: Database): Promise<MigrateResult> {
  if ((await schemaVersion(db)) >= LATEST_VERSION) return { applied: [], version: LATEST_VERSION };
  return await db.tx(async (q) => {
    // Transaction-level lock: released by COMMIT/ROLLBACK even if this process dies mid-way.
    await q.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
    await createVectorExtension(q);
    await q.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await q.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await q.query<{ version: number }>(`SELECT version FROM ${SCHEMA}.schema_migrations`)).rows.map((r) =>
        r.version
      ),
    );
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await q.query(`SET LOCAL search_path TO ${SCHEMA}, ${await currentPathTail(q)}`);
      await q.query(m.sql);
      await q.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
      log.info("migration applied", { version: m.version, name: m.name });
    }
    return { applied, version: LATEST_VERSION };
  });
}

/** The search_path without our schema, so `vector` resolves wherever the extension lives. */
async function currentPathTail(q: { query: Database["query"] }): Promise<string> {
  const r = await q.query<{ p: string }>("SELECT current_setting('search_path') AS p");
  const parts = r.rows[0].p.split(",").map((s) => s.trim()).filter((s) => s && s !== SCHEMA);
  return parts.length ? parts.join(", ") : "public";
}

async function createVectorExtension(q: { query: (t: string) => Promise<pg.QueryResult> }): Promise<void> {
  const have = await q.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
  if (have.rowCount) return;
  try {
    await q.query("CREATE EXTENSION IF NOT EXISTS vector");
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (
      e.code === "58P01" ||
      /extension "vector" is not available|could not open extension control file/.test(e.message ?? "")
    ) {
      throw new SageError("unavailable", "pgvector is not installed on this PostgreSQL server", PGVECTOR_HINT);
    }
    if (e.code === "42501") {
      throw new SageError(
        "unavailable",
        "Sage may not create the vector extension in this database (insufficient privilege)",
        'Ask an administrator to run "CREATE EXTENSION vector;" in this database once, then start Sage again.',
      );
    }
    throw mapDbError(err);
  }
}

export const PGVECTOR_HINT = [
  "Install pgvector for your PostgreSQL version, then start Sage again:",
  "  Debian/Ubuntu (PGDG packages): apt install postgresql-<version>-pgvector",
  "  Debian 12 without PGDG: scripts/setup builds it from Debian's source package",
  "  macOS (Homebrew): brew install pgvector",
  "Or run Sage in its container (run_sage_single.sh), which includes PostgreSQL and pgvector.",
].join("\n");
