/**
 * What `get_status` / `sage status` report about the database: versions, schema, and memory counts.
 */
import type { Database, Queryable } from "../database.ts";
import { LATEST_VERSION, schemaVersion } from "../migrate.ts";

export async function databaseStatus(db: Database, embedded: boolean) {
  const r = await db.query<{ server: string; vector: string | null }>(
    `SELECT current_setting('server_version') AS server, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector`,
  );
  return {
    connected: true,
    location: db.description,
    embedded,
    server_version: r.rows[0].server,
    pgvector_version: r.rows[0].vector,
    schema_version: await schemaVersion(db),
    schema_latest: LATEST_VERSION,
  };
}

export async function counts(db: Database, project: string, modelKey: string | null) {
  const r = await db.query<
    {
      total: number;
      in_project: number;
      sessions: number;
      project_sessions: number;
      with_vectors: number;
      other_models: number;
    }
  >(
    `SELECT (SELECT count(*) FROM memories)::int AS total,
            (SELECT count(*) FROM memories WHERE project = $1)::int AS in_project,
            (SELECT count(*) FROM sessions)::int AS sessions,
            (SELECT count(*) FROM sessions WHERE project = $1)::int AS project_sessions,
            (SELECT count(DISTINCT memory_id) FROM memory_vectors WHERE model = $2)::int AS with_vectors,
            (SELECT count(DISTINCT memory_id) FROM memory_vectors WHERE model <> $2)::int AS other_models`,
    [project, modelKey ?? ""],
  );
  const kinds = await db.query<{ kind: string; n: number }>(
    "SELECT kind, count(*)::int AS n FROM memories WHERE project = $1 GROUP BY kind ORDER BY n DESC",
    [project],
  );
  const c = r.rows[0];
  return {
    memories: c.total,
    memories_in_project: c.in_project,
    sessions: c.sessions,
    sessions_in_project: c.project_sessions,
    kinds_in_project: Object.fromEntries(kinds.rows.map((k) => [k.kind, k.n])),
    with_current_vectors: modelKey ? c.with_vectors : null,
    embedded_by_other_models: c.other_models,
  };
}

/** Whether a project holds any memory. */
export async function projectHasMemories(q: Queryable, project: string): Promise<boolean> {
  const r = await q.query<{ yes: boolean }>("SELECT EXISTS (SELECT 1 FROM memories WHERE project = $1) AS yes", [
    project,
  ]);
  return r.rows[0].yes;
}

/** Every project that holds memories. */
export async function projectNames(q: Queryable): Promise<string[]> {
  const r = await q.query<{ project: string }>("SELECT DISTINCT project FROM memories ORDER BY project");
  return r.rows.map((row) => row.project);
}

/** Memories written in one go from which planner statistics are refreshed (refreshPlannerStats). */
export const BULK_WRITE = 500;

/**
 * Fresh planner statistics after a bulk write (an import or a backfill of many memories): until autovacuum gets
 * to it, the planner would take a table of thousands of rows for an empty one and pick slow plans. Best effort:
 * a database user that may not ANALYZE (not the tables' owner) only misses the speed-up.
 */
export async function refreshPlannerStats(db: Queryable): Promise<void> {
  await db.query("ANALYZE memories, memory_vectors, term_stats, project_stats").catch(() => {});
}
