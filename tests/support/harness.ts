/**
 * What every test file shares: the cluster and model that tests/run.ts prepared, a fresh database per call, a
 * memory service wired to it, and a way to run `sage` itself as a child process.
 */
import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { type Config, loadConfig } from "../../lib/config.ts";
import { type AppOptions, createService } from "../../lib/app.ts";
import { configureLog } from "../../lib/log.ts";
import type { MemoryService } from "../../lib/memory/service.ts";
import { runCommand, type RunResult } from "./process.ts";

export type { RunResult };

configureLog({ level: "warn" });

function required(name: string): string {
  const v = Deno.env.get(name);
  if (!v) {
    throw new Error(`${name} is not set: run the tests with \`deno task test\`, which prepares a database and a model`);
  }
  return v;
}

export const SOCKET = required("SAGE_TEST_SOCKET");
export const MODEL = required("SAGE_TEST_MODEL");
export const ROOT = required("SAGE_TEST_ROOT");
export const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Admin connection to the test cluster. */
export async function admin<T>(fn: (c: pg.Client) => Promise<T>, database = "postgres"): Promise<T> {
  const c = new pg.Client({ host: SOCKET, user: "sage", database });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let counter = 0;

/** A new, empty database; returns its URL. */
export async function freshDatabase(): Promise<string> {
  const name = `t_${Deno.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return databaseUrl(name);
}

export function databaseUrl(name: string): string {
  return `postgresql://sage@/${name}?host=${encodeURIComponent(SOCKET)}`;
}

export function dbName(url: string): string {
  const name = url.match(/^postgres(?:ql)?:\/\/[^/]*\/([^?]+)/)?.[1];
  if (!name) throw new Error(`no database name in ${url}`);
  return decodeURIComponent(name);
}

/** Raw SQL on a test database (by URL), bypassing Sage. */
export async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  return await admin(async (c) => (await c.query(text, values)).rows as T[], dbName(url));
}

/** A memory as the tests read it back from the database. */
export interface MemoryRow {
  id: number;
  project: string;
  session_id: string | null;
  kind: string;
  content: string;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** Every memory of a test database, oldest first. */
export async function memoryRows(url: string): Promise<MemoryRow[]> {
  return await sql<MemoryRow>(
    url,
    `SELECT id::int, project, session_id, kind, content, metadata,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
            updated_at::text AS updated_at
     FROM sage.memories ORDER BY created_at, id`,
  );
}

/** A temp folder under the test root. */
export async function tempDir(prefix = "t"): Promise<string> {
  return await Deno.makeTempDir({ dir: ROOT, prefix });
}

export interface TestService {
  service: MemoryService;
  url: string;
  config: Config;
  close(): Promise<void>;
}

/** A memory service on a fresh database with the tiny model (or none), scoped to `project`. */
export async function newService(
  options: { project?: string; model?: string | null; url?: string; env?: Record<string, string> } & AppOptions = {},
): Promise<TestService> {
  const url = options.url ?? await freshDatabase();
  const model = options.model === undefined ? MODEL : options.model;
  const config: Config = {
    ...loadConfig({ "db-url": url, ...(model ? { "embed-model": model } : {}) }, { ...options.env, HOME: ROOT }),
    modelPath: model ?? undefined,
    project: options.project ?? "/test/project",
  };
  const service = createService(config, options);
  return { service, url, config, close: () => service.close() };
}

/** Environment for a `sage` child process: explicit, since MCP's stdio transport passes only a few variables. */
export function sageEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? ROOT,
    SAGE_LOG_LEVEL: "warn",
    SAGE_EMBED_MODEL: MODEL,
    DENO_NO_UPDATE_CHECK: "1",
  };
  for (const k of ["DENO_DIR", "NODE_EXTRA_CA_CERTS", "DENO_TLS_CA_STORE"]) {
    const v = Deno.env.get(k);
    if (v) env[k] = v;
  }
  return { ...env, ...extra };
}

/** The command that runs this checkout's `sage` (what the README registers with Claude Code). */
export function sageArgs(args: string[]): { command: string; args: string[] } {
  return {
    command: Deno.execPath(),
    args: ["run", "--quiet", "--allow-all", "--config", `${REPO}/deno.json`, `${REPO}/main.ts`, ...args],
  };
}

/** Runs `sage <args>` to completion. */
export async function runSage(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string | Uint8Array; cwd?: string } = {},
): Promise<RunResult> {
  const { command, args: full } = sageArgs(args);
  return await runCommand(command, full, { env: sageEnv(options.env), cwd: options.cwd ?? ROOT, stdin: options.stdin });
}

/** The Claude Code CLI scripts/setup --dev installs (or one on PATH); the tests that use it fail without it. */
export function findClaude(): string {
  for (const p of [`${REPO}/.tools/bin/claude`, ...(Deno.env.get("PATH") ?? "").split(":").map((d) => `${d}/claude`)]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not here
    }
  }
  throw new Error("the Claude Code CLI is not installed: run scripts/setup --dev");
}

/** Runs `claude <args>` with exactly `env` (an isolated HOME, say), within two minutes. */
export async function claude(args: string[], env: Record<string, string>, cwd: string): Promise<RunResult> {
  const out = await new Deno.Command(findClaude(), {
    args,
    env,
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `claude mcp add sage -- <checkout>/sage serve` (the README's command), then `claude mcp list` must show Connected. */
export async function assertRegistersConnected(env: Record<string, string>, project: string): Promise<void> {
  const add = await claude(["mcp", "add", "sage", "--", `${REPO}/sage`, "serve"], env, project);
  assert.equal(add.code, 0, add.stderr + add.stdout);
  const list = await claude(["mcp", "list"], env, project);
  assert.equal(list.code, 0, list.stderr + list.stdout);
  const line = list.stdout.split("\n").find((l) => l.startsWith("sage:"));
  assert.ok(line, `sage missing from claude mcp list:\n${list.stdout}`);
  assert.match(line, /Connected/, line);
  assert.doesNotMatch(line, /Failed|✗/, line);
}
