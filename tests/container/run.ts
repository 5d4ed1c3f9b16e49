/**
 * `deno task test:container`: the container checks, for real (podman, PostgreSQL, Claude Code), offline.
 *
 * 1. Needs podman (or SAGE_CONTAINER_CLI), debootstrap and Debian's docker-registry: without them it fails and says
 *    how to install them.
 * 2. Makes the base image it needs, unless a previous run left it: a Debian trixie minbase (debootstrap + import),
 *    the release the real image's base (debian:trixie-slim) has. Nothing is pulled from a registry.
 * 3. Stages what the offline image build vendors in dist/container-offline: this Deno (from npm), the project's
 *    node_modules (hard links, pruned as the real build prunes them) and the tiny test model.
 * 4. Removes the test image, so the first check proves that run_sage_single.sh builds a missing image (with
 *    SAGE_BUILD_ARGS selecting the offline variant; layers are cached between runs).
 * 5. Starts a registry on loopback (docker-registry, storage in a temporary folder) for the pull checks, and a
 *    registries.conf that lets podman use it over plain HTTP (CONTAINERS_REGISTRIES_CONF; nothing system-wide).
 * 6. Runs tests/container/checks.ts then pull_checks.ts, then stops the registry and removes every container,
 *    volume and untagged image it made, and the staging folder. The base image and the test image stay
 *    (tests/container/measure.ts uses the latter).
 *
 * SAGE_TEST_IMAGE=<image> tests that image instead (the release workflow's real one, say): no base image, no
 * staging, the image is neither built nor removed, and the run script's fallback builds are real builds of the
 * Dockerfile. SAGE_TEST_DIMENSIONS is its model's width (default 384, the default model's).
 * SAGE_TEST_SCRIPT=ps1 runs the same checks through run_sage_single.ps1 under PowerShell 7 (pwsh).
 * Extra arguments go to `deno test` (e.g. `deno task test:container --filter kill`).
 */
import { writeTinyModel } from "../support/tiny_model.ts";

const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const CLI = Deno.env.get("SAGE_CONTAINER_CLI") || "podman";
const BASE_IMAGE = "localhost/sage-test-trixie-minbase:latest";
const GIVEN_IMAGE = Deno.env.get("SAGE_TEST_IMAGE") || "";
const IMAGE = GIVEN_IMAGE || "localhost/sage-test:offline";
const PREFIX = "sagetest-";
const STAGE = `${REPO}/dist/container-offline`;
// The offline variant of the Dockerfile: local base images and SAGE_BUILD=offline (the same Debian PostgreSQL
// packages as the real image). Host networking lets the build reach Debian's archive. A given image's fallback
// builds are the real build.
const BUILD_ARGS = GIVEN_IMAGE ? "" : [
  "--network host",
  "--build-arg SAGE_BUILD=offline",
  `--build-arg BUILD_BASE=${BASE_IMAGE}`,
  `--build-arg RUNTIME_BASE=${BASE_IMAGE}`,
].join(" ");
const SCRIPT = Deno.env.get("SAGE_TEST_SCRIPT") || "sh";

function log(message: string): void {
  console.error(`test:container: ${message}`);
}

async function run(cmd: string, args: string[], options: { cwd?: string; quiet?: boolean } = {}) {
  const out = await new Deno.Command(cmd, { args, cwd: options.cwd, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  const r = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  if (r.code !== 0 && !options.quiet) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}):\n${r.stderr}`);
  return r;
}

async function have(cmd: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${cmd}`], { quiet: true })).code === 0;
}

/** Debian trixie minbase, trimmed like Debian's "slim" images (no docs, man pages, locales or apt lists). */
async function ensureBaseImage(): Promise<void> {
  if ((await run(CLI, ["image", "inspect", BASE_IMAGE], { quiet: true })).code === 0) {
    log(`base image ${BASE_IMAGE} cached`);
    return;
  }
  const t0 = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "sage-trixie-" });
  try {
    log(`making ${BASE_IMAGE} with debootstrap (once; kept for later runs)`);
    const mirror = Deno.env.get("SAGE_TEST_DEBIAN_MIRROR") || "http://deb.debian.org/debian";
    await run("debootstrap", ["--variant=minbase", "trixie", dir, mirror]);
    await run("sh", [
      "-c",
      `cd "${dir}" && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* ` +
      "usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/locale/* && " +
      `printf '%s\\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' ` +
      `'path-exclude /usr/share/locale/*' > etc/dpkg/dpkg.cfg.d/01-slim`,
    ]);
    await run("sh", ["-c", `tar -C "${dir}" -c . | ${CLI} import - ${BASE_IMAGE} >/dev/null`]);
    log(`base image ready in ${Math.round((performance.now() - t0) / 1000)} s`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** What the offline build copies in instead of downloading: Deno, node_modules, the tiny model. */
async function stageVendor(): Promise<void> {
  await Deno.remove(STAGE, { recursive: true }).catch(() => {});
  await Deno.mkdir(STAGE, { recursive: true });
  await Deno.copyFile(await Deno.realPath(Deno.execPath()), `${STAGE}/deno`);
  await Deno.chmod(`${STAGE}/deno`, 0o755);
  try {
    await Deno.stat(`${REPO}/node_modules/.deno`);
  } catch {
    throw new Error("node_modules is missing: run scripts/setup first");
  }
  // Hard links: instant and free; the pruning below only unlinks names, never touches the shared files.
  if ((await run("cp", ["-al", `${REPO}/node_modules`, `${STAGE}/node_modules`], { quiet: true })).code !== 0) {
    await run("cp", ["-a", `${REPO}/node_modules`, `${STAGE}/node_modules`]);
  }
  await run(`${REPO}/scripts/prune-node-modules`, [`${STAGE}/node_modules`]);
  await writeTinyModel(`${STAGE}/model`);
}

async function danglingImages(): Promise<Set<string>> {
  const out = await run(CLI, ["images", "--filter", "dangling=true", "--format", "{{.ID}}"], { quiet: true });
  return new Set(out.stdout.split("\n").filter(Boolean));
}

/** Every container and volume a check made (and leftovers of an interrupted earlier run). */
async function cleanUp(): Promise<void> {
  const containers = (await run(CLI, ["ps", "-a", "--format", "{{.Names}}"], { quiet: true })).stdout.split("\n")
    .filter((n) => n.startsWith(`sage-${PREFIX}`) || n.startsWith(PREFIX));
  if (containers.length) await run(CLI, ["rm", "-f", "-t", "0", ...containers], { quiet: true });
  const volumes = (await run(CLI, ["volume", "ls", "--format", "{{.Name}}"], { quiet: true })).stdout.split("\n")
    .filter((n) => n.startsWith(PREFIX));
  if (volumes.length) await run(CLI, ["volume", "rm", "-f", ...volumes], { quiet: true });
  // Images the pull checks named after a loopback registry (127.0.0.1:<port>/sagetest/…), left by a failed check.
  const images = (await run(CLI, ["images", "--format", "{{.Repository}}:{{.Tag}}"], { quiet: true })).stdout
    .split("\n").filter((n) => /^127\.0\.0\.1:\d+\/sagetest\//.test(n));
  if (images.length) await run(CLI, ["rmi", "-f", ...images], { quiet: true });
}

/**
 * Debian's docker-registry on a free loopback port, storing in `dir`, and a registries.conf that marks it insecure
 * (plain HTTP) for podman. Returns the registry's address and a function that stops it.
 */
async function startRegistry(dir: string): Promise<{ address: string; conf: string; stop: () => Promise<void> }> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${(probe.addr as Deno.NetAddr).port}`;
  probe.close();
  await Deno.mkdir(`${dir}/storage`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.yml`,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/storage\n` +
      `http:\n  addr: ${address}\n`,
  );
  const conf = `${dir}/registries.conf`;
  await Deno.writeTextFile(conf, `[[registry]]\nlocation = "${address}"\ninsecure = true\n`);
  const child = new Deno.Command("docker-registry", {
    args: ["serve", `${dir}/config.yml`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
  };
  for (let i = 0;; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: Number(address.split(":")[1]) })).close();
      break;
    } catch (err) {
      if (i > 100) {
        await stop();
        throw new Error(`the registry did not start on ${address}: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { address, conf, stop };
}

let code = 1;
const root = await Deno.makeTempDir({ prefix: "sage-ct-" });
const danglingBefore = await danglingImages();
let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;
try {
  const needed = [
    CLI,
    "docker-registry",
    ...(GIVEN_IMAGE ? [] : ["debootstrap"]),
    ...(SCRIPT === "ps1" ? ["pwsh"] : []),
  ];
  for (const c of needed) {
    if (!(await have(c))) {
      throw new Error(
        `${c} is not installed; the container test needs it (it is not skipped): run scripts/setup --dev --containers`,
      );
    }
  }
  await cleanUp();
  if (GIVEN_IMAGE) {
    if ((await run(CLI, ["image", "inspect", IMAGE], { quiet: true })).code !== 0) {
      throw new Error(`SAGE_TEST_IMAGE=${IMAGE} is not a local image of ${CLI}`);
    }
    log(`testing the given image ${IMAGE}`);
  } else {
    await ensureBaseImage();
    await stageVendor();
    await run(CLI, ["rmi", "-f", IMAGE], { quiet: true });
  }
  registry = await startRegistry(`${root}/registry`);
  await Deno.mkdir(`${root}/home/.claude`, { recursive: true });
  const t0 = performance.now();
  const checks = ["checks.ts", "pull_checks.ts"].map((f) => `${REPO}/tests/container/${f}`);
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--config", `${REPO}/deno.json`, ...Deno.args, ...checks],
    env: {
      SAGE_CT_CLI: CLI,
      SAGE_CT_IMAGE: IMAGE,
      SAGE_CT_BUILD_ARGS: BUILD_ARGS,
      SAGE_CT_GIVEN: GIVEN_IMAGE ? "1" : "0",
      SAGE_CT_DIMENSIONS: GIVEN_IMAGE ? Deno.env.get("SAGE_TEST_DIMENSIONS") || "384" : "32",
      SAGE_CT_SCRIPT: SCRIPT,
      SAGE_CT_REGISTRY: registry.address,
      CONTAINERS_REGISTRIES_CONF: registry.conf,
      SAGE_CT_ROOT: root,
      SAGE_CT_PREFIX: PREFIX,
    },
    stdin: "null",
  }).spawn();
  code = (await proc.status).code;
  log(`checks took ${Math.round((performance.now() - t0) / 1000)} s`);
} catch (err) {
  console.error(`test:container setup failed: ${err instanceof Error ? err.message : err}`);
} finally {
  await registry?.stop().catch((err) => log(`stopping the registry: ${err.message}`));
  await cleanUp().catch((err) => log(`cleanup: ${err.message}`));
  // Build stages and replaced images this run left untagged (~700 MB each); the test image itself stays.
  const garbage = [...await danglingImages()].filter((id) => !danglingBefore.has(id));
  if (garbage.length) await run(CLI, ["rmi", "-f", ...garbage], { quiet: true });
  await Deno.remove(STAGE, { recursive: true }).catch(() => {});
  await Deno.remove(`${REPO}/dist`).catch(() => {}); // only if nothing else is in it
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
Deno.exit(code);
