/**
 * Capture under hostile or unlucky transcripts, through real `sage hook` processes (and a real `sage serve`):
 * lines that are JSON but not entries, a FIFO or a device where the transcript should be, a transcript larger than
 * one read. Capture must skip what it cannot use, never stop for good, and never hang a hook.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { hookSocketPath } from "../lib/hooks/socket.ts";
import { parseTranscript, TranscriptParser } from "../lib/memory/transcript.ts";
import { admin, dbName, freshDatabase, type RunResult, sageArgs, sageEnv, tempDir } from "./support/harness.ts";
import { connectSage, type SageClient } from "./support/mcp_client.ts";
import { appendTurn, mainSession, SESSION_ID, text, toolUse, Transcript } from "./support/transcripts.ts";

interface Setup {
  url: string;
  home: string;
  project: string;
  env: Record<string, string>;
}

async function setup(): Promise<Setup> {
  const url = await freshDatabase();
  const home = await tempDir("capture-");
  const project = `${home}/repo`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  return { url, home, project, env: { DATABASE_URL: url, SAGE_HOME: home } };
}

async function contents(url: string): Promise<string[]> {
  return await admin(
    async (c) =>
      (await c.query("SELECT content FROM sage.memories ORDER BY created_at, id")).rows.map((r) => r.content),
    dbName(url),
  );
}

/** `sage hook <event>` with `input`; killed (and reported as such) if it runs longer than `ms`. */
async function hook(s: Setup, event: string, input: Record<string, unknown>, ms = 60_000) {
  const { command, args } = sageArgs(["hook", event]);
  const t0 = performance.now();
  const child = new Deno.Command(command, {
    args,
    env: sageEnv(s.env),
    clearEnv: true,
    cwd: s.project,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(ms),
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({ hook_event_name: event, cwd: s.project, ...input })));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  const r: RunResult & { ms: number; killed: boolean } = {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - t0,
    killed: out.signal !== null,
  };
  return r;
}

function stopInput(path: string, session = SESSION_ID) {
  return { session_id: session, transcript_path: path, permission_mode: "default", stop_hook_active: false };
}

async function log(s: Setup): Promise<string> {
  return await Deno.readTextFile(`${s.home}/logs/hooks.log`).catch(() => "");
}

const HOSTILE_LINES = [
  "null",
  "42",
  '"a string"',
  "[]",
  "[null, 1]",
  "true",
  '{"type":"user"}',
  '{"type":"user","message":null}',
  '{"type":"user","message":"text"}',
  '{"type":"user","message":{"role":"user","content":5}}',
  '{"type":"user","message":{"role":"user","content":[null, 7, "x", {"type":"text","text":9}]}}',
  '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":{"a":1}}]}}',
  '{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","name":["Bash"],"input":"ls"}]}}',
  '{"type":"user","isSidechain":"yes","uuid":17,"timestamp":"not a time","message":{"role":"user","content":"odd prompt"}}',
  '{"type":"assistant","message":{"role":"assistant","content":"plain text answer","stop_reason":5}}',
  '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":3,"content":{"x":1},"is_error":"yes"}]}}',
  '{"type":"user","uuid":"same-uuid","timestamp":"2026-11-20T09:10:00Z","message":{"role":"user","content":"first prompt under one uuid"}}',
  '{"type":"assistant","message":{"role":"assistant","content":"first answer","stop_reason":"end_turn"}}',
  '{"type":"user","uuid":"same-uuid","timestamp":"2026-11-20T09:20:00Z","message":{"role":"user","content":"second prompt under the same uuid"}}',
  '{"type":"assistant","message":{"role":"assistant","content":"second answer","stop_reason":"end_turn"}}',
  '{"type":"user","uuid":"u-private","timestamp":"2026-11-20T09:30:00Z","message":{"role":"user","content":"<private>only this</private>"}}',
  '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"<private>and this</private>"}],"stop_reason":"end_turn"}}',
  // An id PostgreSQL cannot hold as text (NUL) nor JSON as Unicode (a lone surrogate): found by deno task fuzz.
  '{"type":"user","uuid":"nul\\u0000id\\ud800","timestamp":"2026-11-20T09:40:00Z","message":{"role":"user","content":"prompt under a NUL id"}}',
  '{"type":"assistant","message":{"role":"assistant","content":"answer under a NUL id","stop_reason":"end_turn"}}',
];

Deno.test("capture: parsing never throws on JSON that is not a transcript entry", () => {
  const bytes = new TextEncoder().encode(HOSTILE_LINES.join("\n") + "\n");
  const { turns, end } = parseTranscript(bytes);
  assert.equal(end, bytes.length);
  for (const t of turns) {
    assert.equal(typeof t.uuid, "string");
    assert.ok(!Number.isNaN(Date.parse(t.timestamp)), t.timestamp);
    assert.equal(typeof t.prompt, "string");
    assert.equal(typeof t.response, "string");
  }
});

Deno.test("capture: a transcript read slice by slice (any slice size) gives the turns of one whole read", () => {
  const bytes = new TextEncoder().encode(mainSession().t.text() + HOSTILE_LINES.join("\n") + '\n{"half": ');
  const whole = parseTranscript(bytes);
  for (const size of [1, 3, 64, 4096, 1 << 20]) {
    const parser = new TranscriptParser(0);
    const turns = [];
    for (let i = 0; i < bytes.length; i += size) turns.push(...parser.feed(bytes.subarray(i, i + size)));
    turns.push(...parser.finish());
    assert.deepEqual(
      turns.map((t) => ({ ...t, timestamp: t.uuid.startsWith("offset-") ? "" : t.timestamp })),
      whole.turns.map((t) => ({ ...t, timestamp: t.uuid.startsWith("offset-") ? "" : t.timestamp })),
      `slices of ${size} bytes`,
    );
    assert.equal(parser.end, whole.end);
  }
});

Deno.test("capture: lines that are JSON but not entries (null, numbers, wrong types) are skipped, and capture goes on", async () => {
  const s = await setup();
  const dir = `${s.home}/claude`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${SESSION_ID}.jsonl`;
  const t = new Transcript(SESSION_ID);
  appendTurn(t, "Which database does the staging cluster use?", "Staging runs PostgreSQL 16 on port 5433.");
  await Deno.writeTextFile(path, HOSTILE_LINES.join("\n") + "\n" + t.text());
  const first = await hook(s, "Stop", stopInput(path));
  assert.equal(first.code, 0);
  assert.equal(first.stdout, "");
  const stored = await contents(s.url);
  assert.ok(
    stored.some((c) => c.includes("Staging runs PostgreSQL 16 on port 5433.")),
    `the turn after the hostile lines was not stored:\n${stored.join("\n---\n")}\n${await log(s)}`,
  );
  assert.ok(!stored.join("\n").includes("only this") && !stored.join("\n").includes("and this"));
  assert.ok(stored.some((c) => c.includes("answer under a NUL id")), await log(s));
  assert.doesNotMatch(await log(s), /hook failed/);

  // The transcript grows: the next Stop stores the new turn (capture did not stop for good).
  const more = new Transcript(SESSION_ID, { start: "2026-11-21T09:00:00Z" });
  appendTurn(more, "And the production cluster?", "Production runs PostgreSQL 16 on port 5432.");
  await Deno.writeTextFile(path, "null\n" + more.text(), { append: true });
  assert.equal((await hook(s, "Stop", stopInput(path))).code, 0);
  assert.ok((await contents(s.url)).some((c) => c.includes("Production runs PostgreSQL 16 on port 5432.")));
});

Deno.test({
  name: "capture: a FIFO or a device as transcript_path: the hook exits 0 at once, with or without a server",
  ignore: Deno.build.os === "windows",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const s = await setup();
  const fifo = `${s.home}/transcript.fifo`;
  const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(mk.success, "mkfifo failed");
  for (const path of [fifo, "/dev/zero", "/dev/stdin"]) {
    const r = await hook(s, "Stop", stopInput(path, `direct-${path.length}`), 30_000);
    assert.equal(r.killed, false, `the hook hung on ${path}`);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    console.log(`Stop with ${path} as transcript, no server: exited in ${Math.round(r.ms)} ms`);
  }
  assert.match(await log(s), /not a regular file/);

  let server: SageClient | undefined;
  try {
    server = await connectSage({ ...s.env, SAGE_PROJECT: s.project });
    await server.call("get_status", {}); // initialised: the hook socket comes up
    const socket = hookSocketPath(loadConfig({ "db-url": s.url, home: s.home }, {}));
    for (let i = 0; i < 200 && !(await Deno.stat(socket).then(() => true, () => false)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await hook(s, "Stop", stopInput(fifo, "via-server"), 30_000);
    assert.equal(r.killed, false, "the hook hung on a FIFO through the server");
    assert.equal(r.code, 0);
    console.log(`Stop with a FIFO as transcript, through the server: exited in ${Math.round(r.ms)} ms`);
    // The server is not stuck either: a real transcript is captured next.
    const dir = `${s.home}/claude`;
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${SESSION_ID}.jsonl`;
    await Deno.writeTextFile(path, mainSession().t.text());
    assert.equal((await hook(s, "Stop", stopInput(path), 30_000)).code, 0);
    assert.ok((await contents(s.url)).length >= 4);
  } finally {
    await server?.close();
  }
});

Deno.test({
  name: "capture: a 50 MB transcript is captured whole by one Stop, in slices (a concurrent search is answered)",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const s = await setup();
  const dir = `${s.home}/claude`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${SESSION_ID}.jsonl`;
  // Turns with a 100 KB tool output each (dropped from the memory, but read and parsed): 500 turns ≈ 50 MB.
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const turns = 500;
  const output = "x".repeat(100_000);
  const t = new Transcript(SESSION_ID, { start: "2026-11-01T00:00:00Z" });
  for (let i = 0; i < turns; i++) {
    t.prompt(`Question number ${i}: what did step ${i} of the rollout change?`);
    t.assistant([toolUse(`toolu_${i}`, "Bash", { command: `deploy --step ${i}` })], "tool_use");
    t.toolResult(`toolu_${i}`, output);
    t.assistant([text(`Step ${i} of the rollout moved service ${i} to the new cluster.`)], "end_turn");
    await file.write(new TextEncoder().encode(t.text()));
    t.entries.length = 0; // written; the builder keeps its clock and ids going
  }
  file.close();
  const size = (await Deno.stat(path)).size;
  assert.ok(size > 50_000_000, `${size} bytes`);

  let server: SageClient | undefined;
  try {
    server = await connectSage({ ...s.env, SAGE_PROJECT: s.project });
    await server.call("get_status", {});
    const socket = hookSocketPath(loadConfig({ "db-url": s.url, home: s.home }, {}));
    for (let i = 0; i < 200 && !(await Deno.stat(socket).then(() => true, () => false)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const capture = hook(s, "Stop", stopInput(path), 120_000);
    // Searches while the capture runs are answered (how fast is a benchmark's business: bench/capture.ts).
    let answered = 0;
    let done = false;
    capture.finally(() => done = true);
    while (!done) {
      const r = await server.call("search_memory", { query: "rollout step", mode: "keyword" });
      assert.notEqual(r.isError, true, server.text(r));
      answered++;
      await new Promise((res) => setTimeout(res, 100));
    }
    const r = await capture;
    assert.equal(r.killed, false);
    assert.equal(r.code, 0);
    assert.ok(answered > 0);
    const stored = await contents(s.url);
    assert.equal(stored.length, turns, `${stored.length} of ${turns} turns stored by one Stop\n${await log(s)}`);
    assert.ok(stored.every((c) => !c.includes("xxxxxxxxxx")), "tool output was stored");
  } finally {
    await server?.close();
  }
});
