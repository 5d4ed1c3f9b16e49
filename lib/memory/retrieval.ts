/**
 * The two candidate lists hybrid search fuses, and the fusion.
 *
 * Keyword: BM25 over the terms of lib/text/terms.ts. Document frequencies come from term_stats (kept by
 * triggers), so scoring never scans the table. Candidates are the memories holding the query's rarest terms
 * (until about CANDIDATE_BUDGET postings): a memory matching only very common words could not outrank one
 * matching a rare word, so reading those postings would cost time and change nothing at the top.
 * Term presence (not frequency) is scored, with BM25's length normalisation: memories are short, and presence
 * lets one GIN lookup per term do the work.
 *
 * Vector: cosine similarity on the current model's chunk vectors; a memory scores by its best chunk. Small
 * scopes are scanned exactly (perfect recall, a few ms); large ones use the model's HNSW index with pgvector's
 * iterative scan so filters do not starve the result.
 */
import pgvector from "pgvector";
import type { Database, Queryable } from "../db/database.ts";
import { filterSql } from "./store.ts";
import type { SearchFilters } from "./types.ts";

export interface Ranked {
  id: number;
  score: number;
}

const K1 = 1.2;
const B = 0.75;
const CANDIDATE_BUDGET = 5_000;
/** Up to this many memories in scope, vector search is an exact scan. */
export const EXACT_SCAN_LIMIT = 10_000;

export async function keywordSearch(q: Queryable, terms: string[], f: SearchFilters, k: number): Promise<Ranked[]> {
  if (!terms.length) return [];
  const scoped = f.project !== null;
  const stats = await q.query<{ term: string | null; df: number | null; docs: number; total: number }>(
    `WITH p AS (SELECT coalesce(sum(docs), 0)::float8 AS docs, coalesce(sum(total_terms), 0)::float8 AS total
                FROM project_stats ${scoped ? "WHERE project = $2" : ""}),
          t AS (SELECT term, sum(df)::float8 AS df FROM term_stats
                WHERE term = ANY($1::text[]) ${scoped ? "AND project = $2" : ""} GROUP BY term)
     SELECT t.term, t.df, p.docs, p.total FROM p LEFT JOIN t ON TRUE`,
    scoped ? [terms, f.project] : [terms],
  );
  const docs = stats.rows[0]?.docs ?? 0;
  const present = stats.rows.filter((r) => r.term && r.df && r.df > 0) as { term: string; df: number }[];
  if (!docs || !present.length) return [];
  const avgdl = Math.max(1, stats.rows[0].total / docs);

  const weighted = present.map((r) => ({
    term: r.term,
    df: r.df,
    idf: Math.log(1 + (docs - r.df + 0.5) / (r.df + 0.5)),
  }));
  weighted.sort((a, b) => a.df - b.df);
  const candidates: string[] = [];
  let postings = 0;
  for (const w of weighted) {
    if (candidates.length && postings + w.df > CANDIDATE_BUDGET) break;
    candidates.push(w.term);
    postings += w.df;
  }

  const params: unknown[] = [
    weighted.map((w) => tsqueryTerm(w.term)),
    weighted.map((w) => w.idf),
    candidates.map(tsqueryTerm).join(" | "),
  ];
  const where = filterSql(f, params);
  const res = await q.query<Ranked>(
    `SELECT m.id, s.score * ${K1 + 1} / (1 + ${K1} * (1 - ${B} + ${B} * m.term_count / ${avgdl})) AS score
     FROM memories m
     CROSS JOIN LATERAL (SELECT sum(w.idf) AS score FROM unnest($1::tsquery[], $2::float8[]) AS w(q, idf)
                         WHERE m.terms @@ w.q) s
     WHERE m.terms @@ $3::tsquery AND ${where}
     ORDER BY score DESC, m.created_at DESC LIMIT ${Math.floor(k)}`,
    params,
  );
  return res.rows;
}

/** A term as a tsquery operand; quoting keeps punctuation-free terms literal. */
function tsqueryTerm(term: string): string {
  return `'${term.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

export interface VectorModel {
  key: string;
  dimensions: number;
}

export async function vectorSearch(
  db: Database,
  model: VectorModel,
  vector: Float32Array,
  f: SearchFilters,
  k: number,
): Promise<Ranked[]> {
  const inScope = await scopeSize(db, f.project);
  const params: unknown[] = [pgvector.toSql(Array.from(vector))];
  const where = filterSql(f, params);
  const projectCond = f.project !== null ? `AND v.project = m.project` : "";
  // The model key is inlined (our own string, quoted) so the planner can match the HNSW index's partial predicate.
  const modelCond = `v.model = ${sqlLiteral(model.key)}`;
  if (inScope <= EXACT_SCAN_LIMIT) {
    // `embedding <=> …` on the untyped column cannot use the HNSW index: an exact scan, on purpose.
    const res = await db.query<Ranked>(
      `SELECT v.memory_id AS id, 1 - min(v.embedding <=> $1::vector) AS score
       FROM memory_vectors v JOIN memories m ON m.id = v.memory_id
       WHERE ${modelCond} ${projectCond} AND ${where}
       GROUP BY v.memory_id ORDER BY score DESC, v.memory_id DESC LIMIT ${Math.floor(k)}`,
      params,
    );
    return res.rows;
  }
  const d = model.dimensions;
  return await db.tx(async (q) => {
    await q.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(64, k * 4))}`);
    await q.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
    const res = await q.query<Ranked>(
      `SELECT id, max(sim) AS score FROM (
         SELECT v.memory_id AS id, 1 - (v.embedding::vector(${d}) <=> $1::vector(${d})) AS sim
         FROM memory_vectors v JOIN memories m ON m.id = v.memory_id
         WHERE ${modelCond} ${projectCond} AND ${where}
         ORDER BY v.embedding::vector(${d}) <=> $1::vector(${d}) LIMIT ${Math.floor(k * 3)}
       ) c GROUP BY id ORDER BY score DESC LIMIT ${Math.floor(k)}`,
      params,
    );
    return res.rows;
  });
}

async function scopeSize(q: Queryable, project: string | null): Promise<number> {
  const res = await q.query<{ n: number }>(
    `SELECT coalesce(sum(docs), 0)::float8 AS n FROM project_stats ${project !== null ? "WHERE project = $1" : ""}`,
    project !== null ? [project] : [],
  );
  return res.rows[0]?.n ?? 0;
}

export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Reciprocal-rank fusion: each list adds weight / (K + rank). Returns ids by fused score, best first. */
export const RRF_K = 60;

export interface Fused {
  id: number;
  score: number;
  ranks: (number | undefined)[];
}

export function fuse(lists: { ranked: Ranked[]; weight: number }[]): Fused[] {
  const byId = new Map<number, Fused>();
  lists.forEach(({ ranked, weight }, li) => {
    ranked.forEach((r, i) => {
      let e = byId.get(r.id);
      if (!e) {
        e = { id: r.id, score: 0, ranks: lists.map(() => undefined) };
        byId.set(r.id, e);
      }
      e.score += weight / (RRF_K + i + 1);
      e.ranks[li] = i + 1;
    });
  });
  // Normalised so 1 means first in every list.
  const best = lists.reduce((s, l) => s + (l.ranked.length ? l.weight : 0), 0) / (RRF_K + 1);
  return [...byId.values()]
    .map((e) => ({ ...e, score: best ? e.score / best : 0 }))
    .sort((a, b) => b.score - a.score || b.id - a.id);
}
