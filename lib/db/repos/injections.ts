/**
 * SQL for the injection ledger: which memories the Claude Code hooks already put in front of Claude in a session,
 * so none is injected twice (until the session's context is compacted or cleared).
 */
import type { Queryable } from "../database.ts";

/** Of `ids`, those already injected in `session`. */
export async function alreadyInjected(q: Queryable, session: string, ids: number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const res = await q.query<{ id: number }>(
    "SELECT memory_id AS id FROM injections WHERE session_id = $1 AND memory_id = ANY($2::bigint[])",
    [session, ids],
  );
  return new Set(res.rows.map((r) => r.id));
}

/** Records `ids` as injected in `session` (by `source`: the hook event). Ids deleted meanwhile are skipped. */
export async function recordInjections(q: Queryable, session: string, ids: number[], source: string): Promise<void> {
  if (!ids.length) return;
  await q.query(
    `INSERT INTO injections (session_id, memory_id, source)
     SELECT $1, m.id, $3 FROM memories m WHERE m.id = ANY($2::bigint[])
     ON CONFLICT (session_id, memory_id) DO NOTHING`,
    [session, ids, source],
  );
}

/** Forgets what was injected in `session` (its context was compacted or cleared), and ledgers older than a month. */
export async function resetInjections(q: Queryable, session: string): Promise<number> {
  const res = await q.query(
    "DELETE FROM injections WHERE session_id = $1 OR injected_at < now() - interval '30 days'",
    [session],
  );
  return res.rowCount ?? 0;
}
