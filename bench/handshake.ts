/**
 * Handshake: spawn `sage serve` → `initialize` reply, and → first `tools/list` reply, measured on raw pipes
 * (no client library in the timing). Each run is a fresh process; the database and model start in the
 * background, so these times must not depend on them.
 */
import { REPO, type Stats, stats } from "./support.ts";

export interface HandshakeResult {
  initialize_ms: Stats;
  tools_list_ms: Stats;
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
});
const INITIALIZED = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" });
const LIST = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" });

export async function benchHandshake(env: Record<string, string>, runs = 9): Promise<HandshakeResult> {
  const init: number[] = [];
  const list: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-all", "--config", `${REPO}/deno.json`, `${REPO}/main.ts`, "serve"],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    const enc = new TextEncoder();
    // Claude Code writes initialize as soon as it has spawned the process.
    await writer.write(enc.encode(INIT + "\n"));
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const nextLine = async () => {
      while (!buf.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("server closed stdout");
        buf += value;
      }
      const i = buf.indexOf("\n");
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      return JSON.parse(line);
    };
    const r1 = await nextLine();
    init.push(performance.now() - t0);
    if (r1.id !== 1 || !r1.result) throw new Error(`bad initialize reply: ${JSON.stringify(r1)}`);
    await writer.write(enc.encode(INITIALIZED + "\n" + LIST + "\n"));
    const r2 = await nextLine();
    list.push(performance.now() - t0);
    if (r2.id !== 2 || !r2.result?.tools) throw new Error(`bad tools/list reply: ${JSON.stringify(r2)}`);
    await writer.close();
    await reader.cancel();
    await child.status;
  }
  return { initialize_ms: stats(init), tools_list_ms: stats(list) };
}
