/**
 * Ranking: from a query's terms and vector to the final list of hits. Data path:
 * keyword list + vector list (+ the same inside a time window named by the query), with each candidate's
 * neighbours, in one statement (lib/db/repos/candidates.ts) →
 * evidence per memory (fuseScores) → neighbours of the strongest candidates join and share their score →
 * memories inside the named time window get a boost → filters re-checked → near-duplicates collapsed.
 *
 * Combining (fuseScores): ranks alone (reciprocal-rank fusion) let a weak list pull good hits down, so scores
 * are put on comparable, absolute scales instead:
 * - keyword: BM25 divided by the query's total idf: the share of the query's information a memory holds
 *   (1 ≈ every query term present, in a memory of average length; terms found nowhere in scope count too);
 * - vector: how far the similarity stands above the scope's own similarity distribution (a z-score), divided
 *   by twice the largest z-score chance alone would give among N memories (≈ √(2 ln N)). Embedding models
 *   compress similarities into narrow bands (0.7–0.9 for everything is common); a z-score against the scope
 *   is what tells a real match from the band.
 * The two add up. Memories next to a strong hit (same project and session, adjacent in time) then get half
 * the strongest neighbour's score: a reply ("yes, the second one") is about what came just before it.
 */
import type { Database } from "../db/database.ts";
import {
  candidates,
  type Head,
  type KeywordList,
  PRIOR_DOCS,
  type TermStats,
  type VectorList,
} from "../db/repos/candidates.ts";
import { getMemories } from "../db/repos/memories.ts";
import type { VectorModel } from "../db/repos/vectors.ts";
import { isCjkPair, isParticle, overlap, wordSet } from "../text/terms.ts";
import type { Translation } from "../text/glossary.ts";
import type { TimeWindow } from "../text/time.ts";
import type { Memory, SearchFilters, SearchHit } from "../types.ts";

/** A memory created inside the time window the query names gets this much added. */
export const TIME_SHARE = 0.5;
/** Hits whose keyword terms overlap this much (Jaccard) with a better hit are folded into it. */
const NEAR_DUPLICATE = 0.9;
/** A memory superseded by a newer one keeps this share of its score; its successor takes the full score. */
export const SUPERSEDED_SHARE = 0.5;
/** The keyword weight (a full match) counts this many of the query's most informative terms. */
const WEIGHT_TERMS = 12;
/** A neighbour inherits this share of the strongest adjacent memory's score. */
export const NEIGHBOUR_SHARE = 0.5;
/** Fewer vectors than this tell nothing about chance: no vector evidence (similarity still orders ties). */
const MIN_SAMPLE = 10;

export interface RankRequest {
  terms: string[];
  /** The query's terms in the other language (lib/text/glossary.ts): they score, but add nothing to the weight. */
  translations?: Translation[];
  /** The query's vector and its model (null: keyword evidence only). */
  query: { vector: Float32Array | null; model: VectorModel | null };
  filters: SearchFilters;
  limit: number;
  /** Which signals: hybrid uses both lists plus neighbours and the time window; the others one list, pure. */
  mode: "hybrid" | "keyword" | "vector";
  window: TimeWindow | null;
}

/** The terms the keyword list scores with: the query's own (weight 1), then its translations. */
function keywordTerms(r: RankRequest): { terms: string[]; termWeights: number[] } {
  if (r.mode === "vector") return { terms: [], termWeights: [] };
  const own = new Set(r.terms);
  const other = (r.translations ?? []).filter((t) => !own.has(t.term));
  return {
    terms: [...r.terms, ...other.map((t) => t.term)],
    termWeights: [...r.terms.map(() => 1), ...other.map((t) => t.weight)],
  };
}

/** Two round trips: every candidate list in one statement, then the rows of the winners. */
export async function rank(db: Database, r: RankRequest): Promise<SearchHit[]> {
  const depth = Math.max(r.limit * 5, 50);
  const hybrid = r.mode === "hybrid";
  const { vector: qv, model } = r.query;
  const found = await candidates(db, {
    ...keywordTerms(r),
    vector: r.mode !== "keyword" && qv && model ? { vector: qv, model } : null,
    filters: r.filters,
    depth,
    // Memories of the named period may match the words only weakly: fetch them from inside the window too.
    window: hybrid && r.window ? { filters: windowed(r.filters, r.window), depth: Math.max(r.limit * 2, 20) } : null,
    neighbours: hybrid,
  });
  const { vector } = found;
  const weight = found.keyword ? keywordWeight(r.terms, found.keyword.stats) : 0;
  const keyword = found.keyword && { hits: found.keyword.hits, weight };
  const evidence = fuseScores(keyword, vector);
  if (found.keyword?.window || found.windowVector) {
    // Inside the window, on the scope-wide scales: the same keyword weight, the scope's similarity distribution.
    const k2 = found.keyword?.window ? { hits: found.keyword.window, weight } : null;
    const v2 = found.windowVector && rebase(found.windowVector, vector);
    for (const e of fuseScores(k2, v2).values()) if (!evidence.has(e.id)) evidence.set(e.id, e);
  }
  if (!evidence.size) return [];

  const base = (e: Evidence | undefined) => (e ? e.keyword + e.vector : 0);
  const ordered = [...evidence.values()].sort((a, b) => base(b) - base(a));
  const strongest = ordered.slice(0, Math.max(3 * r.limit, 30));
  const adjacent = new Map(strongest.map((e) => [e.id, found.neighbours.get(e.id) ?? []]));

  // Final scores: own evidence + a share of the best neighbour's. Neighbours of the strongest join as candidates.
  const final = new Map<number, { own: number; neighbour: number }>();
  for (const e of strongest) final.set(e.id, { own: base(e), neighbour: 0 });
  for (const [id, nbs] of adjacent) {
    for (const nb of nbs) {
      const share = NEIGHBOUR_SHARE * base(evidence.get(id));
      const entry = final.get(nb) ??
        (evidence.has(nb) || share > 0 ? { own: base(evidence.get(nb)), neighbour: 0 } : null);
      if (!entry) continue; // a neighbour with nothing to inherit does not join
      entry.neighbour = Math.max(entry.neighbour, share);
      final.set(nb, entry);
      const self = final.get(id)!;
      self.neighbour = Math.max(self.neighbour, NEIGHBOUR_SHARE * base(evidence.get(nb)));
    }
  }
  // Candidates from the lists beyond the strongest keep their own evidence (no neighbour lookup needed).
  for (const e of ordered.slice(strongest.length, depth)) {
    if (!final.has(e.id)) final.set(e.id, { own: base(e), neighbour: 0 });
  }

  const scored = finalScores(final, evidence, found.heads, r);
  return await hits(db, scored, evidence, r);
}

type Scored = { id: number; own: number; neighbour: number; time: number; score: number; tie: number; created: string };

/** Own evidence + neighbour share + time, for candidates that pass the filters, best first. */
function finalScores(
  final: Map<number, { own: number; neighbour: number }>,
  evidence: Map<number, Evidence>,
  headOf: Map<number, Head>,
  r: RankRequest,
): (Scored & { supersededBy: number | null })[] {
  const hybrid = r.mode === "hybrid";
  const out = [];
  for (const [id, s] of final) {
    const head = headOf.get(id);
    if (!head || !matches(head, r.filters)) continue;
    const inWindow = hybrid && r.window
      ? head.created_at >= iso(r.window.start) && head.created_at < iso(r.window.end)
      : false;
    const e = evidence.get(id);
    const time = inWindow ? TIME_SHARE : 0;
    // Newest wins: a memory with a successor ranks below it (the successor inherits its place; see hits()).
    const damp = head.superseded_by !== null ? SUPERSEDED_SHARE : 1;
    out.push({
      id,
      own: s.own,
      neighbour: s.neighbour,
      time,
      score: (s.own + s.neighbour + time) * damp,
      // Ties (e.g. no evidence above chance in a tiny scope) fall back to raw similarity, then keyword score.
      tie: (e?.similarity ?? -1) + (e?.keyword ?? 0) / 1_000,
      created: head.created_at,
      supersededBy: head.superseded_by,
    });
  }
  return out.sort(byScore);
}

const byScore = (a: Scored, b: Scored) =>
  b.score - a.score || b.tie - a.tie || b.created.localeCompare(a.created) || b.id - a.id;

/**
 * Full rows for the head of the list (one round trip, with the successors of superseded memories), the successors
 * ranked where their predecessors' evidence puts them, near-duplicates folded into the better hit above them.
 */
async function hits(
  db: Database,
  scored: (Scored & { supersededBy: number | null })[],
  evidence: Map<number, Evidence>,
  r: RankRequest,
): Promise<SearchHit[]> {
  const head = scored.slice(0, r.limit + 10);
  const successors = head.filter((h) => h.supersededBy !== null).map((h) => h.supersededBy!);
  const rows = new Map((await getMemories(db, [...head.map((h) => h.id), ...successors])).map((m) => [m.id, m]));
  const list: Scored[] = [...head];
  for (const h of head) {
    const next = h.supersededBy !== null ? rows.get(h.supersededBy) : undefined;
    if (!next || !matchesRow(next, r.filters)) continue;
    const inherited = h.score / SUPERSEDED_SHARE;
    const have = list.find((x) => x.id === next.id);
    if (have) have.score = Math.max(have.score, inherited);
    else list.push({ ...h, id: next.id, score: inherited, own: 0, neighbour: 0, time: 0, created: next.created_at });
  }
  list.sort(byScore);
  const kept: { hit: SearchHit; terms: Set<string> }[] = [];
  for (const h of list) {
    const m = rows.get(h.id);
    if (!m || kept.some((k) => k.hit.id === h.id)) continue;
    const terms = wordSet(m.content);
    if (kept.some((k) => overlap(k.terms, terms) >= NEAR_DUPLICATE)) continue;
    const e = evidence.get(h.id);
    const match: SearchHit["match"] = {
      keyword: e?.keyword ? round(e.keyword) : undefined,
      vector: e?.vector ? round(e.vector) : undefined,
      similarity: e?.similarity !== undefined ? round(e.similarity) : undefined,
      keyword_rank: e?.keywordRank,
      vector_rank: e?.vectorRank,
      neighbour: h.neighbour ? round(h.neighbour) : undefined,
      time: h.time || undefined,
    };
    for (const k of Object.keys(match) as (keyof typeof match)[]) if (match[k] === undefined) delete match[k];
    kept.push({ terms, hit: { ...m, score: round(h.score), match } });
    if (kept.length === r.limit) break;
  }
  return kept.map((k) => k.hit);
}

function windowed(f: SearchFilters, w: TimeWindow): SearchFilters {
  const after = f.after && f.after > w.start ? f.after : w.start;
  const before = f.before && f.before < w.end ? f.before : w.end;
  return { ...f, after, before };
}

/** Vector similarities inside the window, judged against the scope-wide distribution. */
function rebase(v: VectorList, scope: VectorList | null): VectorList {
  return scope ? { ...v, mean: scope.mean, sd: scope.sd, n: scope.n } : v;
}

/**
 * The keyword weight of a query: Σ idf of its most informative terms, the BM25 score of a perfect, average-length
 * match. A term no memory in scope contains still counts (at an unseen term's idf): asking about "Caroline" where
 * nobody is called Caroline must not turn a match on the other words into a full one. Only the WEIGHT_TERMS most
 * informative count: a long prompt (a pasted log) is about a few things, and a memory matching those is a full
 * match, not a tenth of one. Chinese is not segmented into words, so a query's character pairs include pairs that
 * straddle two words ("用的库" gives 的库); an unseen pair of characters the scope does know is such a seam, or
 * a rephrasing, not missing information, and does not count.
 */
export function keywordWeight(terms: string[], stats: TermStats): number {
  const idf = (df: number) => Math.log(1 + (stats.docs + PRIOR_DOCS - df + 0.5) / (df + 0.5));
  const known = (t: string) => stats.dfs.has(t) || isParticle(t);
  const unseen = terms.filter((t) => !stats.dfs.has(t) && !(isCjkPair(t) && Array.from(t).every(known)));
  const seen = terms.filter((t) => stats.dfs.has(t)).map((t) => idf(stats.dfs.get(t)!));
  const idfs = [...seen, ...unseen.map(() => idf(0))].sort((a, b) => b - a);
  return idfs.slice(0, WEIGHT_TERMS).reduce((s, x) => s + x, 0);
}

/** A candidate's evidence, each part on the scale described at the top of this file. */
export interface Evidence {
  id: number;
  keyword: number;
  vector: number;
  /** Cosine similarity, when the vector list had it. */
  similarity?: number;
  keywordRank?: number;
  vectorRank?: number;
}

/** Keyword and vector evidence per candidate (scores add up; see the top of this file). */
export function fuseScores(keyword: KeywordList | null, vector: VectorList | null): Map<number, Evidence> {
  const out = new Map<number, Evidence>();
  const get = (id: number) => {
    let e = out.get(id);
    if (!e) out.set(id, e = { id, keyword: 0, vector: 0 });
    return e;
  };
  if (keyword && keyword.weight > 0) {
    keyword.hits.forEach((h, i) => {
      const e = get(h.id);
      e.keyword = h.score / keyword.weight;
      e.keywordRank = i + 1;
    });
  }
  // With a handful of vectors there is no telling what chance similarity looks like (two points always give
  // z = 1): vector evidence starts counting once the baseline has MIN_SAMPLE memories. The hits stay
  // candidates either way, ordered by similarity.
  if (vector && vector.hits.length) {
    const chance = 2 * Math.sqrt(2 * Math.log(Math.max(vector.n, 3)));
    const known = vector.n >= MIN_SAMPLE && vector.sd > 1e-9;
    vector.hits.forEach((h, i) => {
      const e = get(h.id);
      e.similarity = h.score;
      e.vector = known ? Math.max(0, (h.score - vector.mean) / vector.sd) / chance : 0;
      e.vectorRank = i + 1;
    });
  }
  return out;
}

/** The filters, checked on a full row (a successor joins the list without having passed them). */
function matchesRow(m: Memory, f: SearchFilters): boolean {
  return matches(m, f) && (!f.excludeSession || m.session !== f.excludeSession);
}

/** The filters, checked on a memory (neighbours join the list without having passed them in SQL). */
function matches(h: Head, f: SearchFilters): boolean {
  if (f.project !== null && h.project !== f.project) return false;
  if (f.session && h.session !== f.session) return false;
  if (f.excludeSession && h.session === f.excludeSession) return false;
  if (f.kinds?.length && !f.kinds.includes(h.kind)) return false;
  if (f.tags?.length && !f.tags.every((t) => h.tags.includes(t))) return false;
  if (f.after && h.created_at < iso(f.after)) return false;
  if (f.before && h.created_at >= iso(f.before)) return false;
  return true;
}

/** ISO with microseconds, comparable as a string with the database's timestamps. */
function iso(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
