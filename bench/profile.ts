/**
 * Where a search's time goes. On the same database the MCP latency was measured on, MemoryService.search runs in
 * this process with the same kind of queries, and every SQL statement it sends and every query embedding is timed
 * (the service's own Database and Embedder, wrapped: no Sage code changed, and it keeps working as the search
 * code changes). Statements are named by what they do (see LABELS). Phases that run concurrently (keyword ∥
 * embed → vector) add up to more than the whole; "service" is the whole. MCP search latency − service = the MCP
 * layer, JSON-RPC over the pipe and the client.
 * Also EXPLAIN (ANALYZE, BUFFERS) of the slowest statements of one search, replayed with the same parameters and
 * the same SET LOCAL settings; and the same statement-level split for MemoryService.saveMemory.
 */
// @ts-types="@types/pg"
import type pg from "pg";
import { loadConfig } from "../lib/config.ts";
import type { Database, Queryable } from "../lib/db/database.ts";
import { Embedder } from "../lib/embed/embedder.ts";
import { createService } from "../lib/app.ts";
import { DbConnection } from "../lib/db/connect.ts";
import { type ModelChoice, rng, round, type Stats, stats, syntheticQuery, syntheticText } from "./support.ts";
import { PROJECT } from "./latency.ts";

export interface SearchProfile {
  memories: number;
  searches: number;
  /** The same for save_memory (MemoryService.saveMemory into another project). */
  save_phases_ms: Record<string, Stats>;
  /** Per search: time in each statement kind (summed when it ran several times), and the whole. */
  phases_ms: Record<string, Stats>;
  /** Database round trips (statements, BEGIN and COMMIT included) per search and per save, medians. */
  round_trips: { search: number; save: number };
  /** EXPLAIN ANALYZE of the slowest statements of one search. */
  explain: Record<string, ExplainSummary>;
}

export interface ExplainSummary {
  execution_ms: number;
  planning_ms: number;
  plan: string;
}

/** What each statement does, recognised by its SQL (first match wins). */
const LABELS: [string, RegExp][] = [
  ["sql: BEGIN/SET/COMMIT", /^\s*(BEGIN|COMMIT|ROLLBACK|SET)\b/i],
  ["sql: insert memory (+ BM25 statistics trigger)", /INSERT INTO memories/],
  ["sql: insert vectors (+ HNSW insert)", /INSERT INTO memory_vectors/],
  ["sql: duplicate check", /content_hash AS hash[\s\S]*unnest/],
  ["sql: session upsert/touch", /INSERT INTO sessions|UPDATE sessions/],
  ["sql: candidates (one statement: lists, chance level, heads, neighbours)", /^WITH p AS/],
  ["sql: nearest memories (near-duplicate, supersession)", /<=>/],
  ["sql: memory rows", /FROM memories m WHERE m\.id = ANY/],
  ["sql: model check", /embedding_models|pg_indexes/],
];

function label(text: string): string {
  for (const [name, re] of LABELS) if (re.test(text)) return name;
  return `sql: other (${text.replace(/\s+/g, " ").trim().slice(0, 40)}…)`;
}

interface Call {
  label: string;
  text: string;
  values?: unknown[];
  tx: boolean;
  ms: number;
}

/** Wraps the service's Database in place: every statement is timed and recorded. */
function instrument(db: Database, sink: { calls: Call[] }): void {
  const wrap = (q: Queryable, tx: boolean): Queryable => ({
    async query(text: string, values?: unknown[]) {
      const t0 = performance.now();
      try {
        return await q.query(text, values);
      } finally {
        sink.calls.push({ label: label(text), text, values, tx, ms: performance.now() - t0 });
      }
    },
  });
  const query = db.query.bind(db);
  const tx = db.tx.bind(db);
  const direct = wrap({ query } as Queryable, false);
  // deno-lint-ignore no-explicit-any
  const d = db as any;
  d.query = direct.query;
  d.tx = <T>(fn: (q: Queryable) => Promise<T>) => tx((q) => fn(wrap(q, true)));
}

async function explain(client: pg.Client, calls: Call[], target: Call): Promise<ExplainSummary> {
  await client.query("BEGIN");
  try {
    // The settings the search made in the same transaction (SET LOCAL hnsw.ef_search …), then the statement.
    if (target.tx) {
      for (const c of calls) {
        if (c === target) break;
        if (c.tx && /^\s*SET\b/i.test(c.text)) await client.query(c.text, c.values);
      }
    }
    const res = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${target.text}`, target.values);
    const lines = res.rows.map((r: Record<string, string>) => r["QUERY PLAN"]);
    const all = lines.join("\n");
    return {
      execution_ms: Number(all.match(/Execution Time: ([\d.]+)/)?.[1] ?? NaN),
      planning_ms: Number(all.match(/Planning Time: ([\d.]+)/)?.[1] ?? NaN),
      plan: all,
    };
  } finally {
    await client.query("ROLLBACK");
  }
}

export async function profileSearch(
  url: string,
  client: pg.Client,
  choice: ModelChoice,
  n: number,
  searches = 30,
): Promise<SearchProfile> {
  const config = loadConfig(
    { "db-url": url, "embed-model": choice.path, project: PROJECT, "log-level": "error" },
    { SAGE_EMBED_DTYPE: choice.dtype },
  );
  const embedder = new Embedder(config);
  const conn = new DbConnection(config);
  const service = createService(config, { autoSession: true, conn, embedder }); // as the MCP server makes it
  try {
    const db = await conn.get();
    await embedder.ready();
    const sink = { calls: [] as Call[] };
    instrument(db, sink);
    let embedMs = 0;
    const embedQueries = embedder.embedQueries.bind(embedder);
    embedder.embedQueries = async (texts: string[]) => {
      const t0 = performance.now();
      try {
        return await embedQueries(texts);
      } finally {
        embedMs += performance.now() - t0;
      }
    };
    const embedPassages = embedder.embedPassages.bind(embedder);
    embedder.embedPassages = async (texts: string[]) => {
      const t0 = performance.now();
      try {
        return await embedPassages(texts);
      } finally {
        embedMs += performance.now() - t0;
      }
    };
    const r = rng(n + 99);
    const next = () => syntheticQuery(Math.floor(r() * n), r);
    for (let i = 0; i < 3; i++) await service.search({ query: next() });
    const per: Record<string, number[]> = {};
    const trips = { search: [] as number[], save: [] as number[] };
    let last: Call[] = [];
    for (let i = 0; i < searches; i++) {
      sink.calls = [];
      embedMs = 0;
      const t0 = performance.now();
      await service.search({ query: next() });
      const total = performance.now() - t0;
      const sums: Record<string, number> = { "service.search (whole)": total, "embed query (worker + model)": embedMs };
      for (const c of sink.calls) sums[c.label] = (sums[c.label] ?? 0) + c.ms;
      for (const [k, v] of Object.entries(sums)) (per[k] ??= []).push(v);
      trips.search.push(sink.calls.length);
      last = sink.calls;
    }
    for (const v of Object.values(per)) while (v.length < searches) v.push(0);
    const perSave: Record<string, number[]> = {};
    for (let i = 0; i < searches; i++) {
      sink.calls = [];
      embedMs = 0;
      const t0 = performance.now();
      await service.saveMemory({ content: syntheticText(20_000_000 + n * 10 + i) }); // into the searched project
      const total = performance.now() - t0;
      const sums: Record<string, number> = {
        "service.saveMemory (whole)": total,
        "embed passage (worker + model)": embedMs,
      };
      for (const c of sink.calls) sums[c.label] = (sums[c.label] ?? 0) + c.ms;
      for (const [k, v] of Object.entries(sums)) (perSave[k] ??= []).push(v);
      trips.save.push(sink.calls.length);
    }
    for (const v of Object.values(perSave)) while (v.length < searches) v.push(0);
    const explained: Record<string, ExplainSummary> = {};
    const slowest = [...last].filter((c) => !/^\s*(BEGIN|COMMIT|ROLLBACK|SET)\b/i.test(c.text))
      .sort((a, b) => b.ms - a.ms).slice(0, 3);
    for (const c of slowest) {
      explained[`${c.label} (${round(c.ms, 1)} ms in the search)`] = await explain(client, last, c);
    }
    return {
      memories: n,
      searches,
      phases_ms: Object.fromEntries(
        Object.entries(per).sort((a, b) => stats(b[1]).median - stats(a[1]).median).map(([k, v]) => [k, stats(v)]),
      ),
      save_phases_ms: Object.fromEntries(
        Object.entries(perSave).sort((a, b) => stats(b[1]).median - stats(a[1]).median).map(([k, v]) => [k, stats(v)]),
      ),
      round_trips: { search: stats(trips.search).median, save: stats(trips.save).median },
      explain: explained,
    };
  } finally {
    await service.close();
  }
}
