/**
 * The fuzz loop (started by tests/fuzz/run.ts, which prepares a throwaway cluster and the tiny model): random and
 * mutated input to real Sage processes until the deadline, with the invariants checked after every case.
 *
 * Kinds of case, each from its own seed:
 * - mcp: 1–4 lines (tool calls with bent arguments, other methods, notifications, broken and non-JSON lines, now and
 *   then one over the size limit) to a long-running `sage serve`; then it must still answer ping, every request must
 *   get exactly one reply, stdout must hold nothing but JSON-RPC, and (checked every 25 cases and at the end) the
 *   memories in its database must be exactly those whose save was acknowledged, minus those whose delete was.
 * - eof: a fresh `sage serve` gets a few lines and then EOF (often mid-line), or its client stops reading stdout:
 *   it must exit 0 within 15 s with clean stdout.
 * - hook: `sage hook <event>` with random input (a generated transcript with hostile lines, a FIFO, a folder, a
 *   device, garbage, another event) directly and through a running server: exit 0 within the event's deadline,
 *   nothing on stderr, stdout empty or exactly one line of Claude Code's hook JSON.
 * - socket: random bytes to the running server's hook socket: it must go on answering.
 * A failure prints its seed: `deno task fuzz --seed <seed> --cases 1 --kind <kind>` runs that case alone.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../lib/config.ts";
import { hookSocketPath } from "../../lib/hooks/socket.ts";
import { admin, dbName, freshDatabase, sageArgs, sageEnv, tempDir } from "../support/harness.ts";
import { INITIALIZE_PARAMS } from "../support/mcp_client.ts";
import { frame, HOOK_EVENTS, Rand, str, transcript, value } from "./gen.ts";

const { values: opts } = parseArgs({
  args: Deno.args,
  options: {
    deadline: { type: "string" },
    seed: { type: "string" },
    cases: { type: "string" },
    kind: { type: "string" },
  },
});
const deadline = Number(opts.deadline);
const runSeed = opts.seed ? Number(opts.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const maxCases = opts.cases ? Number(opts.cases) : Infinity;
const onlyKind = opts.kind;
const KINDS: [string, number][] = [["mcp", 0.66], ["hook", 0.24], ["eof", 0.05], ["socket", 0.05]];
const DEADLINES: Record<string, number> = { UserPromptSubmit: 10_000, SessionStart: 15_000 };
const enc = new TextEncoder();
/** Time left for waiting in a case: the run ends by its deadline, whatever a case is doing. */
const left = () => Math.max(1_000, deadline - 5_000 - Date.now());
/** Hooks cut short by the end of the run (not failures: they had not reached their own deadline). */
let cut = 0;

interface Failure {
  n: number;
  seed: number;
  kind: string;
  what: string;
}
const failures: Failure[] = [];
const counts: Record<string, number> = { mcp: 0, hook: 0, eof: 0, socket: 0 };

/** `sage serve` on raw pipes: every stdout line is checked as it comes; replies are matched by id. */
class Server {
  readonly child: Deno.ChildProcess;
  /** What was wrong with stdout (not JSON-RPC, a reply twice, a reply to nothing). */
  readonly problems: string[] = [];
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<number, (m: Record<string, unknown>) => void>();
  readonly #expected = new Set<number>();
  readonly #maybe = new Set<number>();
  #reader: Promise<void>;
  #stderr = "";
  #nextId = 1;

  constructor(env: Record<string, string>, cwd: string) {
    const { command, args } = sageArgs(["serve"]);
    this.child = new Deno.Command(command, {
      args,
      env: sageEnv(env),
      clearEnv: true,
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#reader = this.#read();
    this.#drainStderr();
  }

  async #drainStderr(): Promise<void> {
    for await (const c of this.child.stderr) this.#stderr = (this.#stderr + new TextDecoder().decode(c)).slice(-4000);
  }

  get stderr(): string {
    return this.#stderr;
  }

  id(): number {
    return this.#nextId++;
  }

  async #read(): Promise<void> {
    const dec = new TextDecoder("utf-8", { fatal: true });
    let buf = new Uint8Array(0);
    try {
      for await (const chunk of this.child.stdout) {
        const all = new Uint8Array(buf.length + chunk.length);
        all.set(buf);
        all.set(chunk, buf.length);
        let start = 0;
        for (let nl = all.indexOf(10); nl >= 0; nl = all.indexOf(10, start)) {
          this.#line(all.subarray(start, nl), dec);
          start = nl + 1;
        }
        buf = all.slice(start);
      }
    } catch {
      // the client stopped reading (eof cases)
    }
    if (buf.length) {
      this.problems.push(`stdout ends without a newline: ${JSON.stringify(dec.decode(buf).slice(0, 200))}`);
    }
  }

  #line(bytes: Uint8Array, dec: TextDecoder): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(dec.decode(bytes));
    } catch {
      this.problems.push(`stdout line is not JSON: ${new TextDecoder().decode(bytes).slice(0, 200)}`);
      return;
    }
    if (m?.jsonrpc !== "2.0") this.problems.push(`stdout line is not JSON-RPC 2.0: ${JSON.stringify(m).slice(0, 200)}`);
    // Only the run's own ids are tracked (positive integers); null or odd ids answer lines that were not requests.
    if (typeof m.id !== "number" || !Number.isSafeInteger(m.id) || m.id <= 0) return;
    if (this.#expected.delete(m.id)) this.#waiting.get(m.id)?.(m);
    else if (!this.#maybe.delete(m.id)) this.problems.push(`a reply to no request (or a second one): id ${m.id}`);
  }

  /** Writes bytes; false when the server stopped reading within `ms`. */
  async send(bytes: Uint8Array, ms = 30_000): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      this.#writer.write(bytes).then(() => true, () => false),
      new Promise<false>((r) => timer = setTimeout(() => r(false), ms)),
    ]);
    clearTimeout(timer);
    return ok;
  }

  /** The reply to request `id` (registered before sending), or null after `ms`. */
  expect(id: number, ms = Math.min(30_000, left())): Promise<Record<string, unknown> | null> {
    this.#expected.add(id);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      this.#waiting.set(id, (m) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(m);
      });
    });
  }

  /** A line that may or may not be answered under this id (an invalid request that carries it). */
  allow(id: number): void {
    this.#maybe.add(id);
  }

  async request(
    method: string,
    params: unknown = {},
    ms = Math.min(30_000, left()),
  ): Promise<Record<string, unknown> | null> {
    const id = this.id();
    const reply = this.expect(id, ms);
    if (!(await this.send(enc.encode(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n")))) return null;
    return await reply;
  }

  async alive(): Promise<boolean> {
    const r = await this.request("ping", {}, Math.min(15_000, left()));
    return !!r && typeof r.result === "object";
  }

  /** Closes stdin; the exit status, or null when it is still running after `ms` (then it is killed). */
  async close(ms = 15_000): Promise<Deno.CommandStatus | null> {
    await this.#writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.child.status,
      new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
    ]);
    clearTimeout(timer);
    if (!status) this.kill();
    await this.#reader;
    return status;
  }

  kill(): void {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // gone
    }
  }

  /** Stops reading stdout: every later write of the server's is a broken pipe. */
  async hangUp(): Promise<void> {
    await this.child.stdout.cancel().catch(() => {});
  }
}

async function start(env: Record<string, string>, cwd: string): Promise<Server> {
  const s = new Server(env, cwd);
  const init = await s.request("initialize", INITIALIZE_PARAMS, 60_000);
  if (!init?.result) throw new Error(`sage serve did not initialise: ${s.stderr}`);
  await s.send(enc.encode(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n"));
  return s;
}

// ---- the world the cases run in ----------------------------------------------------------------------------

const base = await tempDir("fuzz-");
await Deno.chmod(base, 0o755);
const project = `${base}/repo`;
await Deno.mkdir(`${project}/.git`, { recursive: true });
const mcpDb = await freshDatabase(); // only the long-running server writes here: its counts are checked
const hookDb = await freshDatabase();
const eofDb = await freshDatabase();
const serverHome = `${base}/home-served`; // hooks here go through a running server
const directHome = `${base}/home-direct`; // and here directly to the database
const fifo = `${base}/transcript.fifo`;
await new Deno.Command("mkfifo", { args: [fifo] }).output();
const mcpEnv = { DATABASE_URL: mcpDb, SAGE_PROJECT: "/fuzz/a", SAGE_HOME: `${base}/home-mcp` };
let mcp = await start(mcpEnv, project);
let hookServer = await start({ DATABASE_URL: hookDb, SAGE_HOME: serverHome }, project);
const hookSocket = hookSocketPath(loadConfig({ "db-url": hookDb, home: serverHome }, {}));
/** Ids whose save was acknowledged and not deleted since. */
const acked = new Set<number>();

// ---- cases -------------------------------------------------------------------------------------------------

const OVERSIZED = 17 * 1024 * 1024;

async function mcpCase(r: Rand): Promise<string | null> {
  const waits: Promise<string | null>[] = [];
  for (let i = 0, n = 1 + r.int(4); i < n; i++) {
    const id = mcp.id();
    if (r.chance(0.002)) {
      // One line over the limit: the server skips it, answers with an error, and goes on.
      const line = new Uint8Array(OVERSIZED).fill(0x61);
      line.set(
        enc.encode(
          `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"save_memory","arguments":{"content":"`,
        ),
      );
      line[line.length - 1] = 10;
      const reply = mcp.expect(id);
      if (!(await mcp.send(line, 60_000))) return "the server stopped reading an oversized line";
      waits.push(reply.then((m) => (m?.error ? null : `oversized line: no error reply (${JSON.stringify(m)})`)));
      continue;
    }
    const f = frame(r, id);
    if (f.alsoId) mcp.allow(f.alsoId); // a stray "response" that is not a valid one is answered as invalid
    const reply = f.request ? mcp.expect(id) : (mcp.allow(id), null);
    if (!(await mcp.send(f.line))) return "the server stopped reading its stdin";
    if (reply) waits.push(reply.then((m) => account(f.tool, m)));
  }
  for (const problem of await Promise.all(waits)) if (problem) return problem;
  if (!(await mcp.alive())) return "no longer answers ping";
  return mcp.problems.shift() ?? null;
}

/** Records what a reply acknowledged (saves, deletes); a missing reply is a failure. */
function account(tool: string | undefined, m: Record<string, unknown> | null): string | null {
  if (!m) return `a request got no reply in time (${tool ?? "other method"})`;
  const result = m.result as { isError?: boolean; structuredContent?: Record<string, unknown> } | undefined;
  if (!result || result.isError) return null;
  const data = result.structuredContent ?? {};
  if ((tool === "save_memory" || tool === "save_conversation") && typeof data.id === "number") acked.add(data.id);
  if (tool === "delete_memory") { for (const id of (data.deleted as number[]) ?? []) acked.delete(id); }
  return null;
}

async function countsMatch(): Promise<string | null> {
  const stored: number[] = await admin(
    async (c) => (await c.query("SELECT id::int FROM sage.memories ORDER BY id")).rows.map((x) => x.id),
    dbName(mcpDb),
  ).catch((err) => (/does not exist/.test(err.message) ? [] : Promise.reject(err)));
  const extra = stored.filter((id) => !acked.has(id));
  const missing = [...acked].filter((id) => !stored.includes(id));
  if (!extra.length && !missing.length) return null;
  return `stored memories differ from acknowledged saves: not acknowledged ${JSON.stringify(extra.slice(0, 10))}, ` +
    `acknowledged but missing ${JSON.stringify(missing.slice(0, 10))}`;
}

async function eofCase(r: Rand): Promise<string | null> {
  const s = await start({ DATABASE_URL: eofDb, SAGE_PROJECT: "/fuzz/eof" }, project);
  const next = () => {
    const id = s.id();
    s.allow(id); // whether these are answered before the end is up to timing
    return id;
  };
  for (let i = 0, n = r.int(4); i < n; i++) {
    const f = frame(r, next());
    if (f.alsoId) s.allow(f.alsoId);
    if (!(await s.send(f.line))) break;
  }
  const hangUp = r.chance(0.3);
  if (hangUp) {
    await s.hangUp();
    await s.send(enc.encode(JSON.stringify({ jsonrpc: "2.0", id: next(), method: "ping" }) + "\n"));
    await new Promise((res) => setTimeout(res, 200));
  } else if (r.chance(0.6)) {
    await s.send(enc.encode(`{"jsonrpc":"2.0","id":${next()},"method":"tools/call","params":{"name":"save_memo`));
  }
  const status = await s.close(15_000);
  if (!status) return `${hangUp ? "with stdout closed" : "after EOF"} the server was still running 15 s later`;
  if (status.code !== 0) return `exit code ${status.code}: ${s.stderr.slice(-500)}`;
  if (/Uncaught|\n\s+at /.test(s.stderr)) return `a stack trace on stderr: ${s.stderr.slice(-500)}`;
  return s.problems[0] ?? null;
}

async function hookCase(r: Rand): Promise<string | null> {
  const event = r.chance(0.92) ? r.pick(HOOK_EVENTS) : str(r, 1 + r.int(12)).replace(/\0/g, "");
  const session = r.chance(0.85) ? crypto.randomUUID() : str(r, r.int(30));
  let path: string | unknown = `${base}/t-${r.int(1e9)}.jsonl`;
  const where = r.float();
  const regularFile = where < 0.65;
  if (regularFile) await Deno.writeFile(path as string, transcript(r, typeof session === "string" ? session : "s"));
  else if (where < 0.72) path = fifo;
  else if (where < 0.77) path = base; // a folder
  else if (where < 0.82) path = "/dev/zero";
  else if (where < 0.9) path = `${base}/missing.jsonl`;
  else path = value(r);
  const input: Record<string, unknown> = {
    hook_event_name: event,
    session_id: session,
    transcript_path: path,
    cwd: r.chance(0.8) ? project : r.pick([`${base}/nowhere`, "relative", "", str(r, 20)]),
    prompt: str(r, r.chance(0.2) ? 5 : r.int(2000)),
    source: r.pick(["startup", "resume", "clear", "compact", str(r, 5)]),
    trigger: r.pick(["manual", "auto", undefined]),
    last_assistant_message: r.chance(0.3) ? str(r, r.int(500)) : undefined,
  };
  if (r.chance(0.1)) input[str(r, 6)] = value(r);
  const wellFormed = regularFile && typeof session === "string" && /^[0-9a-f-]{36}$/.test(session) &&
    input.cwd === project && HOOK_EVENTS.includes(event);
  const stdin = r.chance(0.88) || wellFormed
    ? enc.encode(JSON.stringify(input))
    : r.chance(0.5)
    ? enc.encode(JSON.stringify(value(r)))
    : enc.encode(str(r, r.int(500)));
  const home = r.chance(0.5) ? serverHome : directHome;
  const logFile = `${home}/logs/hooks.log`;
  const logBefore = (await Deno.stat(logFile).catch(() => null))?.size ?? 0;
  const limit = DEADLINES[event] ?? 60_000;
  const { command, args } = sageArgs(["hook", event]);
  const t0 = performance.now();
  const child = new Deno.Command(command, {
    args,
    env: sageEnv({ DATABASE_URL: hookDb, SAGE_HOME: home }),
    clearEnv: true,
    cwd: project,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(Math.min(limit + 5_000, left())),
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(stdin).catch(() => {});
  await w.close().catch(() => {});
  const out = await child.output();
  const ms = performance.now() - t0;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.signal && ms < limit) {
    cut++; // the run's end came first
    return null;
  }
  if (out.signal) return `${event} was still running after ${Math.round(ms)} ms (killed)`;
  if (ms > limit) return `${event} took ${Math.round(ms)} ms; Claude Code gives it ${limit}`;
  if (out.code !== 0) return `${event} exited ${out.code}`;
  if (stderr) return `${event} wrote to stderr: ${stderr.slice(0, 300)}`;
  // Hostile lines in a transcript are skipped, never a reason to fail (and capture nothing from then on).
  if (wellFormed) {
    const logged = new TextDecoder().decode(
      (await Deno.readFile(logFile).catch(() => new Uint8Array())).slice(logBefore),
    );
    const failed = logged.split("\n").find((l) => l.includes("hook failed"));
    if (failed) return `${event} failed on well-formed input: ${failed.slice(0, 400)}`;
  }
  if (stdout === "") return null;
  if (!stdout.endsWith("\n") || stdout.indexOf("\n") !== stdout.length - 1) return `${event}: not one line: ${stdout}`;
  try {
    const v = JSON.parse(stdout);
    const h = v?.hookSpecificOutput;
    const okShape = Object.keys(v).length === 1 && h?.hookEventName === event &&
      typeof h.additionalContext === "string" && ["SessionStart", "UserPromptSubmit"].includes(event);
    return okShape ? null : `${event}: not Claude Code's hook JSON: ${stdout.slice(0, 300)}`;
  } catch {
    return `${event}: stdout is not JSON: ${stdout.slice(0, 300)}`;
  }
}

async function socketCase(r: Rand): Promise<string | null> {
  try {
    const conn = await Deno.connect({ transport: "unix", path: hookSocket });
    const payload = r.chance(0.5)
      ? enc.encode(
        JSON.stringify({ event: r.pick([...HOOK_EVENTS, str(r, 8)]), input: str(r, r.int(300)), project: value(r) }) +
          (r.chance(0.8) ? "\n" : ""),
      )
      : enc.encode(str(r, r.int(3000)));
    await conn.write(payload).catch(() => {});
    if (r.chance(0.5)) await conn.closeWrite().catch(() => {});
    const buf = new Uint8Array(65536);
    await Promise.race([conn.read(buf).catch(() => null), new Promise((res) => setTimeout(res, 5_000))]);
    conn.close();
  } catch {
    // no socket (yet): nothing to check but the server
  }
  return (await hookServer.alive()) ? null : "the server stopped answering after bytes on its hook socket";
}

// ---- the loop ------------------------------------------------------------------------------------------------

const t0 = performance.now();
let n = 0;
let lastCheck = 0;
const kinds = onlyKind ? KINDS.filter(([k]) => k === onlyKind) : KINDS;
const total = kinds.reduce((s, [, w]) => s + w, 0);
const stopAt = deadline - 8_000; // room for the last checks and shutting the servers down
while (n < maxCases && Date.now() < stopAt) {
  const seed = opts.cases === "1" && opts.seed ? runSeed : (runSeed + Math.imul(n + 1, 0x9e3779b1)) >>> 0;
  const r = new Rand(seed);
  let pickAt = r.float() * total;
  const kind = kinds.find(([, w]) => (pickAt -= w) < 0)?.[0] ?? kinds[0][0];
  n++;
  counts[kind]++;
  let what: string | null;
  try {
    what = kind === "mcp"
      ? await mcpCase(r)
      : kind === "hook"
      ? await hookCase(r)
      : kind === "eof"
      ? await eofCase(r)
      : await socketCase(r);
  } catch (err) {
    what = `the harness failed: ${(err as Error).stack ?? err}`;
  }
  if (!what && kind === "mcp" && counts.mcp - lastCheck >= 25) {
    lastCheck = counts.mcp;
    what = await countsMatch();
  }
  if (what) {
    failures.push({ n, seed, kind, what });
    console.error(
      `FAIL case ${n} (${kind}, seed ${seed}): ${what}\n  reproduce: deno task fuzz --seed ${seed} --cases 1 --kind ${kind}`,
    );
    // Go on with servers in a known state.
    if (kind === "mcp") {
      mcp.kill();
      await mcp.close(1_000);
      mcp = await start(mcpEnv, project);
      // From here on, counted from what is stored now.
      acked.clear();
      const rows = await admin((c) => c.query("SELECT id::int FROM sage.memories"), dbName(mcpDb)).catch(() => null);
      for (const row of rows?.rows ?? []) acked.add(row.id);
    }
    if (kind === "socket") {
      hookServer.kill();
      hookServer = await start({ DATABASE_URL: hookDb, SAGE_HOME: serverHome }, project);
    }
  }
}

const finalCount = await countsMatch();
if (finalCount) failures.push({ n, seed: runSeed, kind: "mcp", what: finalCount });
for (const [name, s] of [["mcp", mcp], ["hook server", hookServer]] as const) {
  const status = await s.close(15_000);
  if (!status || status.code !== 0) {
    failures.push({ n, seed: runSeed, kind: "eof", what: `${name}: EOF did not end it cleanly` });
  }
  if (s.problems.length) failures.push({ n, seed: runSeed, kind: "mcp", what: `${name}: ${s.problems[0]}` });
}
const secs = ((performance.now() - t0) / 1000).toFixed(1);
const by = Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ");
console.log(
  `fuzz: ${n} cases in ${secs} s (${by}${cut ? `; ${cut} hook(s) cut by the end of the run` : ""}); ` +
    `${acked.size} memories acknowledged and stored; ${failures.length} failure(s); seed ${runSeed}`,
);
for (const f of failures) console.log(`  case ${f.n} (${f.kind}, seed ${f.seed}): ${f.what}`);
Deno.exit(failures.length ? 1 : 0);
