/**
 * SQL for memory rows. Functions take a Queryable (the pool or a transaction), so use cases decide what runs
 * together. One insert path serves a single save, a captured turn and a 100k-row import alike: rows travel as one
 * JSON array, so a batch is one statement and one round trip.
 */
import pgvector from "pgvector";
import type { Queryable } from "../database.ts";
import { filterSql, isoOf, MEMORY_COLUMNS } from "../sql.ts";
import { TERMS_VERSION } from "../../text/terms.ts";
import type { Memory, MemoryDetail, MemoryDraft, SearchFilters } from "../../types.ts";

export interface Inserted {
  id: number;
  project: string;
  hash: string;
  created_at: string;
}

/** A vector of a draft, matched to its row by (project, hash) once the row has an id. */
export interface DraftVector {
  project: string;
  hash: string;
  chunk: number;
  vector: Float32Array;
}

/**
 * Inserts drafts in one statement: the sessions they name are created or touched (updated_at moves forward to
 * their newest memory, never back), the memories inserted, their vectors inserted, all or nothing. A draft whose
 * (project, content) already exists is skipped and absent from the result. Drafts with an explicit id (imports)
 * first move the id sequence past the largest of them, so the sequence never hands one of their ids to another row.
 */
export async function insertDrafts(
  q: Queryable,
  drafts: MemoryDraft[],
  vectors: DraftVector[],
  model: string | null,
): Promise<Inserted[]> {
  if (!drafts.length) return [];
  const sessions = new Map<string, { id: string; project: string; at: string | null }>();
  for (const d of drafts) {
    if (!d.session) continue;
    const at = d.createdAt ?? null;
    const s = sessions.get(d.session);
    if (!s) sessions.set(d.session, { id: d.session, project: d.project, at });
    else if (s.at !== null && (at === null || at > s.at)) s.at = at;
  }
  const maxId = Math.max(0, ...drafts.map((d) => d.id ?? 0));
  // `+ b.zero` makes each row's id wait for the sequence bump (b is read before any row is projected).
  const res = await q.query<Inserted>(
    `WITH s AS (
       INSERT INTO sessions AS x (id, project, updated_at)
       SELECT s.id, s.project, coalesce(s.at, now()) FROM jsonb_to_recordset($1::jsonb) AS s(id text, project text, at timestamptz)
       ON CONFLICT (id) DO UPDATE SET updated_at = greatest(x.updated_at, EXCLUDED.updated_at)
     ), b AS (
       SELECT 0::bigint AS zero ${
      maxId
        ? `FROM (SELECT setval(q.seq, greatest($5::bigint, coalesce(pg_sequence_last_value(q.seq::regclass), 1)))
                 FROM pg_get_serial_sequence('sage.memories', 'id') AS q(seq)) AS bumped`
        : ""
    }
     ), ins AS (
       INSERT INTO memories (id, project, session_id, kind, content, tags, metadata, content_hash, terms, term_count,
                             terms_version, created_at, updated_at)
       SELECT coalesce(r.id, nextval(pg_get_serial_sequence('sage.memories', 'id')) + b.zero), r.project, r.session,
              r.kind, r.content, ARRAY(SELECT jsonb_array_elements_text(r.tags)), r.metadata, r.hash,
              array_to_tsvector(ARRAY(SELECT jsonb_array_elements_text(r.terms))), r.term_count, ${TERMS_VERSION},
              coalesce(r.created_at, now()), coalesce(r.updated_at, r.created_at, now())
       FROM b, jsonb_to_recordset($2::jsonb) AS r(id bigint, project text, session text, kind text, content text,
            tags jsonb, metadata jsonb, hash text, terms jsonb, term_count integer, created_at timestamptz,
            updated_at timestamptz)
       ON CONFLICT (project, content_hash) DO NOTHING
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
      JSON.stringify(drafts.map(rowPayload)),
      JSON.stringify(
        model
          ? vectors.map((v) => ({ p: v.project, h: v.hash, c: v.chunk, e: pgvector.toSql(Array.from(v.vector)) }))
          : [],
      ),
      model,
      ...(maxId ? [maxId] : []),
    ],
  );
  return res.rows;
}

/** A draft as it travels to jsonb_to_recordset (the column names of the SQL above). */
function rowPayload(d: MemoryDraft) {
  return {
    id: d.id ?? null,
    project: d.project,
    session: d.session,
    kind: d.kind,
    content: d.content,
    tags: d.tags,
    metadata: d.metadata,
    hash: d.hash,
    terms: d.terms,
    term_count: d.termCount,
    created_at: d.createdAt ?? null,
    updated_at: d.updatedAt ?? null,
  };
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

/** One memory with its hash and embedding state; null when there is none with that id in `project`. */
export async function getMemoryDetail(
  q: Queryable,
  id: number,
  project: string,
  model: string | null,
): Promise<MemoryDetail | null> {
  const res = await q.query<MemoryDetail & { chunks: number }>(
    `SELECT ${MEMORY_COLUMNS}, m.content_hash,
            (SELECT count(*)::int FROM memory_vectors v WHERE v.memory_id = m.id AND v.model = $2) AS chunks
     FROM memories m WHERE m.id = $1 AND m.project = $3`,
    [id, model ?? "", project],
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
    add("terms_version = ?", TERMS_VERSION);
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

/** Ids matching filters (for bulk delete and export), oldest first. */
export async function listIds(q: Queryable, f: SearchFilters): Promise<number[]> {
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const res = await q.query<{ id: number }>(
    `SELECT m.id FROM memories m WHERE ${where} ORDER BY m.created_at, m.id`,
    params,
  );
  return res.rows.map((r) => r.id);
}

/** How many memories match filters (export's progress total). */
export async function countMatching(q: Queryable, f: SearchFilters): Promise<number> {
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const res = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM memories m WHERE ${where}`, params);
  return res.rows[0].n;
}

/** Memories matching filters per session (null: none), for the memory browser's session list. */
export async function countBySession(q: Queryable, f: SearchFilters): Promise<Map<string | null, number>> {
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const res = await q.query<{ s: string | null; n: number }>(
    `SELECT m.session_id AS s, count(*)::int AS n FROM memories m WHERE ${where} GROUP BY m.session_id`,
    params,
  );
  return new Map(res.rows.map((r) => [r.s, r.n]));
}

/**
 * Deletes memories of `project` (null: of any project); returns the ids that existed there, ascending (RETURNING
 * alone has no order).
 */
export async function deleteByIds(q: Queryable, ids: number[], project: string | null): Promise<number[]> {
  const res = await q.query<{ id: number }>(
    `WITH d AS (DELETE FROM memories WHERE id = ANY($1::bigint[]) AND ($2::text IS NULL OR project = $2) RETURNING id)
     SELECT id FROM d ORDER BY id`,
    [ids, project],
  );
  return res.rows.map((r) => r.id);
}

/**
 * One page of memories matching filters, oldest first, strictly after (createdAt, id): keyset paging for export and
 * the memory browser. With `model`, each row also says whether it has a vector of that model.
 */
export async function pageAfter(
  q: Queryable,
  f: SearchFilters,
  after: { createdAt: string; id: number } | null,
  size: number,
  model?: string,
): Promise<(Memory & { has_vector?: boolean })[]> {
  const params: unknown[] = [after?.createdAt ?? "-infinity", after?.id ?? 0];
  const where = filterSql(f, params);
  const vector = model === undefined ? "" : `, EXISTS (SELECT 1 FROM memory_vectors v
       WHERE v.memory_id = m.id AND v.model = $${params.push(model)}) AS has_vector`;
  const res = await q.query<Memory & { has_vector?: boolean }>(
    `SELECT ${MEMORY_COLUMNS}${vector} FROM memories m
     WHERE (m.created_at, m.id) > ($1::timestamptz, $2::bigint) AND ${where}
     ORDER BY m.created_at, m.id LIMIT ${Math.floor(size)}`,
    params,
  );
  return res.rows;
}

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

/**
 * Marks `olds` (memories of `project`, other than `by`) as superseded by `by`; returns the ids marked. A memory never
 * supersedes itself, and a chain stays a chain: what `by` superseded is not touched.
 */
export async function markSuperseded(q: Queryable, project: string, olds: number[], by: number): Promise<number[]> {
  if (!olds.length) return [];
  const res = await q.query<{ id: number }>(
    `UPDATE memories SET superseded_by = $3
     WHERE project = $1 AND id = ANY($2::bigint[]) AND id <> $3 RETURNING id`,
    [project, olds, by],
  );
  return res.rows.map((r) => r.id).sort((a, b) => a - b);
}

/** The most recent current (not superseded) memories of a project by kind, for the session digest. */
export async function recentByKind(
  q: Queryable,
  project: string,
  kinds: string[],
  perKind: number,
): Promise<Memory[]> {
  const res = await q.query<Memory>(
    `SELECT id, project, session, kind, content, tags, metadata, created_at, updated_at, superseded_by FROM (
       SELECT ${MEMORY_COLUMNS}, row_number() OVER (PARTITION BY m.kind ORDER BY m.created_at DESC, m.id DESC) AS rn
       FROM memories m WHERE m.project = $1 AND m.kind = ANY($2::text[]) AND m.superseded_by IS NULL
     ) x WHERE rn <= $3 ORDER BY created_at DESC`,
    [project, kinds, perKind],
  );
  return res.rows;
}

/** Memories whose keyword terms an older analyzer made, in id order after `afterId`. */
export async function staleTerms(
  q: Queryable,
  afterId: number,
  limit: number,
): Promise<{ id: number; content: string }[]> {
  const res = await q.query<{ id: string; content: string }>(
    `SELECT id, content FROM memories WHERE terms_version < $1 AND id > $2 ORDER BY id LIMIT $3`,
    [TERMS_VERSION, afterId, limit],
  );
  return res.rows.map((r) => ({ id: Number(r.id), content: r.content }));
}

/** New keyword terms for memories, made by the current analyzer (term statistics follow by trigger). */
export async function rewriteTerms(
  q: Queryable,
  rows: { id: number; terms: string[]; count: number }[],
): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `UPDATE memories m SET terms = array_to_tsvector(ARRAY(SELECT jsonb_array_elements_text(r.terms))),
            term_count = r.count, terms_version = ${TERMS_VERSION}
     FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, terms jsonb, count integer)
     WHERE m.id = r.id AND m.terms_version < ${TERMS_VERSION}`,
    [JSON.stringify(rows)],
  );
}
