/** SQL for sessions (groups of memories, one per conversation). */
import type { Queryable } from "../database.ts";
import { filterSql, isoOf } from "../sql.ts";
import type { SearchFilters, Session } from "../../types.ts";

const SESSION_COLUMNS = `s.id, s.project, s.name, ${isoOf("s.created_at")} AS created_at, ${
  isoOf("s.updated_at")
} AS updated_at,
  (SELECT count(*)::int FROM memories m WHERE m.session_id = s.id) AS memories`;

/** Creates the session if it does not exist (never moves or renames an existing one). */
export async function ensureSession(
  q: Queryable,
  s: { id: string; project: string; name?: string | null; createdAt?: string; updatedAt?: string },
): Promise<void> {
  await q.query(
    `INSERT INTO sessions (id, project, name, created_at, updated_at)
     VALUES ($1, $2, $3, coalesce($4::timestamptz, now()), coalesce($5::timestamptz, $4::timestamptz, now()))
     ON CONFLICT (id) DO NOTHING`,
    [s.id, s.project, s.name ?? null, s.createdAt ?? null, s.updatedAt ?? null],
  );
}

export async function getSession(q: Queryable, id: string): Promise<Session | null> {
  const res = await q.query<Session>(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = $1`, [id]);
  return res.rows[0] ?? null;
}

export async function findSessionsByName(q: Queryable, project: string, name: string): Promise<Session[]> {
  const res = await q.query<Session>(
    `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.project = $1 AND s.name = $2 ORDER BY s.updated_at DESC`,
    [project, name],
  );
  return res.rows;
}

export async function listSessions(q: Queryable, project: string | null, limit: number): Promise<Session[]> {
  const res = await q.query<Session>(
    `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE ($1::text IS NULL OR s.project = $1)
     ORDER BY s.updated_at DESC LIMIT $2`,
    [project, limit],
  );
  return res.rows;
}

/** A session's memories by kind, with the first and last creation time of each kind. */
export async function sessionKinds(
  q: Queryable,
  id: string,
): Promise<{ kind: string; n: number; first: string; last: string }[]> {
  const res = await q.query<{ kind: string; n: number; first: string; last: string }>(
    `SELECT kind, count(*)::int AS n, ${isoOf("min(created_at)")} AS first, ${isoOf("max(created_at)")} AS last
     FROM memories WHERE session_id = $1 GROUP BY kind`,
    [id],
  );
  return res.rows;
}

/**
 * The sessions an export of these filters needs: those holding a matching memory, plus (unless a session is
 * named) the scope's sessions without memories, oldest first. Memory counts are not exported (0).
 */
export async function sessionsForExport(q: Queryable, f: SearchFilters): Promise<Session[]> {
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const alsoEmpty = f.session ? "" : f.project !== null ? `OR s.project = $${params.push(f.project)}` : "OR TRUE";
  const res = await q.query<Session>(
    `SELECT s.id, s.project, s.name, ${isoOf("s.created_at")} AS created_at, ${isoOf("s.updated_at")} AS updated_at,
            0 AS memories
     FROM sessions s
     WHERE s.id IN (SELECT DISTINCT m.session_id FROM memories m WHERE m.session_id IS NOT NULL AND ${where})
        ${alsoEmpty}
     ORDER BY s.created_at, s.id`,
    params,
  );
  return res.rows;
}
