/**
 * SQL for capture progress: how far each session's transcript has been read (bytes), so a Stop hook parses only
 * what is new. Losing it is harmless: turns are keyed by their uuid, so re-reading stores nothing twice.
 */
import type { Queryable } from "../database.ts";

export async function captureOffset(q: Queryable, session: string, transcript: string): Promise<number> {
  const res = await q.query<{ o: number }>(
    "SELECT byte_offset AS o FROM capture_progress WHERE session_id = $1 AND transcript = $2",
    [session, transcript],
  );
  return res.rows[0]?.o ?? 0;
}

export async function setCaptureOffset(q: Queryable, session: string, transcript: string, offset: number) {
  await q.query(
    `INSERT INTO capture_progress (session_id, transcript, byte_offset) VALUES ($1, $2, $3)
     ON CONFLICT (session_id, transcript) DO UPDATE SET byte_offset = EXCLUDED.byte_offset, updated_at = now()`,
    [session, transcript, offset],
  );
}
