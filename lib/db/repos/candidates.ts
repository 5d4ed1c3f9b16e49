/**
 * Candidate lists for search: the SQL half of ranking (lib/memory/rank.ts combines them).
 *
 * Keyword: BM25 over the terms of lib/text/terms.ts. Document frequencies come from term_stats (kept by
 * triggers), so scoring never scans the table. Candidates are the memories holding the query's rarest terms
 * (until about CANDIDATE_BUDGET postings): a memory matching only very common words could not outrank one
 * matching a rare word, so reading those postings would cost time and change nothing at the top. Term presence
 * (not frequency) is scored, with BM25's length normalisation: memories are short, and presence lets one GIN
 * lookup per term do the work.
 *
 * Vector: cosine similarity on the current model's chunk vectors; a memory scores by its best chunk. Small
 * scopes are scanned exactly (perfect recall, a few ms); large ones use the model's HNSW index with pgvector's
 * iterative scan so filters do not starve the result. Each list also says how similarity is distributed in the
 * scope (the chance level), which ranking needs to tell a real match from the band a model squeezes everything in.
 */
import pgvector from "pgvector";
import type { Database, Queryable } from "../database.ts";
import { filterSql, isoOf, sqlLiteral, tsqueryTerm } from "../sql.ts";
import type { Memory, SearchFilters } from "../../types.ts";
import type { VectorModel } from "./vectors.ts";

export interface Ranked {
  id: number;
  score: number;
}

export interface KeywordList {
  hits: Ranked[];
  /** Σ idf of the query's terms (unseen ones at the highest idf): the BM25 score of a perfect, average-length match. */
  weight: number;
}

export interface VectorList {
  hits: Ranked[];
  /** Similarity distribution of the whole scope (exact for small scopes, sampled for large ones). */
  mean: number;
  sd: number;
  /** Memories in scope. */
  n: number;
}

const K1 = 1.2;
const B = 0.75;
const CANDIDATE_BUDGET = 1_000;
/**
 * IDF is computed as if the scope held this many more memories, none with the term. A project with three
 * memories cannot say which words are informative; with the prior every word counts about the same there,
 * while in a scope of thousands the prior changes nothing.
 */
const PRIOR_DOCS = 100;
/** The keyword weight (a full match) counts this many of the query's most informative terms. */
const WEIGHT_TERMS = 12;
/** Below this many memories in scope, the chance level of similarity is measured on the whole database. */
const MIN_BASELINE = 50;
/** Up to this many memories in scope, vector search is an exact scan. */
export const EXACT_SCAN_LIMIT = 2_000;

export async function keywordSearch(
  q: Queryable,
  terms: string[],
  f: SearchFilters,
  k: number,
  budget = CANDIDATE_BUDGET,
): Promise<KeywordList> {
  const none = { hits: [], weight: 0 };
  if (!terms.length) return none;
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
  // A query term no memory in scope contains still counts in the weight (with an unseen term's idf): asking
  // about "Caroline" where nobody is called Caroline must not turn a match on the other words into a full one.
  const absent = terms.length - present.length;
  if (!docs || !present.length) return none;
  const avgdl = Math.max(1, stats.rows[0].total / docs);

  const idf = (df: number) => Math.log(1 + (docs + PRIOR_DOCS - df + 0.5) / (df + 0.5));
  const weighted = present.map((r) => ({ term: r.term, df: r.df, idf: idf(r.df) }));
  weighted.sort((a, b) => a.df - b.df);
  const candidates: string[] = [];
  let postings = 0;
  for (const w of weighted) {
    if (candidates.length && postings + w.df > budget) break;
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
  // The weight counts the query's most informative terms only: a long prompt (a pasted log) is about a few
  // things, and a memory matching those is a full match, not a tenth of one.
  const idfs = [...weighted.map((w) => w.idf), ...Array<number>(absent).fill(idf(0))].sort((a, b) => b - a);
  return { hits: res.rows, weight: idfs.slice(0, WEIGHT_TERMS).reduce((s, x) => s + x, 0) };
}

export async function vectorSearch(
  db: Database,
  model: VectorModel,
  vector: Float32Array,
  f: SearchFilters,
  k: number,
): Promise<VectorList> {
  const inScope = await scopeSize(db, f.project);
  const params: unknown[] = [pgvector.toSql(Array.from(vector))];
  const where = filterSql(f, params);
  const projectCond = f.project !== null ? `AND v.project = m.project` : "";
  // The model key is inlined (our own string, quoted) so the planner can match the HNSW index's partial predicate.
  const modelCond = `v.model = ${sqlLiteral(model.key)}`;
  if (inScope <= EXACT_SCAN_LIMIT) {
    // `embedding <=> …` on the untyped column cannot use the HNSW index: an exact scan, on purpose. The
    // window aggregates see every memory in scope, before the LIMIT: the baseline comes for free.
    const res = await db.query<Ranked & { mean: number; sd: number; n: number }>(
      `SELECT id, score, avg(score) OVER () AS mean, stddev_pop(score) OVER () AS sd, count(*) OVER ()::int AS n
       FROM (SELECT v.memory_id AS id, 1 - min(v.embedding <=> $1::vector) AS score
             FROM memory_vectors v JOIN memories m ON m.id = v.memory_id
             WHERE ${modelCond} ${projectCond} AND ${where}
             GROUP BY v.memory_id) s
       ORDER BY score DESC, id DESC LIMIT ${Math.floor(k)}`,
      params,
    );
    const first = res.rows[0];
    const hits = res.rows.map((r) => ({ id: r.id, score: r.score }));
    if ((first?.n ?? 0) >= MIN_BASELINE || f.project === null) {
      return { hits, mean: first?.mean ?? 0, sd: first?.sd ?? 0, n: first?.n ?? 0 };
    }
    // Too few memories in scope to know what chance similarity looks like: ask the whole database.
    const base = await chanceLevel(db, model, params[0] as string, null);
    return {
      hits,
      ...(base.n >= MIN_BASELINE ? base : { mean: first?.mean ?? 0, sd: first?.sd ?? 0, n: first?.n ?? 0 }),
    };
  }
  // Iterative HNSW scans are on for every connection (lib/db/database.ts), so filters never starve the result.
  const d = model.dimensions;
  const res = await db.query<Ranked>(
    `SELECT id, max(sim) AS score FROM (
       SELECT v.memory_id AS id, 1 - (v.embedding::vector(${d}) <=> $1::vector(${d})) AS sim
       FROM memory_vectors v JOIN memories m ON m.id = v.memory_id
       WHERE ${modelCond} ${projectCond} AND ${where}
       ORDER BY v.embedding::vector(${d}) <=> $1::vector(${d}) LIMIT ${Math.floor(k * 3)}
     ) c GROUP BY id ORDER BY score DESC LIMIT ${Math.floor(k)}`,
    params,
  );
  const base = await chanceLevel(db, model, params[0] as string, f.project, inScope);
  return { hits: res.rows, mean: base.mean, sd: base.sd, n: inScope };
}

/**
 * Chance level of similarity for a query: mean and spread over a random sample (about a thousand vectors) of
 * the project, or of the whole database when `project` is null.
 */
async function chanceLevel(
  q: Queryable,
  model: VectorModel,
  vector: string,
  project: string | null,
  size?: number,
): Promise<{ mean: number; sd: number; n: number }> {
  const n = size ?? await scopeSize(q, project);
  if (!n) return { mean: 0, sd: 0, n: 0 };
  const pct = Math.min(100, (100 * 1_000) / n);
  const params: unknown[] = [vector];
  const inProject = project !== null ? `AND v.project = $${params.push(project)}` : "";
  const d = model.dimensions;
  const res = await q.query<{ mean: number; sd: number; k: number }>(
    `SELECT avg(s) AS mean, stddev_pop(s) AS sd, count(*)::int AS k FROM (
       SELECT 1 - (v.embedding::vector(${d}) <=> $1::vector(${d})) AS s
       FROM memory_vectors v TABLESAMPLE SYSTEM (${pct.toFixed(4)})
       WHERE v.model = ${sqlLiteral(model.key)} ${inProject}
       LIMIT 2000) x`,
    params,
  );
  const r = res.rows[0];
  return { mean: r?.mean ?? 0, sd: r?.sd ?? 0, n: r?.k ? n : 0 };
}

async function scopeSize(q: Queryable, project: string | null): Promise<number> {
  const res = await q.query<{ n: number }>(
    `SELECT coalesce(sum(docs), 0)::float8 AS n FROM project_stats ${project !== null ? "WHERE project = $1" : ""}`,
    project !== null ? [project] : [],
  );
  return res.rows[0]?.n ?? 0;
}

/** Each memory's previous and next memory in its project and session (by creation time). */
export async function neighbours(q: Queryable, ids: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (!ids.length) return out;
  const res = await q.query<{ id: number; prev: number | null; next: number | null }>(
    `SELECT c.id,
       (SELECT p.id FROM memories p
        WHERE p.project = c.project AND coalesce(p.session_id, '') = coalesce(c.session_id, '')
          AND (p.created_at, p.id) < (c.created_at, c.id)
        ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS prev,
       (SELECT n.id FROM memories n
        WHERE n.project = c.project AND coalesce(n.session_id, '') = coalesce(c.session_id, '')
          AND (n.created_at, n.id) > (c.created_at, c.id)
        ORDER BY n.created_at, n.id LIMIT 1) AS next
     FROM memories c WHERE c.id = ANY($1::bigint[])`,
    [ids],
  );
  for (const r of res.rows) out.set(r.id, [r.prev, r.next].filter((x): x is number => x !== null));
  return out;
}

/** The fields ranking checks filters on, for memories that joined the list as neighbours. */
export type Head = Pick<Memory, "id" | "project" | "session" | "kind" | "tags" | "created_at">;

export async function heads(q: Queryable, ids: number[]): Promise<Map<number, Head>> {
  const res = await q.query<Head>(
    `SELECT id, project, session_id AS session, kind, tags, ${isoOf("created_at")} AS created_at
     FROM memories WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  return new Map(res.rows.map((h) => [h.id, h]));
}
