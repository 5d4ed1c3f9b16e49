/**
 * Candidate lists for search: the SQL half of ranking (lib/memory/rank.ts combines them). Everything a search
 * needs from the database before it can score comes back from ONE statement (one round trip): the keyword list,
 * the vector list with the chance level of similarity, the same two inside a time window the query named, and each
 * candidate's filter fields and neighbours. Only the winners' full rows are fetched afterwards.
 *
 * Keyword: BM25 over the terms of lib/text/terms.ts. Document frequencies come from term_stats (kept by
 * triggers), so scoring never scans the table. Candidates are the memories holding the query's rarest terms
 * (until about CANDIDATE_BUDGET postings): a memory matching only very common words could not outrank one
 * matching a rare word, so reading those postings would cost time and change nothing at the top. Term presence
 * (not frequency) is scored, with BM25's length normalisation: memories are short, and presence lets one GIN
 * lookup per term do the work.
 *
 * Vector: cosine similarity on the current model's chunk vectors; a memory scores by its best chunk. Small
 * scopes are scanned exactly (perfect recall, a few ms, and the scope's similarity distribution for free); large
 * ones use the model's HNSW index with pgvector's iterative scan so filters do not starve the result, and a sample
 * of the scope for the distribution. The statement holds both paths; the scope's size, read in the same statement,
 * switches one off (a one-time filter: the other is never executed).
 */
import pgvector from "pgvector";
import type { Queryable } from "../database.ts";
import { filterSql, isoOf, sqlLiteral, tsqueryTerm } from "../sql.ts";
import type { Memory, SearchFilters } from "../../types.ts";
import type { VectorModel } from "./vectors.ts";

export interface Ranked {
  id: number;
  score: number;
}

export interface KeywordList {
  hits: Ranked[];
  /** The BM25 score of a perfect, average-length match (lib/memory/rank.ts keywordWeight): scores ÷ weight = share. */
  weight: number;
}

/** What the scope knows of the query's terms: memories in scope, and each present term's document frequency. */
export interface TermStats {
  docs: number;
  dfs: Map<string, number>;
}

export interface VectorList {
  hits: Ranked[];
  /** Similarity distribution of the whole scope (exact for small scopes, sampled for large ones). */
  mean: number;
  sd: number;
  /** Memories in scope. */
  n: number;
}

/** The fields ranking checks filters on (neighbours join the list without having passed them in SQL). */
export type Head = Pick<Memory, "id" | "project" | "session" | "kind" | "tags" | "created_at" | "superseded_by">;

export interface CandidateRequest {
  /** The query's keyword terms; none: no keyword list. */
  terms: string[];
  /** Each term's share of its idf in a memory's score (1 when absent): a translation weighs as its source. */
  termWeights?: number[];
  /** The query's vector and its model; null: no vector list. */
  vector: { vector: Float32Array; model: VectorModel } | null;
  filters: SearchFilters;
  /** Candidates per list. */
  depth: number;
  /** The same lists inside a time window the query named (scored on the scope-wide scales). */
  window?: { filters: SearchFilters; depth: number } | null;
  /** Also each candidate's previous and next memory in its session, with their heads. */
  neighbours?: boolean;
  /** Keyword postings read at most (the rarest terms first). */
  budget?: number;
}

export interface Candidates {
  /** Keyword hits (raw BM25) with the term statistics that put them on a scale; null without a keyword list. */
  keyword: { hits: Ranked[]; window: Ranked[] | null; stats: TermStats } | null;
  vector: VectorList | null;
  windowVector: VectorList | null;
  /** Every candidate's and neighbour's head. */
  heads: Map<number, Head>;
  /** Each candidate's previous and next memory (when asked). */
  neighbours: Map<number, number[]>;
}

const K1 = 1.2;
const B = 0.75;
const CANDIDATE_BUDGET = 1_000;
/**
 * IDF is computed as if the scope held this many more memories, none with the term. A project with three
 * memories cannot say which words are informative; with the prior every word counts about the same there,
 * while in a scope of thousands the prior changes nothing.
 */
export const PRIOR_DOCS = 100;
/** Below this many memories in scope, the chance level of similarity is measured on the whole database. */
const MIN_BASELINE = 50;
/** Up to this many memories in scope, vector search is an exact scan. */
export const EXACT_SCAN_LIMIT = 2_000;
/** Vectors sampled for a chance level. */
const SAMPLE = 1_000;

type Row = {
  stats: [number, number];
  dfs: [string, number][] | null;
  kw: [number, number][] | null;
  kw2: [number, number][] | null;
  vx: [number, number, number, number, number][] | null;
  vh: [number, number][] | null;
  vx2: [number, number][] | null;
  vh2: [number, number][] | null;
  cdb: [number | null, number | null, number, number] | null;
  cpr: [number | null, number | null] | null;
  nb: [number, number | null, number | null][] | null;
  hd: [number, string, string | null, string, string[], string, number | null][] | null;
};

/** The statement being built: its parameters, CTEs, output columns and the CTEs that are candidate lists. */
class Statement {
  readonly params: unknown[] = [];
  readonly ctes: string[] = [];
  readonly outs: string[] = [];
  readonly lists: string[] = [];

  /** A parameter's placeholder. */
  p(value: unknown): string {
    return `$${this.params.push(value)}`;
  }

  /** A candidate list: its CTE, and its rows as a JSON array of `out`, best first. */
  list(name: string, sql: string, out: string, order = "score DESC, id DESC"): void {
    this.ctes.push(`${name} AS (${sql})`);
    this.outs.push(`(SELECT json_agg(${out} ORDER BY ${order}) FROM ${name}) AS ${name}`);
    this.lists.push(name);
  }

  sql(): string {
    return `WITH ${this.ctes.join(",\n")}\nSELECT ${this.outs.join(",\n")}`;
  }
}

/** The candidate lists of a search, in one statement. */
export async function candidates(q: Queryable, r: CandidateRequest): Promise<Candidates> {
  const st = new Statement();
  const project = r.filters.project !== null ? st.p(r.filters.project) : null;
  st.ctes.push(
    `p AS (SELECT coalesce(sum(docs), 0)::float8 AS docs, coalesce(sum(total_terms), 0)::float8 AS total
           FROM project_stats ${project ? `WHERE project = ${project}` : ""})`,
  );
  st.outs.push("(SELECT json_build_array(docs, total) FROM p) AS stats");
  if (r.terms.length) keywordLists(st, r, project);
  if (r.vector) vectorLists(st, r, r.vector, project);
  const ids = st.lists.map((l) => `SELECT id FROM ${l}`).join(" UNION ");
  let headIds = ids;
  if (r.neighbours && st.lists.length) {
    st.ctes.push(`nb AS (SELECT c.id,
       (SELECT x.id FROM memories x
        WHERE x.project = c.project AND coalesce(x.session_id, '') = coalesce(c.session_id, '')
          AND (x.created_at, x.id) < (c.created_at, c.id)
        ORDER BY x.created_at DESC, x.id DESC LIMIT 1) AS prev,
       (SELECT x.id FROM memories x
        WHERE x.project = c.project AND coalesce(x.session_id, '') = coalesce(c.session_id, '')
          AND (x.created_at, x.id) > (c.created_at, c.id)
        ORDER BY x.created_at, x.id LIMIT 1) AS next
     FROM memories c WHERE c.id = ANY(ARRAY(${ids})))`);
    st.outs.push("(SELECT json_agg(json_build_array(id, prev, next)) FROM nb) AS nb");
    headIds = `${ids} UNION SELECT prev FROM nb UNION SELECT next FROM nb`;
  }
  if (st.lists.length) {
    st.outs.push(
      `(SELECT json_agg(json_build_array(h.id, h.project, h.session_id, h.kind, h.tags, ${
        isoOf("h.created_at")
      }, h.superseded_by)) FROM memories h WHERE h.id = ANY(ARRAY(${headIds}))) AS hd`,
    );
  }
  const res = await q.query<Row>(st.sql(), st.params);
  return read(res.rows[0], r);
}

/** BM25 over the query's terms: the terms' document frequencies, and the list (and its window twin). */
function keywordLists(st: Statement, r: CandidateRequest, project: string | null): void {
  st.ctes.push(
    // Each term's tsquery is parsed once here, not once per candidate row.
    `w AS (SELECT t.term, t.qt, t.df, t.tw * ln(1 + (p.docs + ${PRIOR_DOCS} - t.df + 0.5) / (t.df + 0.5)) AS idf,
                  sum(t.df) OVER (ORDER BY t.df, t.term ROWS UNBOUNDED PRECEDING) AS cum,
                  row_number() OVER (ORDER BY t.df, t.term) AS rn
           FROM (SELECT s.term, min(q.qt)::tsquery AS qt, sum(s.df)::float8 AS df, max(q.tw) AS tw
                 FROM unnest(${st.p(r.terms)}::text[], ${st.p(r.terms.map(tsqueryTerm))}::text[],
                             ${st.p(r.terms.map((_, i) => r.termWeights?.[i] ?? 1))}::float8[]) AS q(term, qt, tw)
                 JOIN term_stats s ON s.term = q.term ${project ? `AND s.project = ${project}` : ""}
                 GROUP BY s.term HAVING sum(s.df) > 0) t, p)`,
    // The rarest terms until the posting budget (always the rarest one): the terms that pick candidates.
    `wq AS (SELECT string_agg(qt::text, ' | ')::tsquery AS q FROM w WHERE rn = 1 OR cum <= ${
      r.budget ?? CANDIDATE_BUDGET
    })`,
  );
  st.outs.push("(SELECT json_agg(json_build_array(term, df)) FROM w) AS dfs");
  const keyword = (filters: SearchFilters, depth: number) =>
    `SELECT m.id, s.score * ${K1 + 1} / (1 + ${K1} * (1 - ${B} + ${B} * m.term_count / greatest(1, p.total / p.docs)))
              AS score, m.created_at
     FROM memories m CROSS JOIN p
     CROSS JOIN LATERAL (SELECT sum(w.idf) AS score FROM w WHERE m.terms @@ w.qt) s
     WHERE m.terms @@ (SELECT q FROM wq) AND ${filterSql(filters, st.params)}
     ORDER BY score DESC, m.created_at DESC, m.id DESC LIMIT ${Math.floor(depth)}`;
  // Ties keep the newest first (then the highest id, so a list never depends on the plan), as its ORDER BY does.
  const order = "score DESC, created_at DESC, id DESC";
  st.list("kw", keyword(r.filters, r.depth), "json_build_array(id, score)", order);
  if (r.window) st.list("kw2", keyword(r.window.filters, r.window.depth), "json_build_array(id, score)", order);
}

/** Cosine similarity: the exact and the HNSW list (one runs, by scope size), the chance levels, the window twins. */
function vectorLists(
  st: Statement,
  r: CandidateRequest,
  { model, vector }: { vector: Float32Array; model: VectorModel },
  project: string | null,
): void {
  const d = model.dimensions;
  const v = st.p(pgvector.toSql(Array.from(vector)));
  // The model key is inlined (our own string, quoted) so the planner can match the HNSW index's partial predicate.
  const inModel = `v.model = ${sqlLiteral(model.key)} ${project ? "AND v.project = m.project" : ""}`;
  const small = `(SELECT docs FROM p) <= ${EXACT_SCAN_LIMIT}`;
  // `embedding <=> …` on the untyped column cannot use the HNSW index: an exact scan, on purpose. The window
  // aggregates see every memory in scope, before the LIMIT: the baseline comes for free.
  const exact = (filters: SearchFilters, depth: number) =>
    `SELECT id, score, avg(score) OVER () AS mean, stddev_pop(score) OVER () AS sd, count(*) OVER () AS n
     FROM (SELECT v.memory_id AS id, 1 - min(v.embedding <=> ${v}::vector) AS score
           FROM memory_vectors v JOIN memories m ON m.id = v.memory_id
           WHERE ${inModel} AND ${filterSql(filters, st.params)} AND ${small}
           GROUP BY v.memory_id) s
     ORDER BY score DESC, id DESC LIMIT ${Math.floor(depth)}`;
  // Iterative HNSW scans are on for every connection (lib/db/database.ts), so filters never starve the result.
  const hnsw = (filters: SearchFilters, depth: number) =>
    `SELECT id, max(sim) AS score FROM (
       SELECT v.memory_id AS id, 1 - (v.embedding::vector(${d}) <=> ${v}::vector(${d})) AS sim
       FROM memory_vectors v JOIN memories m ON m.id = v.memory_id
       WHERE ${inModel} AND ${filterSql(filters, st.params)} AND NOT ${small}
       ORDER BY v.embedding::vector(${d}) <=> ${v}::vector(${d}) LIMIT ${Math.floor(depth * 3)}
     ) c GROUP BY id ORDER BY score DESC LIMIT ${Math.floor(depth)}`;
  const sample = (pct: string, where: string) =>
    `SELECT 1 - (v.embedding::vector(${d}) <=> ${v}::vector(${d})) AS s
     FROM memory_vectors v TABLESAMPLE SYSTEM ((${pct})::float4)
     WHERE v.model = ${sqlLiteral(model.key)} ${where} LIMIT 2000`;
  st.list("vx", exact(r.filters, r.depth), "json_build_array(id, score, mean, sd, n)");
  st.list("vh", hnsw(r.filters, r.depth), "json_build_array(id, score)");
  // Chance level from the whole database, for a small scope with too few vectors to tell (a scoped search only).
  st.ctes.push(
    `cdb AS (SELECT avg(s) AS mean, stddev_pop(s) AS sd, count(*) AS k FROM (${
      sample(`SELECT least(100, ${100 * SAMPLE} / greatest(sum(docs), 1)) FROM project_stats`, "")
    }) x WHERE ${project !== null} AND ${small} AND coalesce((SELECT max(n) FROM vx), 0) < ${MIN_BASELINE})`,
  );
  st.outs.push(
    "(SELECT json_build_array(mean, sd, k, (SELECT sum(docs) FROM project_stats)) FROM cdb WHERE k > 0) AS cdb",
  );
  // Chance level of a large scope: a sample of it.
  st.ctes.push(
    `cpr AS (SELECT avg(s) AS mean, stddev_pop(s) AS sd FROM (${
      sample(`SELECT least(100, ${100 * SAMPLE} / docs) FROM p`, project ? `AND v.project = ${project}` : "")
    }) x WHERE NOT ${small})`,
  );
  st.outs.push("(SELECT json_build_array(mean, sd) FROM cpr) AS cpr");
  if (r.window) {
    st.list("vx2", exact(r.window.filters, r.window.depth), "json_build_array(id, score)");
    st.list("vh2", hnsw(r.window.filters, r.window.depth), "json_build_array(id, score)");
  }
}

/** The statement's one row, as lists on the scales ranking expects. */
function read(row: Row, r: CandidateRequest): Candidates {
  const [docs] = row.stats;
  const ranked = (xs: [number, number, ...unknown[]][] | null): Ranked[] =>
    (xs ?? []).map(([id, score]) => ({ id, score }));
  let keyword: Candidates["keyword"] = null;
  if (r.terms.length && docs && row.dfs?.length) {
    const stats = { docs, dfs: new Map(row.dfs) };
    keyword = { hits: ranked(row.kw), window: r.window ? ranked(row.kw2) : null, stats };
  }
  let vector: VectorList | null = null;
  let windowVector: VectorList | null = null;
  if (r.vector) {
    const large = docs > EXACT_SCAN_LIMIT; // the statement took the HNSW path
    if (large) {
      // A large scope (the HNSW path): its sampled distribution.
      vector = { hits: ranked(row.vh), mean: row.cpr?.[0] ?? 0, sd: row.cpr?.[1] ?? 0, n: docs };
    } else {
      const first = row.vx?.[0];
      const own = { mean: first?.[2] ?? 0, sd: first?.[3] ?? 0, n: first?.[4] ?? 0 };
      // Too few memories in scope to know what chance similarity looks like: the whole database's, when it has enough.
      const base = row.cdb && row.cdb[3] >= MIN_BASELINE
        ? { mean: row.cdb[0] ?? 0, sd: row.cdb[1] ?? 0, n: row.cdb[3] }
        : own;
      vector = { hits: ranked(row.vx), ...base };
    }
    if (r.window) windowVector = { hits: ranked(large ? row.vh2 : row.vx2), mean: 0, sd: 0, n: 0 };
  }
  const heads = new Map<number, Head>();
  for (const [id, project, session, kind, tags, created_at, superseded_by] of row.hd ?? []) {
    heads.set(id, { id, project, session, kind, tags, created_at, superseded_by });
  }
  const neighbours = new Map<number, number[]>();
  for (const [id, prev, next] of row.nb ?? []) {
    neighbours.set(id, [prev, next].filter((x): x is number => x !== null));
  }
  return { keyword, vector, windowVector, heads, neighbours };
}

/** Of `terms`, those some memory of `project` holds. */
export async function knownTerms(q: Queryable, project: string, terms: string[]): Promise<Set<string>> {
  if (!terms.length) return new Set();
  const res = await q.query<{ term: string }>(
    "SELECT term FROM term_stats WHERE project = $1 AND term = ANY($2::text[]) AND df > 0",
    [project, terms],
  );
  return new Set(res.rows.map((r) => r.term));
}
