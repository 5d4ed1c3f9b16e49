/**
 * The image itself and the way users get it: `sage selftest` inside the image with no network, and the run script's
 * pull path against a registry on loopback (run.ts starts Debian's docker-registry for these checks and stops it at
 * the end). Runs after checks.ts (`deno task test:container`), on the same image under test.
 */
import assert from "node:assert/strict";
import { VERSION } from "../../lib/version.ts";
import { runCommand } from "../support/process.ts";
import { writeTinyModel } from "../support/tiny_model.ts";
import {
  assertClaudeConnected,
  cli,
  cliOk,
  containerOf,
  DIMENSIONS,
  IMAGE,
  imageLabel,
  newVolume,
  REGISTRY,
  ROOT,
  runScript,
  SCRIPT,
  SCRIPT_COMMAND,
  scriptEnv,
} from "./support.ts";

const VERSION_LABEL = "org.opencontainers.image.version";
/** The registry namespace the checks publish under; the run script's default image is $SAGE_REGISTRY/sage:<version>. */
const NAMESPACE = `${REGISTRY}/sagetest`;
const PUBLISHED = `${NAMESPACE}/sage:${VERSION}`;

async function imageId(image: string): Promise<string> {
  return (await cliOk(["image", "inspect", "-f", "{{.Id}}", image])).trim();
}

async function removeImage(image: string): Promise<void> {
  await cli(["rmi", "-f", image]);
}

/** The image under test, as the project would publish it: pushed to the loopback registry, then removed locally. */
let published = false;
async function publish(): Promise<void> {
  assert.ok(REGISTRY, "no registry: run the container checks with `deno task test:container`");
  if (published) return;
  // The image under test must exist (checks.ts builds it; a filtered run builds it here the same way).
  if ((await cli(["image", "inspect", IMAGE])).code !== 0) {
    const volume = newVolume("prepare");
    const r = await runScript(["--version"], { volume });
    assert.equal(r.code, 0, r.stderr);
    await cli(["rm", "-f", "-t", "0", containerOf(volume)]);
  }
  assert.equal(await imageLabel(IMAGE, VERSION_LABEL), VERSION, "the image under test does not carry its version");
  const t0 = performance.now();
  await cliOk(["tag", IMAGE, PUBLISHED]);
  await cliOk(["push", "--quiet", PUBLISHED]);
  await removeImage(PUBLISHED);
  console.error(`  pushed to the loopback registry in ${Math.round(performance.now() - t0)} ms`);
  published = true;
}

/** The run script with the default image name, taken from SAGE_REGISTRY (SAGE_IMAGE unset). */
const defaultImage = (registry = NAMESPACE) => ({ SAGE_IMAGE: "", SAGE_REGISTRY: registry });

Deno.test("sage selftest runs in the image with no network; a broken model folder fails it clearly", async () => {
  const selftest = ["run", "--rm", "--network", "none", "--entrypoint", "/usr/local/bin/sage"];
  const ok = await cli([...selftest, IMAGE, "selftest", "--dimensions", String(DIMENSIONS)]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.match(
    ok.stdout,
    new RegExp(`^embedding +Chinese \\+ English: ${DIMENSIONS} dimensions, finite, non-zero`, "m"),
  );
  assert.match(ok.stdout, /^ok$/m);

  // A model folder whose ONNX files are cut short, mounted over SAGE_EMBED_MODEL (the bundled model may sit inside
  // the binary, where it cannot be damaged from outside).
  const model = `${ROOT}/broken-model`;
  await writeTinyModel(model);
  for (const f of ["model.onnx", "model_quantized.onnx"]) await Deno.truncate(`${model}/onnx/${f}`, 100);
  const mount = ["-v", `${model}:/broken:ro`, "-e", "SAGE_EMBED_MODEL=/broken"];
  const broken = await cli([...selftest, ...mount, IMAGE, "selftest"]);
  assert.equal(broken.code, 1, broken.stderr + broken.stdout);
  assert.match(
    broken.stderr,
    /sage: selftest failed: the embedding model could not be loaded: .*model_quantized\.onnx/,
  );
  await Deno.remove(`${model}/tokenizer.json`);
  const noTokenizer = await cli([...selftest, ...mount, IMAGE, "selftest"]);
  assert.equal(noTokenizer.code, 1, noTokenizer.stderr);
  assert.match(noTokenizer.stderr, /sage: selftest failed: model folder \/broken has no tokenizer\.json/);
});

Deno.test("a missing published image is pulled (progress on stderr), then claude mcp add + list shows Connected", async () => {
  await publish();
  const volume = newVolume("pull");
  assert.notEqual((await cli(["image", "inspect", PUBLISHED])).code, 0, `${PUBLISHED} should be missing`);
  try {
    const r = await runScript(["status", "--json"], { volume, env: defaultImage() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`pulling ${PUBLISHED.replaceAll(".", "\\.")}\\n`));
    assert.match(r.stderr, /pulled /);
    assert.doesNotMatch(r.stderr, /building/);
    assert.equal(JSON.parse(r.stdout).database.connected, true, r.stdout);
    assert.equal(await imageLabel(PUBLISHED, VERSION_LABEL), VERSION);
    assert.equal(await imageId(PUBLISHED), await imageId(IMAGE), "the pulled image is not the one published");
    const project = await Deno.makeTempDir({ dir: ROOT, prefix: "project-" });
    await Deno.mkdir(`${project}/.git`);
    await assertClaudeConnected(scriptEnv(volume, defaultImage()), project);
  } finally {
    await cli(["rm", "-f", "-t", "0", containerOf(volume)]);
    await removeImage(PUBLISHED);
  }
});

Deno.test("a local image of the wrong version is replaced by the published one", async () => {
  await publish();
  const volume = newVolume("stale");
  const build = await cli(["build", "-t", PUBLISHED, "-f", "-", ROOT], `FROM ${IMAGE}\nLABEL ${VERSION_LABEL}=0.0.1\n`);
  assert.equal(build.code, 0, build.stderr);
  try {
    const r = await runScript(["status"], { volume, env: defaultImage() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`is version 0\\.0\\.1, not ${VERSION.replaceAll(".", "\\.")}: replacing it`));
    assert.match(r.stderr, /pulling .*\n[\s\S]*pulled /);
    assert.equal(await imageLabel(PUBLISHED, VERSION_LABEL), VERSION);
    assert.equal(await imageId(PUBLISHED), await imageId(IMAGE));
  } finally {
    await cli(["rm", "-f", "-t", "0", containerOf(volume)]);
    await removeImage(PUBLISHED);
  }
});

Deno.test("registry down: a clear message, then the image is built from the checkout", async () => {
  // A loopback port nothing listens on.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const namespace = `127.0.0.1:${port}/sagetest`;
  const image = `${namespace}/sage:${VERSION}`;
  const volume = newVolume("down");
  try {
    const r = await runScript(["status", "--json"], { volume, env: defaultImage(namespace) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`could not pull ${image.replaceAll(".", "\\.")} \\(messages above\\); building`));
    assert.match(r.stderr, /building the image .* \(the pull failed;/);
    assert.equal(JSON.parse(r.stdout).database.connected, true, r.stdout);
    assert.equal(await imageLabel(image, VERSION_LABEL), VERSION, "the local build does not carry the version");
  } finally {
    await cli(["rm", "-f", "-t", "0", containerOf(volume)]);
    await removeImage(image);
  }
});

Deno.test("SAGE_BUILD=1 builds from the checkout without pulling; a bad SAGE_BUILD is refused", async () => {
  await publish();
  const volume = newVolume("build1");
  try {
    const r = await runScript(["status"], { volume, env: { ...defaultImage(), SAGE_BUILD: "1" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /building the image .* \(SAGE_BUILD=1;/);
    assert.doesNotMatch(r.stderr, /pulling/);
    const bad = await runScript(["status"], { volume, env: { SAGE_BUILD: "yes" } });
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /SAGE_BUILD=yes: use 1 to build the image from this folder instead of pulling it/);
  } finally {
    await cli(["rm", "-f", "-t", "0", containerOf(volume)]);
    await removeImage(PUBLISHED);
  }
});

Deno.test("a copy of the run script alone (as the Claude Code plugin runs it) pulls the published image; it cannot build", async () => {
  await publish();
  const dir = await Deno.makeTempDir({ dir: ROOT, prefix: "alone-" });
  const copy = `${dir}/${SCRIPT.split("/").pop()}`;
  await Deno.copyFile(SCRIPT, copy);
  const command = [...SCRIPT_COMMAND.slice(0, -1), copy];
  const run = (volume: string, env: Record<string, string>) =>
    runCommand(command[0], [...command.slice(1), "status"], { env: scriptEnv(volume, env), cwd: ROOT });
  const volume = newVolume("alone");
  try {
    const r = await run(volume, defaultImage());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pulled /);
    assert.equal(await imageLabel(PUBLISHED, VERSION_LABEL), VERSION);
    // Nothing to pull (the registry is down) and no checkout to build from: a clear message, nothing on stdout.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const down = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}/sagetest`;
    listener.close();
    const failed = await run(newVolume("alone"), defaultImage(down));
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(failed.stdout, "");
    assert.match(
      failed.stderr,
      /could not pull .*\n[\s\S]*cannot build the image .* \(the pull failed\): .* is not a Sage checkout/,
    );
  } finally {
    await cli(["rm", "-f", "-t", "0", containerOf(volume)]);
    await removeImage(PUBLISHED);
  }
});
