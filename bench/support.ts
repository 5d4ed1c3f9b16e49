/**
 * Shared by the benchmarks: a throwaway cluster, fresh databases, synthetic memories, statistics, and a
 * description of the machine. Every latency is reported as median and p95 over repeated runs.
 */
// @ts-types="@types/pg"
import pg from "pg";
import { loadConfig } from "../lib/config.ts";
import { clusterPaths, ensureCluster, stopCluster } from "../lib/db/cluster.ts";
import { configureLog } from "../lib/log.ts";

configureLog({ level: "warn" });

export const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

export interface Bench {
  root: string;
  socket: string;
  freshDatabase(): Promise<string>;
  close(): Promise<void>;
}

/** A private cluster in a temp folder, for the duration of a benchmark run. */
export async function startBench(): Promise<Bench> {
  const root = await Deno.makeTempDir({ prefix: "sage-bench-" });
  await Deno.chmod(root, 0o711); // the cluster may run as `postgres`
  const config = { ...loadConfig({ home: `${root}/home` }, {}), dbUrl: undefined };
  await ensureCluster(config);
  const socket = clusterPaths(`${root}/home`).socketDir;
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
    async close() {
      await stopCluster(config).catch(() => {});
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

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

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** What the numbers were measured on. */
export async function machine(): Promise<Record<string, unknown>> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.*)/)?.[1];
  return {
    cpu: cpu ?? "unknown",
    cores: navigator.hardwareConcurrency,
    memory_gib: round(Deno.systemMemoryInfo().total / 2 ** 30, 1),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    date: new Date().toISOString(),
  };
}

// ---- synthetic memories -------------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

/** A pseudo-random memory text of `words` words; every tenth is Chinese-flavoured. */
export function syntheticText(r: () => number, i: number, words = 24): string {
  const pick = () => WORDS[Math.floor(r() * WORDS.length)];
  const parts = Array.from({ length: words }, pick);
  if (i % 10 === 0) parts.push(Array.from({ length: 8 }, () => ZH[Math.floor(r() * ZH.length)]).join(""));
  return `${parts.join(" ")} (#${i})`;
}

/** JSONL lines for `n` synthetic memories in `project`, with increasing creation times. */
export function syntheticJsonl(n: number, project: string, seed = 1): string[] {
  const r = rng(seed);
  const t0 = Date.parse("2025-01-01T00:00:00Z");
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      project,
      kind: i % 7 === 0 ? "decision" : "note",
      content: syntheticText(r, i),
      tags: i % 5 === 0 ? ["bench"] : [],
      created_at: new Date(t0 + i * 60_000).toISOString(),
    }));
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => String(cell).padEnd(widths[c])).join("  ");
    return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
  }).join("\n");
}
