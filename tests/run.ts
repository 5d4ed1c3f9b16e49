/**
 * `deno task test`: everything the tests need, then the tests.
 *
 * 1. Generates the tiny embedding model (real ONNX + tokenizer) into a temp folder.
 * 2. Starts a throwaway PostgreSQL cluster through Sage's own private-cluster code (as the `postgres` user when
 *    run as root), so the embedded default is exercised on every run.
 * 3. Runs `deno test` on tests/ with SAGE_TEST_* variables pointing at both; each test file creates its own
 *    database. Extra arguments go to `deno test` (e.g. `deno task test --filter export`).
 * 4. Stops the cluster and removes the temp folder, whatever happened.
 */
import { loadConfig } from "../lib/config.ts";
import { clusterPaths, ensureCluster, stopCluster } from "../lib/db/cluster.ts";
import { configureLog } from "../lib/log.ts";
import { writeTinyModel } from "./support/tiny_model.ts";

configureLog({ level: "warn" });
const root = await Deno.makeTempDir({ prefix: "sage-test-" });
// When run as root, the cluster runs as `postgres`, which must pass through this folder.
await Deno.chmod(root, 0o711);
const home = `${root}/home`;
const model = `${root}/tiny-model`;
let code = 1;
const config = { ...loadConfig({ home }, {}), dbUrl: undefined };
try {
  await writeTinyModel(model);
  const t0 = performance.now();
  await ensureCluster(config);
  const socket = clusterPaths(home).socketDir;
  console.error(`test cluster ready in ${Math.round(performance.now() - t0)} ms (socket ${socket})`);
  const here = new URL(".", import.meta.url).pathname;
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--config", `${here}../deno.json`, ...Deno.args, here],
    env: { SAGE_TEST_SOCKET: socket, SAGE_TEST_MODEL: model, SAGE_TEST_ROOT: root, SAGE_LOG_LEVEL: "warn" },
    stdin: "null",
  }).spawn();
  code = (await proc.status).code;
} catch (err) {
  console.error(`test setup failed: ${err instanceof Error ? err.message : err}`);
} finally {
  await stopCluster(config).catch((err) => console.error(`could not stop the test cluster: ${err.message}`));
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
Deno.exit(code);
