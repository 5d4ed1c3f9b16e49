/**
 * `deno task bench:hooks [--model DIR] [--runs N]`: Claude Code hook latency, as Claude Code sees it: spawn
 * `sage hook <Event>` with the hook JSON on stdin, wait for it to exit. Measured warm (a `sage serve` is running
 * and answers over its socket, as when Sage is registered with Claude Code) and direct (no server), on a project
 * holding 1,000 memories. Prints median and p95 per case; the last line is the JSON of all figures.
 */
import { parseArgs } from "node:util";
import { runCommand } from "../tests/support/process.ts";
import { RpcProcess } from "../tests/support/rpc.ts";
import {
  benchModel,
  machine,
  REPO,
  round,
  sageArgs,
  startBench,
  type Stats,
  stats,
  syntheticJsonl,
  table,
} from "./support.ts";

const { values } = parseArgs({ args: Deno.args, options: { model: { type: "string" }, runs: { type: "string" } } });
const runs = Number(values.runs ?? 30);
const PROJECT = "/bench/project";

const bench = await startBench();
try {
  const model = await benchModel(bench, values.model);
  const home = `${bench.root}/sage-home`;
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: bench.root,
    DATABASE_URL: await bench.freshDatabase(),
    SAGE_EMBED_MODEL: model,
    SAGE_HOME: home,
    SAGE_PROJECT: PROJECT,
    SAGE_LOG_LEVEL: "error",
    DENO_NO_UPDATE_CHECK: "1",
  };
  const file = `${bench.root}/memories.jsonl`;
  await Deno.writeTextFile(file, syntheticJsonl(1000, PROJECT).join("\n") + "\n");
  if ((await runCommand(Deno.execPath(), sageArgs("import", file), { env, cwd: REPO })).code !== 0) {
    throw new Error("import failed");
  }
  const transcript = `${bench.root}/transcript.jsonl`;
  await Deno.writeTextFile(transcript, "");
  let turn = 0;
  const appendTurn = async () => {
    turn++;
    const u = crypto.randomUUID();
    const lines = [
      {
        type: "user",
        uuid: u,
        timestamp: new Date().toISOString(),
        sessionId: "bench",
        message: { role: "user", content: `Question ${turn}: how do we deploy the release pipeline on staging?` },
      },
      {
        type: "assistant",
        uuid: crypto.randomUUID(),
        parentUuid: u,
        timestamp: new Date().toISOString(),
        sessionId: "bench",
        message: {
          role: "assistant",
          stop_reason: "end_turn",
          content: [{
            type: "text",
            text: `Answer ${turn}: run scripts/deploy_staging.sh after the migration check passes.`,
          }],
        },
      },
    ];
    await Deno.writeTextFile(transcript, lines.map((l) => JSON.stringify(l)).join("\n") + "\n", { append: true });
  };
  const input = (event: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ session_id: "bench", transcript_path: transcript, cwd: REPO, hook_event_name: event, ...extra });

  const hook = async (event: string, stdin: string): Promise<number> => {
    const t0 = performance.now();
    await runCommand(Deno.execPath(), sageArgs("hook", event), { env, cwd: REPO, stdin });
    return performance.now() - t0;
  };
  const measure = async (event: string, stdin: () => Promise<string> | string): Promise<Stats> => {
    await hook(event, await stdin()); // warm the OS caches and the server's paths
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await hook(event, await stdin()));
    return stats(samples);
  };
  const prompt = () => input("UserPromptSubmit", { prompt: "how do we deploy the release pipeline on staging?" });
  const stop = async () => {
    await appendTurn();
    return input("Stop");
  };

  console.error("direct (no server) …");
  const direct = {
    UserPromptSubmit: await measure("UserPromptSubmit", prompt),
    SessionStart: await measure("SessionStart", () => input("SessionStart", { source: "startup" })),
    Stop: await measure("Stop", stop),
  };
  console.error("warm (a sage serve answers) …");
  // A server as Claude Code runs it: stdin held open, initialize sent.
  const server = new RpcProcess(Deno.execPath(), sageArgs("serve"), { env, cwd: REPO });
  await server.call(1, "initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "bench", version: "1" },
  });
  await server.notify("notifications/initialized");
  const socketDir = `${home}/sockets`;
  for (let i = 0; i < 100; i++) { // the server binds its hook socket right after the handshake
    try {
      if ([...Deno.readDirSync(socketDir)].some((e) => e.name.startsWith("hooks-"))) break;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await hook("UserPromptSubmit", prompt()); // the server loads the model on the first one
  const warm = {
    UserPromptSubmit: await measure("UserPromptSubmit", prompt),
    SessionStart: await measure("SessionStart", () => input("SessionStart", { source: "startup" })),
    Stop: await measure("Stop", stop),
  };
  await server.close();

  const rows: (string | number)[][] = [["hook", "mode", "median ms", "p95 ms"]];
  for (const [mode, m] of [["warm", warm], ["direct", direct]] as const) {
    for (const [event, s] of Object.entries(m)) rows.push([event, mode, round(s.median, 1), round(s.p95, 1)]);
  }
  console.log(`model: ${model}; ${runs} runs each; project with 1000 memories\n`);
  console.log(table(rows));
  console.log(JSON.stringify({ machine: await machine(), model, runs, warm, direct }));
} finally {
  await bench.close();
}
