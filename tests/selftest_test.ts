/**
 * `sage selftest`, run as a child process as the image build runs it: passes with a working model and no
 * database, fails with exit 1 and a message that names the problem when the model folder is broken.
 */
import assert from "node:assert/strict";
import { MODEL, type RunResult, runSage, tempDir } from "./support/harness.ts";

/** A copy of the test model, damaged by `damage`. */
async function brokenModel(damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = `${await tempDir("model")}/broken`;
  await Deno.mkdir(`${dir}/onnx`, { recursive: true });
  for (const e of Deno.readDirSync(MODEL)) if (e.isFile) await Deno.copyFile(`${MODEL}/${e.name}`, `${dir}/${e.name}`);
  for (const e of Deno.readDirSync(`${MODEL}/onnx`)) {
    await Deno.copyFile(`${MODEL}/onnx/${e.name}`, `${dir}/onnx/${e.name}`);
  }
  await damage(dir);
  return dir;
}

function fails(r: RunResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, /^sage: selftest failed: /m);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stdout, /^ok$/m);
}

Deno.test("selftest: passes with a working model and no reachable database", async () => {
  // A database URL nothing answers on: the selftest must not need one.
  const r = await runSage(["selftest"], { env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sage \d+\.\d+\.\d+ selftest$/m);
  assert.match(r.stdout, /^embedding +Chinese \+ English: 32 dimensions, finite, non-zero/m);
  assert.match(r.stdout, /^keywords +Chinese \d+ terms \(部.*English \d+ terms \(run, databas/m);
  assert.match(r.stdout, /^ok$/m);
  const sized = await runSage(["selftest", "--dimensions", "32"]);
  assert.equal(sized.code, 0, sized.stderr);
});

Deno.test("selftest: a broken model folder fails with exit 1 and says what is wrong", async () => {
  const truncated = await brokenModel(async (dir) => {
    for (const f of ["model.onnx", "model_quantized.onnx"]) await Deno.truncate(`${dir}/onnx/${f}`, 200);
  });
  const noTokenizer = await brokenModel((dir) => Deno.remove(`${dir}/tokenizer.json`));
  const wrongWidth = await brokenModel(async (dir) => {
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...config, hidden_size: 64 }));
  });
  const [a, b, c, d, e, f] = await Promise.all([
    runSage(["selftest"], { env: { SAGE_EMBED_MODEL: truncated } }),
    runSage(["selftest"], { env: { SAGE_EMBED_MODEL: noTokenizer } }),
    runSage(["selftest"], { env: { SAGE_EMBED_MODEL: wrongWidth } }),
    runSage(["selftest", "--dimensions", "384"]),
    runSage(["selftest", "--embed-model", `${await tempDir("empty")}/no-such-model`]),
    runSage(["selftest", "--dimensions", "wide"]),
  ]);
  fails(a, /could not be loaded: .*model_quantized\.onnx/);
  fails(b, /has no tokenizer\.json/);
  fails(c, /config\.json says hidden_size 64, but the model outputs 32 dimensions/);
  fails(d, /the model outputs 32 dimensions, expected 384/);
  fails(e, /cannot read .*no-such-model\/config\.json/);
  assert.equal(f.code, 2, f.stderr);
  assert.match(f.stderr, /--dimensions must be a whole number/);
});
