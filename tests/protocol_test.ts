/**
 * JSON-RPC on stdio as the spec says, under abuse: a line too large for any request, lines that are not JSON or not
 * JSON-RPC, requests before `initialize`, a client that closes the server's stdout, EOF in the middle of all that.
 * Each case runs a real `sage serve` on raw pipes and checks every byte it wrote.
 */
import assert from "node:assert/strict";
import { freshDatabase, ROOT, sageArgs, sageEnv } from "./support/harness.ts";
import { INITIALIZE_PARAMS, RawServer, type RpcMessage } from "./support/mcp_client.ts";

const enc = new TextEncoder();
/** Larger than the largest line Sage accepts (16 MiB), and than the SDK's 10 MiB read buffer. */
const OVERSIZED = 17 * 1024 * 1024;

function pureStdout(server: RawServer): RpcMessage[] {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(server.stdout());
  if (!text) return [];
  assert.ok(text.endsWith("\n"), "stdout does not end with a complete line");
  return text.slice(0, -1).split("\n").map((line, i) => {
    const m = JSON.parse(line);
    assert.equal(m.jsonrpc, "2.0", `stdout line ${i + 1} is not JSON-RPC 2.0: ${line.slice(0, 200)}`);
    return m;
  });
}

/** The first frame (in arrival order, from index `from`) matching `pred`, waiting up to `ms`. */
async function frame(server: RawServer, pred: (m: RpcMessage) => boolean, ms = 20_000, from = 0) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const found = server.frames.slice(from).find(pred);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`no such frame within ${ms} ms; frames: ${JSON.stringify(server.frames).slice(0, 2000)}`);
}

/** Waits for the process to end; null when it is still running after `ms`. */
async function exited(child: Deno.ChildProcess, ms: number): Promise<Deno.CommandStatus | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([child.status, new Promise<null>((res) => timer = setTimeout(() => res(null), ms))]);
  clearTimeout(timer);
  return r;
}

async function ready(server: RawServer): Promise<void> {
  const init = await server.request(1, "initialize", INITIALIZE_PARAMS);
  assert.ok(init.result, JSON.stringify(init));
  await server.notify("notifications/initialized");
}

/** A tools/call line whose content makes it `bytes` long (no newline yet). */
function hugeCall(id: number, bytes: number): Uint8Array {
  const head =
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"save_memory","arguments":{"content":"`;
  const tail = `"}}}`;
  const line = new Uint8Array(bytes);
  line.set(enc.encode(head));
  line.fill(0x61, head.length, bytes - tail.length);
  line.set(enc.encode(tail), bytes - tail.length);
  return line;
}

/** Writes, or fails when the server stops reading (a write into a full pipe would otherwise wait forever). */
async function writeWithin(server: RawServer, bytes: Uint8Array | string, ms = 30_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    server.write(bytes).then(() => true),
    new Promise<false>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  assert.ok(done, `the server stopped reading its stdin (a write did not finish within ${ms} ms)`);
}

/** Closes stdin (how Claude Code ends a server); the exit status, or a failure when it is still running after `ms`. */
async function closeWithin(server: RawServer, ms = 20_000): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    server.close(),
    new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
  ]);
  clearTimeout(timer);
  assert.ok(status, `EOF on stdin did not end the server within ${ms} ms`);
  return status;
}

function kill(server: RawServer): void {
  try {
    server.child.kill("SIGKILL");
  } catch {
    // already gone
  }
}

Deno.test({
  name: "protocol: a line over the limit gets an error reply, the server keeps answering, and EOF still ends it",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const env = { DATABASE_URL: await freshDatabase(), SAGE_PROJECT: "/protocol/oversized" };
  const server = new RawServer(env);
  const cut = new RawServer(env);
  try {
    await ready(server);
    await writeWithin(server, hugeCall(2, OVERSIZED));
    await writeWithin(server, "\n");
    const tooLarge = await server.reply(2, 30_000);
    assert.equal(tooLarge.error?.code, -32600, JSON.stringify(tooLarge));
    assert.match(tooLarge.error!.message, /too large/);
    const ping = await server.request(3, "ping");
    assert.deepEqual(ping.result, {});
    const saved = await server.request(4, "tools/call", {
      name: "save_memory",
      arguments: { content: "Saved after an oversized line." },
    });
    assert.notEqual((saved.result as { isError?: boolean }).isError, true, JSON.stringify(saved));
    const status = await closeWithin(server);
    assert.equal(status.code, 0);
    pureStdout(server);

    // EOF in the middle of an oversized line: the process ends anyway.
    await ready(cut);
    await writeWithin(cut, hugeCall(2, OVERSIZED));
    const ended = await closeWithin(cut);
    assert.equal(ended.code, 0);
    pureStdout(cut);
  } catch (err) {
    console.error(`stderr:\n${server.stderr.slice(-3000)}\n${cut.stderr.slice(-3000)}`);
    throw err;
  } finally {
    kill(server);
    kill(cut);
    await server.child.status;
    await cut.child.status;
  }
});

Deno.test({
  name:
    "protocol: not JSON → -32700, not a request → -32600 (with its id when it has one), and nothing before initialize",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const server = new RawServer({ DATABASE_URL: await freshDatabase(), SAGE_PROJECT: "/protocol/spec" });
  try {
    // ping is allowed before initialize; anything else is refused, and changes nothing.
    const early = await server.request(1, "ping");
    assert.deepEqual(early.result, {});
    const list = await server.request(2, "tools/list");
    assert.equal(list.error?.code, -32600, JSON.stringify(list).slice(0, 300));
    assert.match(list.error!.message, /initialize/);
    const call = await server.request(3, "tools/call", { name: "save_memory", arguments: { content: "too early" } });
    assert.equal(call.error?.code, -32600, JSON.stringify(call).slice(0, 300));

    const init = await server.request(4, "initialize", INITIALIZE_PARAMS);
    assert.ok(init.result);
    await server.notify("notifications/initialized");

    const cases: [string, number, string | number | null][] = [
      ["this is not json", -32700, null],
      ['{"jsonrpc":"2.0","id":10,"method":"ping"', -32700, null], // cut short
      ["[]", -32600, null],
      ["42", -32600, null],
      ['"ping"', -32600, null],
      ["null", -32600, null],
      ['{"jsonrpc":"2.0","id":11}', -32600, 11], // neither request nor response
      ['{"id":12,"method":"ping"}', -32600, 12], // no jsonrpc member
      ['{"jsonrpc":"1.0","id":"thirteen","method":"ping"}', -32600, "thirteen"],
      ['{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600, null], // an id must be a string or number
      ['{"jsonrpc":"2.0","id":14,"method":7}', -32600, 14],
    ];
    for (const [line, code, id] of cases) {
      const from = server.frames.length;
      await server.write(`${line}\n`);
      const m = await frame(server, (f) => f.error !== undefined, 10_000, from);
      assert.equal(m.error!.code, code, `${line} → ${JSON.stringify(m)}`);
      assert.equal(m.id, id, `${line} → ${JSON.stringify(m)}`);
    }
    const ping = await server.request(20, "ping");
    assert.deepEqual(ping.result, {});
    const tools = await server.request(21, "tools/list");
    assert.equal((tools.result?.tools as unknown[]).length, 10);
    const status = await closeWithin(server);
    assert.equal(status.code, 0);
    const frames = pureStdout(server);
    assert.equal(frames.length, 6 + cases.length, "one reply per line, no more");
  } catch (err) {
    console.error(`stderr:\n${server.stderr.slice(-3000)}`);
    throw err;
  } finally {
    kill(server);
    await server.child.status;
  }
});

Deno.test({
  name: "protocol: a client that closes the server's stdout ends it cleanly, without a stack trace",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const { command, args } = sageArgs(["serve"]);
  const child = new Deno.Command(command, {
    args,
    env: sageEnv({ DATABASE_URL: await freshDatabase(), SAGE_PROJECT: "/protocol/epipe" }),
    clearEnv: true,
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  try {
    await writer.write(
      enc.encode(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: INITIALIZE_PARAMS })}\n`),
    );
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length > 0, "no initialize reply");
    await reader.cancel(); // the client stops reading: the server's stdout is a broken pipe from now on
    await writer.write(enc.encode(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`));
    for (let id = 2; id < 6; id++) {
      await writer.write(enc.encode(`${JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list" })}\n`));
    }
    const status = await exited(child, 20_000);
    assert.ok(status, "the server kept running with nobody reading its stdout");
    assert.equal(status.code, 0, await stderr);
    const text = await stderr;
    assert.doesNotMatch(text, /Uncaught|BrokenPipe|EPIPE|\n\s+at /, text);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // ended
    }
    await writer.close().catch(() => {});
    await child.status;
    await stderr.catch(() => {});
  }
});
