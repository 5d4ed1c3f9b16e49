/**
 * `deno task bench`: prints a table, writes the raw numbers to bench/results/latest.json.
 *
 *   deno task bench [--model DIR] [--sizes 1000,10000] [--runs N]
 *
 * Without --model the tiny test model (tests/support/tiny_model.ts) is generated and used: it times Sage's own
 * path (protocol, database, fusion) with near-zero model cost.
 */
import { parseArgs } from "node:util";
import { writeTinyModel } from "../tests/support/tiny_model.ts";
import { benchHandshake } from "./handshake.ts";
import { benchLatency } from "./latency.ts";
import { machine, startBench, table } from "./support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { model: { type: "string" }, sizes: { type: "string" }, runs: { type: "string" } },
});
const sizes = (values.sizes ?? "1000,10000").split(",").map(Number);
const runs = Number(values.runs ?? 60);

const bench = await startBench();
try {
  let model = values.model;
  if (!model) {
    model = `${bench.root}/tiny-model`;
    await writeTinyModel(model);
  }
  const baseEnv = (url: string): Record<string, string> => ({
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? bench.root,
    DATABASE_URL: url,
    SAGE_EMBED_MODEL: model!,
    SAGE_LOG_LEVEL: "error",
    DENO_NO_UPDATE_CHECK: "1",
  });
  const info = await machine();
  console.error(`machine: ${JSON.stringify(info)}`);
  console.error("handshake …");
  const handshake = await benchHandshake(baseEnv(await bench.freshDatabase()));
  const latency = [];
  for (const n of sizes) {
    console.error(`latency at ${n} memories …`);
    latency.push(await benchLatency(baseEnv(await bench.freshDatabase()), n, runs));
  }
  const rows: (string | number)[][] = [["measure", "memories", "median ms", "p95 ms"]];
  rows.push(["spawn → initialize", "-", handshake.initialize_ms.median, handshake.initialize_ms.p95]);
  rows.push(["spawn → tools/list", "-", handshake.tools_list_ms.median, handshake.tools_list_ms.p95]);
  for (const l of latency) {
    rows.push(["save_memory", l.memories, l.save_ms.median, l.save_ms.p95]);
    rows.push(["search_memory", l.memories, l.search_ms.median, l.search_ms.p95]);
    rows.push(["get_context", l.memories, l.context_ms.median, l.context_ms.p95]);
  }
  console.log(`model: ${model}\n`);
  console.log(table(rows));
  console.log(`\nimport rate: ${latency.map((l) => `${l.import_per_s}/s at ${l.memories}`).join(", ")}`);
  const result = { machine: info, model, handshake, latency };
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(new URL("./results/latest.json", import.meta.url), JSON.stringify(result, null, 2));
} finally {
  await bench.close();
}
