/**
 * SQL for memories and sessions. Functions take a Queryable (the pool or a transaction) so the service decides
 * what runs together. One insert path serves a single save and a 100k-row import alike: rows travel as one JSON
 * array, so a batch is one round trip.
 */
import pgvector from "pgvector";
import type { Queryable } from "../db/database.ts";
import type { Memory, MemoryDetail, SearchFilters, Session } from "./types.ts";

/** Timestamps as text with microseconds: what the database holds, exactly (JS Date would drop µs). */
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
export const isoOf = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', ${ISO})`;

export const MEMORY_COLUMNS = `m.id, m.project, m.session_id AS session, m.kind, m.content, m.tags, m.metadata,
  ${isoOf("m.created_at")} AS created_at, ${isoOf("m.updated_at")} AS updated_at`;

export interface NewMemory {
  /** Explicit id (import); otherwise the next from the sequence. */
  id?: number;
  project: string;
  session: string | null;
  kind: string;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  hash: string;
  /** Distinct keyword terms (lib/text/terms.ts). */
  terms: string[];
  /** Number of terms with repeats: the BM25 document length. */
  termCount: number;
  createdAt?: string;
  updatedAt?: string;
}

export interface Inserted {
  id: number;
  project: string;
  hash: string;
  created_at: string;
}

/**
 * Inserts rows; a row whose (project, content) already exists is skipped and absent from the result. Rows with
 * an explicit id (import) go first and move the sequence past them, so the sequence cannot hand out one of their
 * ids to a row of the same batch.
 */
export async function insertMemories(q: Queryable, rows: NewMemory[]): Promise<Inserted[]> {
  const explicit = rows.filter((r) => r.id !== undefined);
  const out = await insertRows(q, explicit);
  if (explicit.length) {
    await q.query(
      `SELECT setval(seq, greatest(max(m.id), coalesce(pg_sequence_last_value(seq::regclass), 1)))
       FROM memories m, pg_get_serial_sequence('sage.memories', 'id') AS seq GROUP BY seq`,
    );
  }
  return [...out, ...await insertRows(q, rows.filter((r) => r.id === undefined))];
}

/** A row as it travels to jsonb_to_recordset (the column names of the SQL below). */
function rowPayload(r: NewMemory) {
  return {
    id: r.id ?? null,
    project: r.project,
    session: r.session,
    kind: r.kind,
    content: r.content,
    tags: r.tags,
    metadata: r.metadata,
    hash: r.hash,
    terms: r.terms,
    term_count: r.termCount,
    created_at: r.createdAt ?? null,
    updated_at: r.updatedAt ?? null,
  };
}

/**
 * INSERT … SELECT of memories from a JSON array of rowPayload()s in parameter `param`: one statement for any
 * number of rows; a row whose (project, content) exists is skipped; a row without id gets the next from the
 * sequence. Shared by the import path (insertRows) and the one-statement save (saveRows).
 */
function insertMemoriesFrom(param: string): string {
  return `INSERT INTO memories (id, project, session_id, kind, content, tags, metadata, content_hash, terms, term_count,
                           created_at, updated_at)
     SELECT coalesce(r.id, nextval(pg_get_serial_sequence('sage.memories', 'id'))), r.project, r.session, r.kind,
            r.content, ARRAY(SELECT jsonb_array_elements_text(r.tags)), r.metadata, r.hash,
            array_to_tsvector(ARRAY(SELECT jsonb_array_elements_text(r.terms))), r.term_count,
            coalesce(r.created_at, now()), coalesce(r.updated_at, r.created_at, now())
     FROM jsonb_to_recordset(${param}::jsonb) AS r(id bigint, project text, session text, kind text, content text,
          tags jsonb, metadata jsonb, hash text, terms jsonb, term_count integer, created_at timestamptz,
          updated_at timestamptz)
     ON CONFLICT (project, content_hash) DO NOTHING`;
}

async function insertRows(q: Queryable, rows: NewMemory[]): Promise<Inserted[]> {
  if (!rows.length) return [];
  const res = await q.query<Inserted>(
    `${insertMemoriesFrom("$1")}
     RETURNING id, project, content_hash AS hash, ${isoOf("created_at")} AS created_at`,
    [JSON.stringify(rows.map(rowPayload))],
  );
  return res.rows;
}

export interface NewVector {
  memoryId: number;
  project: string;
  chunk: number;
  vector: Float32Array;
}

export async function insertVectors(q: Queryable, model: string, rows: NewVector[]): Promise<void> {
  if (!rows.length) return;
  const payload = rows.map((r) => ({
    m: r.memoryId,
    c: r.chunk,
    p: r.project,
    e: pgvector.toSql(Array.from(r.vector)),
  }));
  await q.query(
    `INSERT INTO memory_vectors (memory_id, model, chunk, project, embedding)
     SELECT r.m, $1, r.c, r.p, r.e::vector FROM jsonb_to_recordset($2::jsonb) AS r(m bigint, c smallint, p text, e text)
     ON CONFLICT (memory_id, model, chunk) DO UPDATE SET embedding = EXCLUDED.embedding, project = EXCLUDED.project`,
    [model, JSON.stringify(payload)],
  );
}

export interface Existing {
  id: number;
  created_at: string;
}

/** Existing memories for (project, hash) pairs, keyed by `hashKey`. */
export async function idsByHash(
  q: Queryable,
  keys: { project: string; hash: string }[],
): Promise<Map<string, Existing>> {
  const out = new Map<string, Existing>();
  if (!keys.length) return out;
  const res = await q.query<{ id: number; project: string; hash: string; created_at: string }>(
    `SELECT m.id, m.project, m.content_hash AS hash, ${isoOf("m.created_at")} AS created_at FROM memories m
     JOIN unnest($1::text[], $2::text[]) AS k(project, hash) ON m.project = k.project AND m.content_hash = k.hash`,
    [keys.map((k) => k.project), keys.map((k) => k.hash)],
  );
  for (const r of res.rows) out.set(hashKey(r), { id: r.id, created_at: r.created_at });
  return out;
}

/** Identity of a memory's content within its project (the unique key). */
export function hashKey(k: { project: string; hash: string }): string {
  return `${k.project}\u0000${k.hash}`;
}

export async function getMemories(q: Queryable, ids: number[]): Promise<Memory[]> {
  if (!ids.length) return [];
  const res = await q.query<Memory>(`SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.id = ANY($1::bigint[])`, [ids]);
  return res.rows;
}

export async function getMemoryDetail(q: Queryable, id: number, model: string | null): Promise<MemoryDetail | null> {
  const res = await q.query<MemoryDetail & { chunks: number }>(
    `SELECT ${MEMORY_COLUMNS}, m.content_hash,
            (SELECT count(*)::int FROM memory_vectors v WHERE v.memory_id = m.id AND v.model = $2) AS chunks
     FROM memories m WHERE m.id = $1`,
    [id, model ?? ""],
  );
  const row = res.rows[0];
  if (!row) return null;
  const { chunks, ...rest } = row;
  return { ...rest, embedding: model && chunks ? { model, chunks } : null };
}

export interface MemoryPatch {
  content?: { text: string; hash: string; terms: string[]; termCount: number };
  kind?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export async function updateMemory(q: Queryable, id: number, patch: MemoryPatch): Promise<Memory | null> {
  const sets: string[] = ["updated_at = now()"];
  const params: unknown[] = [id];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    sets.push(sql.replace("?", `$${params.length}`));
  };
  if (patch.content) {
    add("content = ?", patch.content.text);
    add("content_hash = ?", patch.content.hash);
    add("terms = array_to_tsvector(?::text[])", patch.content.terms);
    add("term_count = ?", patch.content.termCount);
  }
  if (patch.kind) add("kind = ?", patch.kind);
  if (patch.tags) add("tags = ?::text[]", patch.tags);
  if (patch.metadata) add("metadata = ?::jsonb", JSON.stringify(patch.metadata));
  const res = await q.query<Memory>(
    `UPDATE memories m SET ${sets.join(", ")} WHERE m.id = $1 RETURNING ${MEMORY_COLUMNS}`,
    params,
  );
  return res.rows[0] ?? null;
}

export async function deleteVectors(q: Queryable, memoryId: number): Promise<void> {
  await q.query("DELETE FROM memory_vectors WHERE memory_id = $1", [memoryId]);
}

// ---- filters --------------------------------------------------------------------------------------------

/** SQL conditions (joined with AND, never empty) for search filters on alias `m`; appends to `params`. */
export function filterSql(f: SearchFilters, params: unknown[], alias = "m"): string {
  const conds: string[] = ["TRUE"];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.project !== null) conds.push(`${alias}.project = ${p(f.project)}`);
  if (f.session) conds.push(`${alias}.session_id = ${p(f.session)}`);
  if (f.excludeSession) conds.push(`${alias}.session_id IS DISTINCT FROM ${p(f.excludeSession)}`);
  if (f.tags?.length) conds.push(`${alias}.tags @> ${p(f.tags)}::text[]`);
  if (f.kinds?.length) conds.push(`${alias}.kind = ANY(${p(f.kinds)}::text[])`);
  if (f.after) conds.push(`${alias}.created_at >= ${p(f.after.toISOString())}::timestamptz`);
  if (f.before) conds.push(`${alias}.created_at < ${p(f.before.toISOString())}::timestamptz`);
  return conds.join(" AND ");
}

/** Ids matching filters (for bulk delete and export), oldest first. */
export async function listIds(q: Queryable, f: SearchFilters, limit?: number): Promise<number[]> {
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const res = await q.query<{ id: number }>(
    `SELECT m.id FROM memories m WHERE ${where} ORDER BY m.created_at, m.id${
      limit ? ` LIMIT ${Math.floor(limit)}` : ""
    }`,
    params,
  );
  return res.rows.map((r) => r.id);
}

/** Deletes memories; returns the ids that existed, ascending (RETURNING alone has no order). */
export async function deleteByIds(q: Queryable, ids: number[]): Promise<number[]> {
  const res = await q.query<{ id: number }>(
    "WITH d AS (DELETE FROM memories WHERE id = ANY($1::bigint[]) RETURNING id) SELECT id FROM d ORDER BY id",
    [ids],
  );
  return res.rows.map((r) => r.id);
}

// ---- sessions -------------------------------------------------------------------------------------------

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

/**
 * Marks a session used by memories created at `at` (now, unless they carry their own time). Never moves it back,
 * and an import of older memories leaves the session's own imported time alone.
 */
export async function touchSession(q: Queryable, id: string, at?: string): Promise<void> {
  await q.query(
    "UPDATE sessions SET updated_at = greatest(updated_at, coalesce($2::timestamptz, now())) WHERE id = $1",
    [id, at ?? null],
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

// ---- automatic capture (hooks) ----------------------------------------------------------------------------

/** Memories already made from Claude Code turns, by turn uuid. */
export async function turnsByUuid(
  q: Queryable,
  project: string,
  uuids: string[],
): Promise<Map<string, { id: number; hash: string; partial: boolean }>> {
  if (!uuids.length) return new Map();
  const res = await q.query<{ id: number; uuid: string; hash: string; partial: boolean }>(
    `SELECT id, metadata->>'turn_uuid' AS uuid, content_hash AS hash, metadata ? 'partial' AS partial FROM memories
     WHERE project = $1 AND metadata ? 'turn_uuid' AND metadata->>'turn_uuid' = ANY($2::text[])`,
    [project, uuids],
  );
  return new Map(res.rows.map((r) => [r.uuid, { id: r.id, hash: r.hash, partial: r.partial }]));
}

export async function captureOffset(q: Queryable, session: string, transcript: string): Promise<number> {
  const res = await q.query<{ o: number }>(
    "SELECT byte_offset AS o FROM capture_progress WHERE session_id = $1 AND transcript = $2",
    [session, transcript],
  );
  return res.rows[0]?.o ?? 0;
}

export async function setCaptureOffset(
  q: Queryable,
  session: string,
  transcript: string,
  offset: number,
): Promise<void> {
  await q.query(
    `INSERT INTO capture_progress (session_id, transcript, byte_offset) VALUES ($1, $2, $3)
     ON CONFLICT (session_id, transcript) DO UPDATE SET byte_offset = EXCLUDED.byte_offset, updated_at = now()`,
    [session, transcript, offset],
  );
}

/** The most recent memories of a project by kind, for the session digest. */
export async function recentByKind(
  q: Queryable,
  project: string,
  kinds: string[],
  perKind: number,
): Promise<Memory[]> {
  const res = await q.query<Memory>(
    `SELECT id, project, session, kind, content, tags, metadata, created_at, updated_at FROM (
       SELECT ${MEMORY_COLUMNS}, row_number() OVER (PARTITION BY m.kind ORDER BY m.created_at DESC, m.id DESC) AS rn
       FROM memories m WHERE m.project = $1 AND m.kind = ANY($2::text[])
     ) x WHERE rn <= $3 ORDER BY created_at DESC`,
    [project, kinds, perKind],
  );
  return res.rows;
}

/**
 * A save in one statement (one round trip): the sessions it names are created or touched, the memories
 * inserted (existing content skipped), their vectors inserted, all or nothing. For rows without explicit ids;
 * imports with ids use insertMemories in a transaction, which must move the sequence between steps.
 */
export async function saveRows(
  q: Queryable,
  rows: NewMemory[],
  vectors: { project: string; hash: string; chunk: number; vector: Float32Array }[],
  model: string | null,
): Promise<Inserted[]> {
  if (!rows.length) return [];
  // Each session named: created if new, its updated_at moved forward to its newest memory (never back).
  const sessions = new Map<string, { id: string; project: string; at: string | null }>();
  for (const r of rows) {
    if (!r.session) continue;
    const at = r.createdAt ?? null;
    const s = sessions.get(r.session);
    if (!s) sessions.set(r.session, { id: r.session, project: r.project, at });
    else if (s.at !== null && (at === null || at > s.at)) s.at = at;
  }
  const res = await q.query<Inserted>(
    `WITH s AS (
       INSERT INTO sessions AS x (id, project, updated_at)
       SELECT s.id, s.project, coalesce(s.at, now()) FROM jsonb_to_recordset($1::jsonb) AS s(id text, project text, at timestamptz)
       ON CONFLICT (id) DO UPDATE SET updated_at = greatest(x.updated_at, EXCLUDED.updated_at)
     ), ins AS (
       ${insertMemoriesFrom("$2")}
       RETURNING id, project, content_hash, created_at
     ), vec AS (
       INSERT INTO memory_vectors (memory_id, model, chunk, project, embedding)
       SELECT ins.id, $4, v.c, ins.project, v.e::vector
       FROM ins JOIN jsonb_to_recordset($3::jsonb) AS v(p text, h text, c smallint, e text)
         ON v.p = ins.project AND v.h = ins.content_hash
     )
     SELECT id, project, content_hash AS hash, ${isoOf("created_at")} AS created_at FROM ins`,
    [
      JSON.stringify([...sessions.values()]),
      JSON.stringify(rows.map(rowPayload)),
      JSON.stringify(
        vectors.map((v) => ({ p: v.project, h: v.hash, c: v.chunk, e: pgvector.toSql(Array.from(v.vector)) })),
      ),
      model,
    ],
  );
  return res.rows;
}
