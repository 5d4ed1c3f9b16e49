/**
 * The same save/search workload against the official reference memory server, `@modelcontextprotocol/server-memory`
 * (pinned, installed under .tools/bench by bench/setup.sh), run with Node over stdio and driven by the same MCP SDK
 * client as Sage. latency.ts runs it side by side with Sage at each size, in alternating blocks of calls, so both
 * see the same machine noise and the ratios compare like with like.
 *
 * Its store is one JSONL file (a knowledge graph of entities with observations); every call reads and parses the
 * whole file, and every write rewrites it. A memory is one entity ("memory-<i>", type "note") with the memory's
 * text as its one observation. Sizes are populated by writing that file directly in the server's own format (what
 * it would have written after N create_entities calls). save = `create_entities` with one new entity; search =
 * `search_nodes` with the rarest word of the memory Sage's query is about (it matches by substring: a whole sentence
 * would find nothing, and a common word returns most of the graph).
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/index.d.ts"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { childEnv, keywordOf, PEER_ENTRY, PEER_VERSION, residentMemory, type Stats, syntheticText } from "./support.ts";
import type { Memory } from "./latency.ts";

export interface PeerPoint {
  memories: number;
  file_mib: number;
  runs: number;
  save_ms: Stats;
  search_ms: Stats;
  /** Median number of entities a search returned. */
  search_hits: number;
  rss_idle: Memory | null;
  rss_load: Memory | null;
}

export interface PeerResult {
  server: string;
  runtime: string;
  how: string;
  points: PeerPoint[];
}

export const PEER_HOW =
  "N entities (one observation each: the same synthetic memory texts) written to its JSONL file in its own format; save = create_entities (1 entity), search = search_nodes (the rarest word of the memory Sage's query is about), in blocks alternating with Sage's calls";

export async function peerRuntime(): Promise<string> {
  const o = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
  return `node ${new TextDecoder().decode(o.stdout).trim()}`;
}

export const PEER_NAME = `@modelcontextprotocol/server-memory@${PEER_VERSION}`;

export interface PeerServer {
  pid: number;
  fileMib: number;
  save(i: number): Promise<number>;
  /** Searches for the rarest word of `text`; returns [ms, hits]. */
  search(text: string): Promise<[number, number]>;
  close(): Promise<void>;
}

/** Writes the peer's store with memories 0 … n-1 and starts the peer on it. */
export async function openPeer(root: string, n: number): Promise<PeerServer> {
  const file = `${root}/peer-${n}.jsonl`;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({ type: "entity", name: `memory-${i}`, entityType: "note", observations: [syntheticText(i)] }),
    );
  }
  await Deno.writeTextFile(file, lines.join("\n"));
  const fileMib = Math.round((await Deno.stat(file)).size / 2 ** 20);
  const transport = new StdioClientTransport({
    command: "node",
    args: [PEER_ENTRY],
    env: childEnv({ MEMORY_FILE_PATH: file }),
    stderr: "ignore",
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  const check = (r: unknown) => {
    const x = r as { isError?: boolean; content?: { text?: string }[] };
    if (x?.isError) throw new Error(`server-memory: ${x.content?.[0]?.text}`);
    return x;
  };
  const base = 10_000_000 + n * 10; // never an imported memory: every save is a new entity
  return {
    pid: transport.pid!,
    fileMib,
    async save(i: number) {
      const t0 = performance.now();
      check(
        await client.callTool({
          name: "create_entities",
          arguments: {
            entities: [{ name: `saved-${base + i}`, entityType: "note", observations: [syntheticText(base + 2 * i)] }],
          },
        }),
      );
      return performance.now() - t0;
    },
    async search(text: string) {
      const t0 = performance.now();
      const r = check(await client.callTool({ name: "search_nodes", arguments: { query: keywordOf(text) } })) as {
        structuredContent?: { entities?: unknown[] };
        content?: { text?: string }[];
      };
      const ms = performance.now() - t0;
      const entities = r.structuredContent?.entities ??
        (JSON.parse(r.content?.[0]?.text ?? "{}").entities as unknown[] | undefined) ?? [];
      return [ms, entities.length];
    },
    async close() {
      await client.close();
      await Deno.remove(file).catch(() => {});
    },
  };
}

export function peerMemory(pid: number) {
  return residentMemory(pid);
}
