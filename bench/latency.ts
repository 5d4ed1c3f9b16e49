/**
 * End-to-end latency over MCP STDIO, as Claude Code sees it: the SDK client calls `save_memory`,
 * `search_memory` and `get_context` on a `sage serve` whose database already holds N memories (loaded through
 * `sage import`, which also gives the bulk import rate).
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/index.d.ts"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { REPO, rng, round, type Stats, stats, syntheticJsonl, syntheticText } from "./support.ts";

export interface LatencyResult {
  memories: number;
  import_per_s: number;
  save_ms: Stats;
  search_ms: Stats;
  context_ms: Stats;
}

const PROJECT = "/bench/project";

/** Loads `n` memories with `sage import` and returns memories per second. */
export async function importMemories(env: Record<string, string>, n: number): Promise<number> {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(file, syntheticJsonl(n, PROJECT).join("\n") + "\n");
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", "--config", `${REPO}/deno.json`, `${REPO}/main.ts`, "import", file],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const secs = (performance.now() - t0) / 1000;
  await Deno.remove(file);
  if (!out.success) throw new Error(`import failed: ${new TextDecoder().decode(out.stderr)}`);
  return round(n / secs, 1);
}

export async function connect(env: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "--quiet", "--allow-all", "--config", `${REPO}/deno.json`, `${REPO}/main.ts`, "serve"],
    env,
    stderr: "ignore",
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  return client;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const r = await fn() as { isError?: boolean; content?: { text: string }[] };
  if (r?.isError) throw new Error(r.content?.[0]?.text);
  return performance.now() - t0;
}

export async function benchLatency(env: Record<string, string>, n: number, runs = 60): Promise<LatencyResult> {
  const importRate = n ? await importMemories(env, n) : 0;
  const client = await connect({ ...env, SAGE_PROJECT: PROJECT });
  const r = rng(42);
  try {
    // Warm up: the first calls wait for the model and the pool.
    for (let i = 0; i < 5; i++) {
      await client.callTool({ name: "search_memory", arguments: { query: syntheticText(r, i, 6) } });
    }
    const save: number[] = [];
    const search: number[] = [];
    const context: number[] = [];
    for (let i = 0; i < runs; i++) {
      save.push(
        await timed(() => client.callTool({ name: "save_memory", arguments: { content: syntheticText(r, n + i) } })),
      );
      search.push(
        await timed(() => client.callTool({ name: "search_memory", arguments: { query: syntheticText(r, i + 1, 6) } })),
      );
      context.push(
        await timed(() => client.callTool({ name: "get_context", arguments: { query: syntheticText(r, i + 1, 6) } })),
      );
    }
    return {
      memories: n,
      import_per_s: importRate,
      save_ms: stats(save),
      search_ms: stats(search),
      context_ms: stats(context),
    };
  } finally {
    await client.close();
  }
}
