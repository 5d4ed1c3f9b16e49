/**
 * `deno task bench:capture [--model DIR] [--mb 50] [--runs 60]`: how a large transcript capture running in a
 * `sage serve` affects an interactive search_memory sent to the same server meanwhile. A Stop hook (a real `sage
 * hook` process, answered by the server over its socket) captures a transcript of about `--mb` MB: turns with a
 * 100 KB tool output each (read and parsed, then dropped) and a few sentences of answer (stored and embedded).
 * Searches go over MCP stdio one after the other, 50 ms apart, first on an idle server, then while the capture
 * runs. Prints median, p95 and max of both, and the capture's own time.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../lib/config.ts";
import { hookSocketPath } from "../lib/hooks/socket.ts";
import { childEnv, E5_MODEL, machine, round, sageArgs, startBench, stats } from "./support.ts";
import { Transcript } from "../tests/support/transcripts.ts";
import { text, toolUse } from "../tests/support/transcripts.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { model: { type: "string" }, mb: { type: "string" }, runs: { type: "string" } },
});
const model = values.model ?? E5_MODEL;
const megabytes = Number(values.mb ?? 50);
const runs = Number(values.runs ?? 60);
const SESSION = "5f0c7a1e-3b2d-4c6e-8a9f-0e1d2c3b4a59";

/** `sage serve` on raw pipes, with one request in flight at a time. */
class Server {
  readonly child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #next = 1;
  #waiting = new Map<number, (m: unknown) => void>();

  constructor(env: Record<string, string>, cwd: string) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: sageArgs("serve"),
      env,
      clearEnv: true,
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#read();
  }

  async #read(): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of this.child.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const m = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        this.#waiting.get(m.id)?.(m);
      }
    }
  }

  async request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const reply = new Promise<Record<string, unknown>>((r) => this.#waiting.set(id, r as (m: unknown) => void));
    await this.#writer.write(new TextEncoder().encode(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`));
    return await reply;
  }

  async notify(method: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${JSON.stringify({ jsonrpc: "2.0", method })}\n`));
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.child.status;
  }
}

async function writeTranscript(path: string, bytes: number): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const output = "x".repeat(100_000);
  const t = new Transcript(SESSION, { start: "2026-11-01T00:00:00Z" });
  let written = 0;
  let turns = 0;
  while (written < bytes) {
    t.prompt(`Question ${turns}: what did step ${turns} of the rollout change, and why was it needed?`);
    t.assistant([toolUse(`toolu_${turns}`, "Bash", { command: `deploy --step ${turns}` })], "tool_use");
    t.toolResult(`toolu_${turns}`, output);
    t.assistant(
      [text(
        `Step ${turns} moved service ${turns} to the new cluster. The old nodes ran out of memory under the nightly ` +
          `batch, so the service now runs on the larger machines with a connection pool of ${turns % 50 + 10}. ` +
          "The health checks pass, the dashboards show normal latency, and the rollback plan stays in the runbook.",
      )],
      "end_turn",
    );
    const chunk = new TextEncoder().encode(t.text());
    t.entries.length = 0;
    await file.write(chunk);
    written += chunk.length;
    turns++;
  }
  file.close();
  return turns;
}

const bench = await startBench();
try {
  const url = await bench.freshDatabase();
  const home = `${bench.root}/sage-home`;
  const project = `${bench.root}/repo`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  const transcript = `${bench.root}/transcript.jsonl`;
  const turns = await writeTranscript(transcript, megabytes * 1e6);
  const size = (await Deno.stat(transcript)).size;
  console.error(`transcript: ${turns} turns, ${round(size / 1e6, 1)} MB`);

  const env = childEnv({ DATABASE_URL: url, SAGE_HOME: home, SAGE_EMBED_MODEL: model, SAGE_PROJECT: project });
  const server = new Server(env, project);
  await server.request("initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "bench", version: "1" },
  });
  await server.notify("notifications/initialized");
  const search = async () => {
    const t0 = performance.now();
    const r = await server.request("tools/call", {
      name: "search_memory",
      arguments: { query: "why did the rollout move the service to the new cluster", limit: 5 },
    });
    const ms = performance.now() - t0;
    if ((r.result as { isError?: boolean })?.isError || r.error) throw new Error(JSON.stringify(r).slice(0, 500));
    return ms;
  };
  // A few memories to find, and the model loaded.
  for (let i = 0; i < 20; i++) {
    await server.request("tools/call", {
      name: "save_memory",
      arguments: { content: `Rollout note ${i}: service ${i} moved to the new cluster after memory trouble.` },
    });
  }
  const socket = hookSocketPath(loadConfig({ "db-url": url, home }, {}));
  for (let i = 0; i < 200 && !(await Deno.stat(socket).then(() => true, () => false)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 0; i < 5; i++) await search();
  const idle: number[] = [];
  for (let i = 0; i < runs; i++) {
    idle.push(await search());
    await new Promise((r) => setTimeout(r, 50));
  }

  const t0 = performance.now();
  const hook = new Deno.Command(Deno.execPath(), {
    args: sageArgs("hook", "Stop"),
    env,
    clearEnv: true,
    cwd: project,
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const w = hook.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({
    hook_event_name: "Stop",
    session_id: SESSION,
    transcript_path: transcript,
    cwd: project,
  })));
  await w.close();
  let captureMs = 0;
  const done = hook.status.then(() => captureMs = performance.now() - t0);
  const during: number[] = [];
  while (!captureMs) {
    during.push(await search());
    await new Promise((r) => setTimeout(r, 50));
  }
  await done;
  const stored = await bench.client(url).then(async (c) => {
    const n = (await c.query("SELECT count(*)::int AS n FROM memories WHERE metadata ? 'turn_uuid'")).rows[0].n;
    await c.end();
    return n;
  });
  await server.close();

  const a = stats(idle);
  const b = stats(during);
  const row = (label: string, s: ReturnType<typeof stats>) =>
    `${label.padEnd(24)} ${String(s.n).padStart(5)}  ${String(s.median).padStart(8)}  ${String(s.p95).padStart(8)}  ${
      String(s.max).padStart(8)
    }`;
  console.log(`model: ${model}`);
  console.log(
    `capture: ${turns} turns, ${round(size / 1e6, 1)} MB in ${round(captureMs / 1000, 1)} s; stored ${stored}`,
  );
  console.log(
    `search_memory over MCP stdio, ms\n${"".padEnd(24)} ${"n".padStart(5)}  ${"median".padStart(8)}  ${
      "p95".padStart(8)
    }  ${"max".padStart(8)}`,
  );
  console.log(row("idle server", a));
  console.log(row("during the capture", b));
  console.log(
    JSON.stringify({ machine: await machine(), model, turns, bytes: size, captureMs, stored, idle: a, during: b }),
  );
} finally {
  await bench.close();
}
