/**
 * What the container checks share: the container CLI, the run script with an isolated environment, a raw JSON-RPC
 * client that keeps every byte of stdout, and a view of the processes inside a container (from /proc: the image
 * carries no ps).
 */
import assert from "node:assert/strict";
import { runCommand, type RunResult } from "../support/process.ts";
import { type RpcMessage, RpcProcess, type ToolResult } from "../support/rpc.ts";

export const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

function required(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`${name} is not set: run the container checks with \`deno task test:container\``);
  return v;
}

/** Set by tests/container/run.ts. */
export const CLI = required("SAGE_CT_CLI");
export const IMAGE = required("SAGE_CT_IMAGE");
/** SAGE_BUILD_ARGS for the run script's builds: the offline variant, or nothing (the real build) for a given image. */
export const BUILD_ARGS = Deno.env.get("SAGE_CT_BUILD_ARGS") ?? "";
/** True when the image under test was given (SAGE_TEST_IMAGE: the release workflow's real image), not built here. */
export const GIVEN = Deno.env.get("SAGE_CT_GIVEN") === "1";
/** The embedding width of the image's bundled model. */
export const DIMENSIONS = Number(Deno.env.get("SAGE_CT_DIMENSIONS") ?? 32);
/** The registry on loopback (host:port) and the registries.conf that lets podman use it over plain HTTP. */
export const REGISTRY = Deno.env.get("SAGE_CT_REGISTRY") ?? "";
export const REGISTRIES_CONF = Deno.env.get("CONTAINERS_REGISTRIES_CONF") ?? "";
export const ROOT = required("SAGE_CT_ROOT");
/** Every volume and container the checks make starts with this, so run.ts can remove them all afterwards. */
export const PREFIX = required("SAGE_CT_PREFIX");
/** The isolated HOME the run script and Claude Code see (it has a .claude folder, as a real one would). */
export const HOME = `${ROOT}/home`;

/**
 * The run script under test: run_sage_single.sh, or with SAGE_TEST_SCRIPT=ps1 run_sage_single.ps1 under PowerShell 7
 * (pwsh), through the same checks.
 */
export const PS1 = Deno.env.get("SAGE_CT_SCRIPT") === "ps1";
export const SCRIPT = PS1 ? `${REPO}/run_sage_single.ps1` : `${REPO}/run_sage_single.sh`;
/** The command line that runs the script: what `claude mcp add sage -- …` registers. */
export const SCRIPT_COMMAND = PS1 ? ["pwsh", "-NoProfile", "-NonInteractive", "-File", SCRIPT] : [SCRIPT];
/** Where the long-lived container sees Claude Code's folder: the host path (sh), or /mnt/claude (ps1, as on Windows). */
export const CLAUDE_MOUNT = PS1 ? "/mnt/claude" : `${HOME}/.claude`;

/** A finished command: exit code and output. */
export type Output = RunResult;

/** Runs the container CLI to completion. */
export async function cli(args: string[], stdin?: string): Promise<Output> {
  return await runCommand(CLI, args, { env: Deno.env.toObject(), cwd: Deno.cwd(), stdin });
}

/** Like cli(), but the command must succeed; returns stdout. */
export async function cliOk(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `${CLI} ${args.join(" ")} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

let counter = 0;
/** A new volume name (the volume itself appears on first use). */
export function newVolume(tag: string): string {
  return `${PREFIX}${tag}-${++counter}`;
}

export function containerOf(volume: string): string {
  return `sage-${volume}`;
}

/** The environment a user's shell would give the run script, isolated: our image, our volume, our HOME. */
export function scriptEnv(volume: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME,
    TMPDIR: ROOT,
    SAGE_CONTAINER_CLI: CLI,
    SAGE_IMAGE: IMAGE,
    SAGE_VOLUME: volume,
    SAGE_BUILD_ARGS: BUILD_ARGS,
    ...(REGISTRIES_CONF ? { CONTAINERS_REGISTRIES_CONF: REGISTRIES_CONF } : {}),
    ...(PS1 ? { POWERSHELL_TELEMETRY_OPTOUT: "1", POWERSHELL_UPDATECHECK: "Off" } : {}),
    ...extra,
  };
}

/** Runs `run_sage_single.sh args…` to completion. */
export async function runScript(
  args: string[],
  options: { volume: string; stdin?: string; cwd?: string; env?: Record<string, string> },
): Promise<Output> {
  return await runCommand(SCRIPT_COMMAND[0], [...SCRIPT_COMMAND.slice(1), ...args], {
    env: scriptEnv(options.volume, options.env),
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin,
  });
}

/** `claude mcp add sage -- <run script>` in `cwd` with exactly `env`; then `claude mcp list` must show Connected. */
export async function assertClaudeConnected(env: Record<string, string>, cwd: string): Promise<void> {
  const claude = [`${REPO}/.tools/bin/claude`, ...(Deno.env.get("PATH") ?? "").split(":").map((d) => `${d}/claude`)]
    .find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
  assert.ok(claude, "the Claude Code CLI is not installed: run scripts/setup --dev");
  const run = (args: string[]) => runCommand(claude, args, { env: { ...env, DISABLE_AUTOUPDATER: "1" }, cwd });
  const add = await run(["mcp", "add", "sage", "--", ...SCRIPT_COMMAND]);
  assert.equal(add.code, 0, add.stderr + add.stdout);
  const list = await run(["mcp", "list"]);
  assert.equal(list.code, 0, list.stderr + list.stdout);
  const line = list.stdout.split("\n").find((l) => l.startsWith("sage:"));
  assert.ok(line, `sage missing from claude mcp list:\n${list.stdout}`);
  assert.match(line, /Connected/, line);
  assert.doesNotMatch(line, /Failed|✗/, line);
}

/** The value of one label of a local image ("" when it has none). */
export async function imageLabel(image: string, label: string): Promise<string> {
  const labels = JSON.parse(await cliOk(["image", "inspect", "-f", "{{json .Config.Labels}}", image])) ?? {};
  return labels[label] ?? "";
}

// ---- JSON-RPC over a child's STDIO -------------------------------------------------------------------------------

export type { RpcMessage, ToolResult };

/** The run script (or any command) spoken to as Claude Code does, with the checks' helpers on top. */
export class Rpc extends RpcProcess {
  #nextId = 1;

  constructor(command: string, args: string[], options: { env: Record<string, string>; cwd?: string }) {
    super(command, args, { env: options.env, cwd: options.cwd ?? ROOT });
  }

  /** The run script (default command: serve) for this volume. */
  static script(volume: string, options: { args?: string[]; cwd?: string; env?: Record<string, string> } = {}): Rpc {
    const [command, ...args] = [...SCRIPT_COMMAND, ...(options.args ?? [])];
    return new Rpc(command, args, { env: scriptEnv(volume, options.env), cwd: options.cwd });
  }

  /** Sends a request (the next id) and waits for its reply. */
  request(method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<RpcMessage> {
    return this.call(this.#nextId++, method, params, timeoutMs);
  }

  /** The MCP handshake; returns ms from spawn to the `initialize` reply. */
  async initialize(timeoutMs = 120_000): Promise<number> {
    const r = await this.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "sage-container-test", version: "1.0.0" },
    }, timeoutMs);
    const ms = performance.now() - this.spawnedAt;
    assert.ok(r.result, `initialize failed: ${JSON.stringify(r)}\n${this.stderr}`);
    await this.notify("notifications/initialized");
    return ms;
  }

  /** Calls a tool; the tool must succeed. */
  async tool(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
    const r = await this.request("tools/call", { name, arguments: args });
    assert.ok(r.result, `${name}: ${JSON.stringify(r.error)}\n${this.stderr}`);
    const result = r.result as unknown as ToolResult;
    assert.ok(!result.isError, `${name} failed: ${result.content[0]?.text}\n${this.stderr}`);
    return result;
  }

  /** Saves a new note (not one Sage considers a duplicate of an earlier one); returns its id. */
  async save(content: string): Promise<number> {
    const r = await this.tool("save_memory", { content, kind: "note" });
    assert.equal(r.structuredContent?.duplicate, false, `saved as a duplicate: ${JSON.stringify(r.structuredContent)}`);
    return r.structuredContent!.id as number;
  }

  /** Ids of the memories a search returns. */
  async search(query: string, extra: Record<string, unknown> = {}): Promise<number[]> {
    const r = await this.tool("search_memory", { query, limit: 100, ...extra });
    const hits = r.structuredContent?.hits as { id: number }[] | undefined;
    assert.ok(Array.isArray(hits), `search_memory returned no hit list: ${JSON.stringify(r.structuredContent)}`);
    return hits.map((h) => h.id);
  }

  /**
   * Asserts that stdout, from its first byte, is nothing but newline-terminated JSON-RPC 2.0 messages in valid UTF-8
   * (a banner, a log line or a PostgreSQL message would fail it). Returns how many messages there were.
   */
  checkStdout(): number {
    const bytes = this.stdout();
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    assert.ok(text.length > 0, `nothing on stdout; stderr:\n${this.stderr}`);
    assert.equal(text[0], "{", `stdout does not start with a JSON-RPC message: ${JSON.stringify(text.slice(0, 200))}`);
    assert.ok(text.endsWith("\n"), `stdout ends in a partial line: ${JSON.stringify(text.slice(-200))}`);
    const lines = text.slice(0, -1).split("\n");
    for (const line of lines) {
      let m: RpcMessage;
      try {
        m = JSON.parse(line);
      } catch {
        throw new assert.AssertionError({
          message: `a non-JSON line on stdout: ${JSON.stringify(line.slice(0, 300))}`,
        });
      }
      assert.equal(m.jsonrpc, "2.0", `not a JSON-RPC 2.0 message on stdout: ${line.slice(0, 300)}`);
    }
    return lines.length;
  }
}

// ---- inside a container ----------------------------------------------------------------------------------------

export interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string;
}

/** Every process in the container, read from /proc (through `exec`, which shows up itself as a `sh`). */
export async function processes(container: string): Promise<Proc[]> {
  const script = 'for d in /proc/[0-9]*; do s=$(cat "$d/stat" 2>/dev/null) || continue; ' +
    'c=$(tr "\\0" " " < "$d/cmdline" 2>/dev/null); printf "%s\\t%s\\n" "${s#*) }" "${d#/proc/} $c"; done';
  const out = await cliOk(["exec", container, "sh", "-c", script]);
  return out.trim().split("\n").filter(Boolean).map((line) => {
    const [stat, rest] = line.split("\t");
    const [state, ppid] = stat.split(" ");
    const sp = rest.indexOf(" ");
    return { pid: Number(rest.slice(0, sp)), ppid: Number(ppid), state, cmdline: rest.slice(sp + 1).trim() };
  });
}

/** Postmasters: `postgres` processes started with -D (backends rename themselves to "postgres: …"). */
export function postmasters(procs: Proc[]): Proc[] {
  return procs.filter((p) => /\/bin\/postgres\s.*-D\s/.test(p.cmdline));
}

/** Waits until `check` passes (or throws its last error after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (true) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** The PostgreSQL log in a container's volume. */
export async function postgresLog(container: string): Promise<string> {
  return await cliOk(["exec", container, "cat", "/var/lib/sage/logs/postgresql.log"]);
}

/** The PostgreSQL log in a volume no container is using (read by a throwaway container). */
export async function volumeLog(volume: string): Promise<string> {
  return await cliOk([
    "run",
    "--rm",
    "--network",
    "none",
    "--entrypoint",
    "cat",
    "-v",
    `${volume}:/var/lib/sage`,
    IMAGE,
    "/var/lib/sage/logs/postgresql.log",
  ]);
}

/**
 * How the last start of PostgreSQL in this log found its data: "clean" after an orderly shutdown (or initdb),
 * "recovered" after a crash (it replayed the WAL).
 */
export function lastStart(log: string): "clean" | "recovered" | "unknown" {
  const lines = log.split("\n");
  let from = 0;
  lines.forEach((l, i) => {
    if (/LOG:\s+starting PostgreSQL/.test(l)) from = i;
  });
  const after = lines.slice(from).join("\n");
  if (/database system was (interrupted|not properly shut down)/.test(after)) return "recovered";
  if (/database system was shut down at/.test(after)) return "clean";
  return "unknown";
}
