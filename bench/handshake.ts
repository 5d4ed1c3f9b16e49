/**
 * Handshake: spawn `sage serve` → `initialize` reply, and → first `tools/list` reply, measured on raw pipes (the
 * tests' raw client, tests/support/rpc.ts: no client library in the timing). Each run is a fresh process. The
 * database connection and the model load start in the background, so these times must not depend on them; the
 * scenarios prove it:
 *   ready        database up and migrated, the model (e5-sized) loading in the background;
 *   unreachable  the database URL points at a socket where no server listens;
 *   creating     no database URL and an empty SAGE_HOME: Sage creates its private cluster (initdb, start,
 *                CREATE DATABASE, migrations) while answering;
 *   bare         the floor: bench/bare_server.ts, a bare MCP server with the same SDK and one tool.
 * Optionally also spawn → first `search_memory` reply: when the first useful answer arrives (cold start).
 */
import { loadConfig } from "../lib/config.ts";
import { stopCluster } from "../lib/db/cluster.ts";
import { RpcProcess } from "../tests/support/rpc.ts";
import { REPO, sageArgs, type Stats, stats } from "./support.ts";

/** The floor scenario's command: a bare SDK server under `deno run`, as the `./sage` script runs Sage. */
export const BARE_SERVER_ARGS = [
  "run",
  "--quiet",
  "--allow-all",
  "--config",
  `${REPO}/deno.json`,
  `${REPO}/bench/bare_server.ts`,
];

export interface HandshakeResult {
  scenario: string;
  runs: number;
  initialize_ms: Stats;
  tools_list_ms: Stats;
  /** spawn → first search_memory reply (cold: database and model ready), when measured. */
  first_search_ms?: Stats;
  first_search_ok?: boolean;
}

const INITIALIZE = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "bench", version: "1" },
};
const SEARCH = {
  name: "search_memory",
  arguments: { query: "why did the staging deploy fail after the migration" },
};

export interface Scenario {
  name: string;
  runs: number;
  /** The command's arguments to Deno (default: `sage serve` from this checkout). */
  args?: string[];
  /** The environment of run i (a fresh SAGE_HOME per run, …). */
  envFor: (i: number) => Promise<Record<string, string>>;
  /** Also time the first search_memory reply. */
  firstSearch?: boolean;
  /** After each run (stop what the run started). */
  after?: (env: Record<string, string>) => Promise<void>;
}

/** One fresh `sage serve`: [initialize ms, tools/list ms, first search ms | undefined, search ok]. */
async function once(s: Scenario, i: number): Promise<[number, number, number | undefined, boolean]> {
  const env = await s.envFor(i);
  const p = new RpcProcess(Deno.execPath(), s.args ?? sageArgs("serve"), { env, cwd: REPO });
  try {
    // Claude Code writes initialize as soon as it has spawned the process.
    const r1 = await p.call(1, "initialize", INITIALIZE);
    if (!r1.result) throw new Error(`bad initialize reply: ${JSON.stringify(r1)}`);
    await p.notify("notifications/initialized");
    const r2 = await p.call(2, "tools/list");
    if (!r2.result?.tools) throw new Error(`bad tools/list reply: ${JSON.stringify(r2)}`);
    const [init, list] = [p.replyTime(1)!, p.replyTime(2)!];
    if (!s.firstSearch) return [init, list, undefined, true];
    const r3 = await p.call(3, "tools/call", SEARCH, 120_000);
    const ok = !!r3.result && !(r3.result as { isError?: boolean }).isError;
    return [init, list, p.replyTime(3)!, ok];
  } finally {
    await p.close();
    await s.after?.(env);
  }
}

/** The scenarios' runs in rotation (run 1 of each, run 2 of each, …), so they share the machine's noise. */
export async function benchHandshakes(scenarios: Scenario[]): Promise<HandshakeResult[]> {
  const samples = scenarios.map(() => ({
    init: [] as number[],
    list: [] as number[],
    search: [] as number[],
    ok: true,
  }));
  const most = Math.max(...scenarios.map((s) => s.runs));
  for (let i = 0; i < most; i++) {
    for (const [k, s] of scenarios.entries()) {
      if (i >= s.runs) continue;
      const [init, list, search, ok] = await once(s, i);
      samples[k].init.push(init);
      samples[k].list.push(list);
      if (search !== undefined) samples[k].search.push(search);
      samples[k].ok &&= ok;
    }
  }
  return scenarios.map((s, k) => ({
    scenario: s.name,
    runs: s.runs,
    initialize_ms: stats(samples[k].init),
    tools_list_ms: stats(samples[k].list),
    ...(s.firstSearch ? { first_search_ms: stats(samples[k].search), first_search_ok: samples[k].ok } : {}),
  }));
}

/** Stops the private cluster a `creating` run made, and removes its home. */
export async function stopPrivateCluster(env: Record<string, string>): Promise<void> {
  const home = env.SAGE_HOME;
  if (!home) return;
  await stopCluster(loadConfig({ home }, {})).catch(() => {});
  await Deno.remove(home, { recursive: true }).catch(() => {});
}
