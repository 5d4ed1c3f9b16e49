/**
 * `deno task fuzz [--seconds N] [--seed S] [--cases N] [--kind mcp|hook|eof|socket]`: a bounded fuzz run against
 * real Sage processes (tests/fuzz/fuzz.ts says what it sends and checks). Like `deno task test`, it prepares its
 * own throwaway PostgreSQL cluster (through Sage's private-cluster code) and the tiny model, and removes both
 * afterwards, whatever happened. The whole run, set-up included, takes at most N seconds (default 60). Prints the
 * cases run and the failures, each with the seed that reproduces it; exits 1 when there was any.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../lib/config.ts";
import { clusterPaths, ensureCluster, stopCluster } from "../../lib/db/cluster.ts";
import { configureLog } from "../../lib/log.ts";
import { writeTinyModel } from "../support/tiny_model.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    cases: { type: "string" },
    kind: { type: "string" },
  },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 20) {
  console.error("fuzz: --seconds must be a number of at least 20 (set-up takes a few)");
  Deno.exit(2);
}
const deadline = Date.now() + seconds * 1000 - 2_000; // the last 2 s: stopping the cluster, removing files
configureLog({ level: "warn" });
const root = await Deno.makeTempDir({ prefix: "sage-fuzz-" });
await Deno.chmod(root, 0o711); // the cluster may run as `postgres`
const home = `${root}/home`;
const model = `${root}/tiny-model`;
const config = { ...loadConfig({ home }, {}), dbUrl: undefined };
let code = 1;
try {
  await writeTinyModel(model);
  await ensureCluster(config);
  const here = new URL(".", import.meta.url).pathname;
  const args = [
    "run",
    "--allow-all",
    "--config",
    `${here}../../deno.json`,
    `${here}fuzz.ts`,
    "--deadline",
    `${deadline}`,
  ];
  for (const k of ["seed", "cases", "kind"] as const) if (values[k]) args.push(`--${k}`, values[k]!);
  const worker = new Deno.Command(Deno.execPath(), {
    args,
    env: {
      SAGE_TEST_SOCKET: clusterPaths(home).socketDir,
      SAGE_TEST_MODEL: model,
      SAGE_TEST_ROOT: root,
      SAGE_LOG_LEVEL: "warn",
    },
    stdin: "null",
  }).spawn();
  code = (await worker.status).code;
} catch (err) {
  console.error(`fuzz set-up failed: ${err instanceof Error ? err.message : err}`);
} finally {
  await stopCluster(config).catch((err) => console.error(`could not stop the fuzz cluster: ${err.message}`));
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
Deno.exit(code);
