/**
 * End-to-end latency over MCP STDIO, as Claude Code sees it: the SDK client calls `save_memory`,
 * `save_conversation`, `search_memory` and `get_context` on a `sage serve` whose database holds N memories, for
 * growing N in one database. Also the bulk rates (`sage import`, `sage reindex`) and the server's resident memory.
 *
 * How the database grows (say-what-you-did, printed with the results):
 * - the first size is loaded with `sage import` with the model: every memory really embedded (the import rate);
 *   then `sage reindex` re-embeds them all (the reindex rate);
 * - larger sizes are topped up with `sage import` with no model (Sage's own keyword path: terms, BM25 statistics,
 *   one transaction per 200) and then each new memory gets one random unit vector by SQL, tagged with the running
 *   model's key and dimension, so Sage's vector search treats them as its own. The model's HNSW index is dropped
 *   for the fill and rebuilt with the same DDL Sage uses (lib/db/repos/models.ts), timed;
 * - then VACUUM ANALYZE, so no autovacuum competes with the timed calls.
 * With a peer (peer.ts), the official memory server gets the same saves and searches at each size, in blocks
 * alternating with Sage's calls.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/index.d.ts"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { indexName } from "../lib/db/repos/models.ts";
import { openPeer, type PeerPoint } from "./peer.ts";
import { readModelSpec } from "../lib/embed/model.ts";
import { EXACT_SCAN_LIMIT } from "../lib/db/repos/candidates.ts";
import { sqlLiteral } from "../lib/db/sql.ts";
import {
  type Bench,
  childEnv,
  type ModelChoice,
  residentMemory,
  rng,
  round,
  runSage,
  sageArgs,
  type Stats,
  stats,
  syntheticJsonl,
  syntheticQuery,
  syntheticText,
  timed,
} from "./support.ts";

export const PROJECT = "/bench/project";
/** Saves made before the timed calls (the first few are slower: a new session, the index's pages). */
const WARM_SAVES = 5;

export interface Memory {
  rss_mib: number;
  peak_mib: number;
}

export interface LatencyPoint {
  memories: number;
  /** Which vector path Sage's search took at this size (exact scan up to EXACT_SCAN_LIMIT memories in scope). */
  vector_path: "exact" | "hnsw";
  save_ms: Stats;
  save_conversation_ms: Stats;
  search_ms: Stats;
  context_ms: Stats;
  /** spawn → first search_memory reply on this database (model load + pool + first query). */
  first_search_ms: number;
  rss_idle: Memory | null;
  /** Highest RSS sampled during the timed calls, and VmHWM at the end. */
  rss_load: Memory | null;
  populate: PopulateStep;
  /** The peer server at the same size, measured in alternating blocks with these calls. */
  peer?: PeerPoint;
}

export interface PopulateStep {
  how: string;
  import_memories: number;
  import_s: number;
  import_per_s: number;
  vector_fill_s?: number;
  index_build_s?: number;
  reindex_memories?: number;
  reindex_s?: number;
  reindex_per_s?: number;
}

export interface LatencySeries {
  model: string;
  model_key: string;
  dimensions: number;
  runs: number;
  points: LatencyPoint[];
}

const NO_MODEL = "/nonexistent/no-model"; // keyword-only import: the model path fails to load, Sage carries on

/** `sage import` of memories number from … to-1; returns the wall time of the whole command. */
async function importRange(env: Record<string, string>, from: number, to: number): Promise<number> {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(file, syntheticJsonl(from, to, PROJECT).join("\n") + "\n");
    const r = await runSage(env, ["import", file]);
    return r.ms / 1000;
  } finally {
    await Deno.remove(file);
  }
}

/** One random unit vector per memory that has none from this model, then the model's HNSW index, rebuilt. */
async function fillVectors(bench: Bench, url: string, key: string, dims: number) {
  const c = await bench.client(url);
  try {
    const index = indexName(key);
    await c.query(`DROP INDEX IF EXISTS ${index}`);
    let t0 = performance.now();
    await c.query(
      `INSERT INTO memory_vectors (memory_id, model, chunk, project, embedding)
       SELECT m.id, $1, 0, m.project,
              l2_normalize(ARRAY(SELECT (random() - 0.5)::real FROM generate_series(1, $2) g WHERE g > 0 * m.id)::vector)
       FROM memories m
       WHERE NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.memory_id = m.id AND v.model = $1)`,
      [key, dims],
    );
    const fill = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await c.query(
      `CREATE INDEX ${index} ON memory_vectors
       USING hnsw ((embedding::vector(${dims})) vector_cosine_ops) WHERE model = ${sqlLiteral(key)}`,
    );
    return { fill, build: (performance.now() - t0) / 1000 };
  } finally {
    await c.end();
  }
}

/**
 * VACUUM ANALYZE after a bulk load: the state a database settles into, and no autovacuum run competing with the
 * timed calls for the two cores.
 */
async function settle(bench: Bench, url: string): Promise<void> {
  const c = await bench.client(url);
  try {
    await c.query("VACUUM (ANALYZE)");
  } finally {
    await c.end();
  }
}

async function countMemories(bench: Bench, url: string): Promise<number> {
  const c = await bench.client(url);
  try {
    const exists = (await c.query("SELECT to_regclass('sage.memories') IS NOT NULL AS ok")).rows[0].ok;
    if (!exists) return 0;
    return Number((await c.query("SELECT count(*) AS n FROM memories WHERE project = $1", [PROJECT])).rows[0].n);
  } finally {
    await c.end();
  }
}

export interface Server {
  client: Client;
  pid: number;
  close(): Promise<void>;
}

/** `sage serve` driven by the MCP SDK's client over stdio. */
export async function connect(env: Record<string, string>): Promise<Server> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: sageArgs("serve"),
    env,
    stderr: "ignore",
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  return { client, pid: transport.pid!, close: () => client.close() };
}

export async function benchSeries(
  bench: Bench,
  choice: ModelChoice,
  sizes: number[],
  runs: number,
  log: (s: string) => void,
  /** Called after each size is measured, with the database (profiling). */
  afterPoint?: (url: string, n: number) => Promise<void>,
  /** Also run the peer side by side: its files go under root; fewer calls where each costs O(N). */
  peer?: { root: string; runs: (n: number) => number },
): Promise<LatencySeries> {
  const spec = await readModelSpec(choice.path, choice.dtype);
  const url = await bench.freshDatabase();
  const env = childEnv({
    DATABASE_URL: url,
    SAGE_EMBED_MODEL: choice.path,
    SAGE_EMBED_DTYPE: choice.dtype,
    SAGE_PROJECT: PROJECT,
  });
  const keywordEnv = { ...env, SAGE_EMBED_MODEL: NO_MODEL };
  const points: LatencyPoint[] = [];
  let imported = 0; // memories numbered 0 … imported-1 are in; the timed saves are numbered apart
  for (const [k, n] of sizes.entries()) {
    const have = await countMemories(bench, url);
    // The timed saves go into the searched project, as a user's do (save_memory first looks for a near-duplicate
    // there): the project is filled to n minus the saves to come, and holds n when the last call returns.
    const target = n - 2 * runs - WARM_SAVES;
    let populate: PopulateStep;
    if (k === 0) {
      log(`  ${choice.label}: sage import of ${target} memories with the model …`);
      const s = await importRange(env, 0, target);
      imported = target;
      log(`  ${choice.label}: sage reindex of ${target} memories …`);
      const r = await runSage(env, ["reindex"]);
      populate = {
        how: `sage import with ${choice.label} (every memory embedded), then sage reindex`,
        import_memories: target,
        import_s: round(s, 2),
        import_per_s: round(target / s, 1),
        reindex_memories: target,
        reindex_s: round(r.ms / 1000, 2),
        reindex_per_s: round(target / (r.ms / 1000), 1),
      };
    } else {
      const add = target - have;
      log(`  ${choice.label}: sage import of ${add} more memories, keyword-only, then random vectors by SQL …`);
      const s = await importRange(keywordEnv, imported, imported + add);
      imported += add;
      const fill = await fillVectors(bench, url, spec.key, spec.dimensions);
      populate = {
        how:
          `sage import without a model (keyword path), then one random unit vector per new memory by SQL, tagged ${spec.key} (${spec.dimensions} d); HNSW index rebuilt`,
        import_memories: add,
        import_s: round(s, 2),
        import_per_s: round(add / s, 1),
        vector_fill_s: round(fill.fill, 2),
        index_build_s: round(fill.build, 2),
      };
    }
    await settle(bench, url);
    log(`  ${choice.label}: latency at ${n} memories …`);
    const side = peer ? { root: peer.root, runs: peer.runs(n) } : undefined;
    points.push({ ...await measure(env, n, runs, imported, side), populate });
    await afterPoint?.(url, n);
  }
  return { model: choice.label, model_key: spec.key, dimensions: spec.dimensions, runs, points };
}

/**
 * Timed calls on the searched project, which holds n − (the saves to come) memories at the start and n at the end:
 * saves go where searches look, as a user's do. With a peer, calls go in alternating blocks: ten rounds of Sage's four
 * calls, then the peer's save and search about the same memories, and so on, so both share the machine's noise.
 */
async function measure(
  env: Record<string, string>,
  n: number,
  runs: number,
  imported: number,
  peer?: { root: string; runs: number },
): Promise<Omit<LatencyPoint, "populate">> {
  const t0 = performance.now();
  const server = await connect(env);
  const { client } = server;
  const other = peer ? await openPeer(peer.root, n) : null;
  const r = rng(n + 17);
  // Searches are about memories that are in (numbers below `imported`).
  const query = () => syntheticQuery(Math.floor(r() * imported), r);
  const base = 10_000_000 + n * 10; // numbers no imported memory has: every save is new content
  try {
    await timed(() => client.callTool({ name: "search_memory", arguments: { query: query() } }));
    const firstSearch = performance.now() - t0;
    // Warm-up: the pool's other connections, the planner's caches, the first saves (a new session, the index's
    // pages; the first few are 2× slower); the background backfill check finishes.
    for (let i = 0; i < WARM_SAVES; i++) {
      await client.callTool({
        name: "save_memory",
        arguments: { content: syntheticText(base - 1 - i) },
      });
      await client.callTool({ name: "search_memory", arguments: { query: query() } });
      await client.callTool({ name: "get_context", arguments: { query: query() } });
      if (other && i < 2) await other.search(syntheticText(Math.floor(r() * imported)));
    }
    await new Promise((res) => setTimeout(res, 1000));
    const idle = residentMemory(server.pid);
    const peerIdle = other ? residentMemory(other.pid) : null;
    const save: number[] = [];
    const conversation: number[] = [];
    const search: number[] = [];
    const context: number[] = [];
    const peerSave: number[] = [];
    const peerSearch: number[] = [];
    const peerHits: number[] = [];
    let peak = 0;
    let peerPeak = 0;
    const BLOCK = 10;
    const blocks = Math.ceil(runs / BLOCK);
    const peerPerBlock = peer ? Math.ceil(peer.runs / blocks) : 0;
    for (let b = 0; b < blocks; b++) {
      const about: number[] = []; // the memories this block's searches are about
      for (let i = b * BLOCK; i < Math.min(runs, (b + 1) * BLOCK); i++) {
        save.push(
          await timed(() =>
            client.callTool({
              name: "save_memory",
              arguments: { content: syntheticText(base + 2 * i) },
            })
          ),
        );
        const target = Math.floor(r() * imported);
        const q = syntheticQuery(target, r);
        about.push(target);
        search.push(await timed(() => client.callTool({ name: "search_memory", arguments: { query: q } })));
        conversation.push(
          await timed(() =>
            client.callTool({
              name: "save_conversation",
              arguments: {
                user_prompt: syntheticQuery(base + 2 * i + 1, r, 8) + "?",
                assistant_response: syntheticText(base + 2 * i + 1, 40),
              },
            })
          ),
        );
        context.push(await timed(() => client.callTool({ name: "get_context", arguments: { query: query() } })));
        peak = Math.max(peak, residentMemory(server.pid)?.rss_mib ?? 0);
      }
      if (!other) continue;
      for (let k = 0; k < peerPerBlock && peerSave.length < peer!.runs; k++) {
        peerSave.push(await other.save(peerSave.length));
        const [ms, hits] = await other.search(syntheticText(about[k % about.length]));
        peerSearch.push(ms);
        peerHits.push(hits);
        peerPeak = Math.max(peerPeak, residentMemory(other.pid)?.rss_mib ?? 0);
      }
    }
    const end = residentMemory(server.pid);
    const peerEnd = other ? residentMemory(other.pid) : null;
    return {
      memories: n,
      vector_path: n <= EXACT_SCAN_LIMIT ? "exact" : "hnsw",
      save_ms: stats(save),
      save_conversation_ms: stats(conversation),
      search_ms: stats(search),
      context_ms: stats(context),
      first_search_ms: Math.round(firstSearch),
      rss_idle: idle,
      rss_load: end ? { rss_mib: Math.max(peak, end.rss_mib), peak_mib: end.peak_mib } : null,
      ...(other
        ? {
          peer: {
            memories: n,
            file_mib: other.fileMib,
            runs: peerSave.length,
            save_ms: stats(peerSave),
            search_ms: stats(peerSearch),
            search_hits: stats(peerHits).median,
            rss_idle: peerIdle,
            rss_load: peerEnd ? { rss_mib: Math.max(peerPeak, peerEnd.rss_mib), peak_mib: peerEnd.peak_mib } : null,
          },
        }
        : {}),
    };
  } finally {
    await server.close();
    await other?.close();
  }
}
