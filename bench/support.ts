/**
 * Shared by the benchmarks: a throwaway cluster, fresh databases, the models, running `sage` as a child, resident
 * memory, synthetic memories, statistics, and a description of the machine. Every latency is reported as median
 * and p95 over repeated runs.
 */
// @ts-types="@types/pg"
import pg from "pg";
import { loadConfig } from "../lib/config.ts";
import { clusterPaths, ensureCluster, stopCluster } from "../lib/db/cluster.ts";
import { configureLog } from "../lib/log.ts";
import { runCommand } from "../tests/support/process.ts";
import { mulberry32, writeTinyModel } from "../tests/support/tiny_model.ts";

configureLog({ level: "warn" });

export const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
/** Generated, never committed (gitignored): the e5-sized model (bench/setup.sh). */
export const CACHE = `${REPO}/.cache/bench`;
export const E5_MODEL = `${CACHE}/e5-small-random`;
/** The static GloVe model beside the checkout (benchmarks may use ../shared; tests may not). */
export const GLOVE_MODEL = `${REPO.replace(/\/[^/]+$/, "")}/shared/models/glove-static-100d`;
/** The official reference memory server, installed pinned by bench/setup.sh. */
export const PEER_VERSION = "2026.8.31";
export const PEER_ENTRY = `${REPO}/.tools/bench/node_modules/@modelcontextprotocol/server-memory/dist/index.js`;

export interface ModelChoice {
  /** Short label used in tables and JSON. */
  label: string;
  path: string;
  /** SAGE_EMBED_DTYPE */
  dtype: string;
  description: string;
}

export const E5_Q8: ModelChoice = {
  label: "e5-small-q8",
  path: E5_MODEL,
  dtype: "auto",
  description:
    "multilingual-e5-small architecture (BERT 12×384, vocab 250037), random weights, int8 (onnx/model_quantized.onnx: what dtype auto loads)",
};
export const E5_FP32: ModelChoice = {
  label: "e5-small-fp32",
  path: E5_MODEL,
  dtype: "fp32",
  description: "the same architecture and weights in fp32 (onnx/model.onnx)",
};
export const GLOVE: ModelChoice = {
  label: "glove-100d",
  path: GLOVE_MODEL,
  dtype: "auto",
  description:
    "../shared/models/glove-static-100d: static word vectors (a token lookup, no layers): the fast lower bound",
};

export interface Bench {
  root: string;
  socket: string;
  freshDatabase(): Promise<string>;
  /** A client on a bench database (by URL). */
  client(url: string): Promise<pg.Client>;
  close(): Promise<void>;
}

/** A private cluster in a temp folder, for the duration of a benchmark run. */
export async function startBench(): Promise<Bench> {
  const root = await Deno.makeTempDir({ prefix: "sage-bench-" });
  await Deno.chmod(root, 0o711); // the cluster may run as `postgres`
  const config = { ...loadConfig({ home: `${root}/home` }, {}), dbUrl: undefined };
  await ensureCluster(config);
  const socket = clusterPaths(`${root}/home`).socketDir;
  // Room for HNSW builds of 100k vectors in memory (the bench's own index builds; see latency.ts).
  const admin = new pg.Client({ host: socket, user: "sage", database: "postgres" });
  await admin.connect();
  await admin.query("ALTER SYSTEM SET maintenance_work_mem = '1GB'");
  await admin.query("SELECT pg_reload_conf()");
  await admin.end();
  let n = 0;
  return {
    root,
    socket,
    async freshDatabase() {
      const name = `b_${++n}`;
      const c = new pg.Client({ host: socket, user: "sage", database: "postgres" });
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      return `postgresql://sage@/${name}?host=${encodeURIComponent(socket)}`;
    },
    async client(url: string) {
      const name = url.match(/^postgres(?:ql)?:\/\/[^/]*\/([^?]+)/)![1];
      const c = new pg.Client({ host: socket, user: "sage", database: decodeURIComponent(name) });
      await c.connect();
      await c.query("SET search_path = sage, public");
      return c;
    },
    async close() {
      await stopCluster(config).catch(() => {});
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/** The model a bench runs with: the one named (--model), else the tests' tiny model, written into the bench's root. */
export async function benchModel(bench: Bench, named: string | undefined): Promise<string> {
  if (named) return named;
  const model = `${bench.root}/tiny-model`;
  await writeTinyModel(model);
  return model;
}

// ---- running sage -------------------------------------------------------------------------------------

/** `deno run … main.ts <args>`: how the `./sage` script runs Sage from a checkout. */
export function sageArgs(...args: string[]): string[] {
  return ["run", "--quiet", "--allow-all", "--config", `${REPO}/deno.json`, `${REPO}/main.ts`, ...args];
}

/**
 * The environment of a child: what a user's shell passes (the MCP SDK's client passes only a few variables, and
 * a `deno run` child needs DENO_DIR and the CA settings), plus Sage's settings.
 */
export function childEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    DENO_NO_UPDATE_CHECK: "1",
    SAGE_LOG_LEVEL: "error",
  };
  for (const k of ["DENO_DIR", "NODE_EXTRA_CA_CERTS", "DENO_TLS_CA_STORE", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs a `sage` command to completion; throws with its stderr when it fails. */
export async function runSage(
  env: Record<string, string>,
  args: string[],
): Promise<{ ms: number; stdout: string; stderr: string }> {
  const t0 = performance.now();
  const { code, stdout, stderr } = await runCommand(Deno.execPath(), sageArgs(...args), { env, cwd: REPO });
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`sage ${args.join(" ")} failed (${code}): ${stderr.slice(-2000)}`);
  return { ms, stdout, stderr };
}

/** Resident memory of a process from /proc/<pid>/status: now (VmRSS) and its peak so far (VmHWM), in MiB. */
export function residentMemory(pid: number): { rss_mib: number; peak_mib: number } | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
    return { rss_mib: round(kb("VmRSS") / 1024, 1), peak_mib: round(kb("VmHWM") / 1024, 1) };
  } catch {
    return null;
  }
}

// ---- statistics -----------------------------------------------------------------------------------------

export interface Stats {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, median: round(q(0.5)), p95: round(q(0.95)), min: round(s[0]), max: round(s[s.length - 1]) };
}

export function median(samples: number[]): number {
  return stats(samples).median;
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Milliseconds an async call takes; an MCP tool error fails the benchmark (a fast error is not a result). */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const r = await fn() as { isError?: boolean; content?: { text: string }[] };
  const ms = performance.now() - t0;
  if (r?.isError) throw new Error(r.content?.[0]?.text);
  return ms;
}

/** Processes using CPU now (other than this one), from /proc: the noise the figures were measured under. */
export async function busyProcesses(): Promise<number> {
  const o = await new Deno.Command("ps", { args: ["-eo", "pid=,pcpu="], stdout: "piped", stderr: "null" }).output()
    .catch(() => null);
  if (!o) return -1;
  return new TextDecoder().decode(o.stdout).trim().split("\n").map((l) => l.trim().split(/\s+/))
    .filter(([pid, cpu]) => Number(pid) !== Deno.pid && Number(cpu) >= 5).length;
}

/** What the numbers were measured on. */
export async function machine(): Promise<Record<string, unknown>> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.*)/)?.[1];
  const flags = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/flags\s*:\s*(.*)/)?.[1] ?? "";
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3).join(" ");
  const pgVersion = await (async () => {
    const versions: string[] = [];
    for await (const e of Deno.readDir("/usr/lib/postgresql")) versions.push(e.name);
    const v = versions.sort((a, b) => Number(b) - Number(a))[0];
    const o = await new Deno.Command(`/usr/lib/postgresql/${v}/bin/postgres`, { args: ["--version"], stdout: "piped" })
      .output();
    return new TextDecoder().decode(o.stdout).trim();
  })().catch(() => "unknown");
  const nodeVersion = await new Deno.Command("node", { args: ["--version"], stdout: "piped", stderr: "null" })
    .output().then((o) => new TextDecoder().decode(o.stdout).trim()).catch(() => "none");
  return {
    cpu: cpu ?? "unknown",
    cpu_features: ["avx2", "avx512f", "avx512_vnni", "amx_int8"].filter((f) => flags.split(" ").includes(f)),
    cores: navigator.hardwareConcurrency,
    memory_gib: round(Deno.systemMemoryInfo().total / 2 ** 30, 1),
    load_average_at_start: load,
    /** Other processes on this shared machine when the run started (they share the two cores). */
    busy_processes_at_start: await busyProcesses(),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    node: nodeVersion,
    postgres: pgVersion,
    date: new Date().toISOString(),
  };
}

// ---- synthetic memories -------------------------------------------------------------------------------

/** Deterministic PRNG: the tiny test model's. */
export const rng = mulberry32;

const WORDS = (
  "the a we decided to use postgres for storage because it handles vectors well and the team knows it " +
  "deploy release pipeline failed on staging after the migration so we rolled back and fixed the index " +
  "user prefers tabs over spaces short functions clear names and tests beside the code " +
  "bug in the parser when the input has unicode characters like emoji or chinese text caused a crash " +
  "cache invalidation timeout retry backoff queue worker scheduler cron job nightly build docker image " +
  "api endpoint returns json with pagination cursor limit offset auth token session cookie header " +
  "react component state hook effect render props context router page layout style theme dark mode " +
  "database schema table column index constraint foreign key transaction lock deadlock vacuum analyze " +
  "memory leak profile flame graph latency throughput benchmark regression performance budget cpu " +
  "config file environment variable secret vault rotate key certificate tls proxy network firewall"
).split(" ");

const ZH = "数据库迁移部署失败缓存索引查询性能测试用户偏好代码风格接口错误日志配置环境变量容器镜像网络延迟内存泄漏"
  .split("");

/**
 * A long-tailed vocabulary like real notes have (names, identifiers, rare terms): 40,000 pseudo-words drawn with
 * Zipf's law (frequency ∝ 1/rank), so a query holds a mix of common and rare terms and keyword search sees
 * realistic document frequencies instead of a few hundred words each present in a tenth of all memories.
 */
const TAIL_SIZE = 40_000;
const SYLLABLES = "ka lo mi ne ru sa ti vo ze ba de fi gu ho ji ko lu ma no pe qui ri so tu ve wa xi yo zu".split(" ");
const tailWord = (k: number) => {
  let w = "";
  let x = k + 27;
  while (x > 0) {
    w += SYLLABLES[x % SYLLABLES.length];
    x = Math.floor(x / SYLLABLES.length);
  }
  return w;
};
const TAIL_CDF = (() => {
  const cdf = new Float64Array(TAIL_SIZE);
  let sum = 0;
  for (let k = 0; k < TAIL_SIZE; k++) cdf[k] = sum += 1 / (k + 1);
  for (let k = 0; k < TAIL_SIZE; k++) cdf[k] /= sum;
  return cdf;
})();
function zipf(r: () => number): number {
  const u = r();
  let lo = 0;
  let hi = TAIL_SIZE - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (TAIL_CDF[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The words of memory number `i` (deterministic: the same i always gives the same memory). */
function memoryWords(i: number, words: number): string[] {
  const r = rng(0x5a9e ^ Math.imul(i + 1, 0x9e3779b1));
  return Array.from({ length: words }, () => (r() < 0.45 ? WORDS[Math.floor(r() * WORDS.length)] : tailWord(zipf(r))));
}

/**
 * Memory number `i`: `words` words of topic vocabulary and long-tail terms; every tenth also has Chinese. About
 * 170 characters, the size of a typical saved note.
 */
export function syntheticText(i: number, words = 24): string {
  const parts = memoryWords(i, words);
  if (i % 10 === 0) {
    const r = rng(i * 7 + 3);
    parts.push(Array.from({ length: 8 }, () => ZH[Math.floor(r() * ZH.length)]).join(""));
  }
  return `${parts.join(" ")} (#${i})`;
}

/** A search about memory number `i`: `words` of its words, in another order (what someone recalling it types). */
export function syntheticQuery(i: number, r: () => number, words = 5): string {
  const all = memoryWords(i, 24);
  const picked = Array.from({ length: words }, () => all[Math.floor(r() * all.length)]);
  return [...new Set(picked)].join(" ");
}

let tailRanks: Map<string, number> | null = null;

/** The rarest word of a text (by its rank in the long tail): what a substring search is given. */
export function keywordOf(text: string): string {
  tailRanks ??= new Map(Array.from({ length: TAIL_SIZE }, (_, k) => [tailWord(k), k]));
  const words = text.split(" ");
  // A long-tail word, the rarer the better; failing that the longest topic word; the tail's 50 most common words
  // last. ("a" or "yo", in most memories, would return most of the graph: at 100k a 20 MB reply, which the MCP SDK
  // client under Deno does not survive: "Connection closed".)
  const rank = (w: string) => {
    const k = tailRanks!.get(w);
    return k === undefined ? w.length - 1000 : k >= 50 ? k : k - 2000;
  };
  return words.reduce((best, w) => (rank(w) > rank(best) ? w : best));
}

/**
 * JSONL lines for memories number `from` … `to - 1` in `project`, with increasing creation times;
 * `syntheticJsonl(n, project)` is memories 0 … n-1.
 */
export function syntheticJsonl(n: number, project: string): string[];
export function syntheticJsonl(from: number, to: number, project: string): string[];
export function syntheticJsonl(a: number, b: number | string, c?: string): string[] {
  const [from, to, project] = typeof b === "string" ? [0, a, b] : [a, b, c!];
  const t0 = Date.parse("2025-01-01T00:00:00Z");
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    out.push(JSON.stringify({
      project,
      kind: i % 7 === 0 ? "decision" : "note",
      content: syntheticText(i),
      tags: i % 5 === 0 ? ["bench"] : [],
      created_at: new Date(t0 + i * 60_000).toISOString(),
    }));
  }
  return out;
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => String(cell).padEnd(widths[c])).join("  ");
    return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
  }).join("\n");
}
