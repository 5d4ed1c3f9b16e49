/**
 * SQL for chunk vectors: one row per (memory, model, chunk). A memory's vectors are replaced whole when its text
 * changes or it is re-embedded; search compares only vectors of the current model.
 */
import pgvector from "pgvector";
import type { Queryable } from "../database.ts";
import { filterSql, sqlLiteral } from "../sql.ts";
import type { SearchFilters } from "../../types.ts";

export interface NewVector {
  memoryId: number;
  project: string;
  chunk: number;
  vector: Float32Array;
}

/** A model as vector SQL needs it: its key (stored with each vector) and its width. */
export interface VectorModel {
  key: string;
  dimensions: number;
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

/** Every vector of a memory, whatever the model (its text changed). */
export async function deleteVectors(q: Queryable, memoryId: number): Promise<void> {
  await q.query("DELETE FROM memory_vectors WHERE memory_id = $1", [memoryId]);
}

/** Replaces one model's vectors of these memories (reindex). */
export async function replaceVectors(q: Queryable, model: string, memoryIds: number[], rows: NewVector[]) {
  await q.query("DELETE FROM memory_vectors WHERE model = $1 AND memory_id = ANY($2::bigint[])", [model, memoryIds]);
  await insertVectors(q, model, rows);
}

const MISSING = "AND NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.memory_id = m.id AND v.model = $2)";

/** How many memories need embedding: all of them, or those without a vector of `model` (`missingOnly`). */
export async function countToEmbed(q: Queryable, model: string, missingOnly: boolean): Promise<number> {
  const res = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM memories m WHERE m.id > $1 ${missingOnly ? MISSING : ""}`,
    missingOnly ? [0, model] : [0],
  );
  return res.rows[0].n;
}

/** The next memories to embed after `afterId`, by id. */
export async function pageToEmbed(
  q: Queryable,
  model: string,
  missingOnly: boolean,
  afterId: number,
  size: number,
): Promise<{ id: number; project: string; content: string }[]> {
  const res = await q.query<{ id: number; project: string; content: string }>(
    `SELECT m.id, m.project, m.content FROM memories m WHERE m.id > $1 ${missingOnly ? MISSING : ""}
     ORDER BY m.id LIMIT ${Math.floor(size)}`,
    missingOnly ? [afterId, model] : [afterId],
  );
  return res.rows;
}

/**
 * The `k` memories nearest to `vector` by their first chunk, with their text: what the near-duplicate check on
 * save compares against. One HNSW query, whatever the scope's size.
 */
export async function nearest(
  q: Queryable,
  model: VectorModel,
  vector: Float32Array,
  f: SearchFilters,
  k: number,
): Promise<{ id: number; content: string; superseded_by: number | null; similarity: number }[]> {
  const params: unknown[] = [pgvector.toSql(Array.from(vector))];
  const where = filterSql(f, params);
  const d = model.dimensions;
  const res = await q.query<{ id: number; content: string; superseded_by: number | null; similarity: number }>(
    `SELECT m.id, m.content, m.superseded_by, 1 - (v.embedding::vector(${d}) <=> $1::vector(${d})) AS similarity
     FROM memory_vectors v JOIN memories m ON m.id = v.memory_id
     WHERE v.model = ${sqlLiteral(model.key)} AND v.chunk = 0 ${f.project !== null ? "AND v.project = m.project" : ""}
       AND ${where}
     ORDER BY v.embedding::vector(${d}) <=> $1::vector(${d}) LIMIT ${Math.floor(k)}`,
    params,
  );
  return res.rows;
}
