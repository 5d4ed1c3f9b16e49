/**
 * Handshake times of the container, for the README and the issue (not a test; CI does not run it):
 * `deno run -A tests/container/measure.ts [runs]` after `deno task test:container` has built the offline image
 * (or SAGE_TEST_IMAGE=<image>: scripts/release check measures the real one).
 *
 * For each case, the time from starting `run_sage_single.sh` (or `podman run --rm -i IMAGE`) to the `initialize`
 * reply, as Claude Code would see it:
 *   fresh volume         no volume and no container yet: creates both, initdb, starts PostgreSQL, migrates
 *   running container    a second window: the container is up, the session joins it
 *   stopped container    the first window after a reboot or `stop`: starts the container (crash-free restart)
 *   one-shot             `run --rm -i IMAGE` with an anonymous volume (initdb every time)
 * Also prints the image size. Volumes and containers it makes are removed at the end.
 */
const root = await Deno.makeTempDir({ prefix: "sage-measure-" });
await Deno.mkdir(`${root}/home/.claude`, { recursive: true });
Deno.env.set("SAGE_CT_CLI", Deno.env.get("SAGE_CONTAINER_CLI") || "podman");
Deno.env.set("SAGE_CT_IMAGE", Deno.env.get("SAGE_TEST_IMAGE") || "localhost/sage-test:offline");
Deno.env.set("SAGE_CT_BUILD_ARGS", "--this-image-must-exist");
Deno.env.set("SAGE_CT_ROOT", root);
Deno.env.set("SAGE_CT_PREFIX", "sagemeasure-");
const { cli, cliOk, CLI, containerOf, HOME, IMAGE, newVolume, Rpc } = await import("./support.ts");

const runs = Number(Deno.args[0] ?? 7);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const report = (name: string, xs: number[]) =>
  console.log(`${name.padEnd(20)} median ${Math.round(median(xs))} ms   (${xs.map(Math.round).join(", ")})`);

async function handshake(start: () => InstanceType<typeof Rpc>): Promise<number> {
  const s = start();
  const took = await s.initialize();
  await s.tool("get_status"); // the session really works
  const status = await s.close();
  if (status.code !== 0) throw new Error(`session failed: ${s.stderr}`);
  return took;
}

try {
  if ((await cli(["image", "inspect", IMAGE])).code !== 0) {
    throw new Error(`${IMAGE} is missing: run \`deno task test:container\` first`);
  }
  const size = Number((await cliOk(["image", "inspect", "-f", "{{.Size}}", IMAGE])).trim());
  console.log(`image ${IMAGE}: ${(size / 1e6).toFixed(0)} MB`);

  const fresh: number[] = [];
  const volumes: string[] = [];
  for (let i = 0; i < runs; i++) {
    const volume = newVolume("fresh");
    volumes.push(volume);
    fresh.push(await handshake(() => Rpc.script(volume)));
  }
  report("fresh volume", fresh);

  const volume = volumes[0];
  const running: number[] = [];
  for (let i = 0; i < runs; i++) running.push(await handshake(() => Rpc.script(volume)));
  report("running container", running);

  const stopped: number[] = [];
  for (let i = 0; i < runs; i++) {
    await cliOk(["stop", "-t", "30", containerOf(volume)]);
    stopped.push(await handshake(() => Rpc.script(volume)));
  }
  report("stopped container", stopped);

  const oneShot: number[] = [];
  const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME };
  for (let i = 0; i < runs; i++) {
    oneShot.push(await handshake(() => new Rpc(CLI, ["run", "--rm", "-i", "--network", "none", IMAGE], { env })));
  }
  report("one-shot", oneShot);
} finally {
  const names = (await cli(["ps", "-a", "--format", "{{.Names}}"])).stdout.split("\n")
    .filter((n) => n.startsWith("sage-sagemeasure-"));
  if (names.length) await cli(["rm", "-f", "-t", "0", ...names]);
  const volumes = (await cli(["volume", "ls", "--format", "{{.Name}}"])).stdout.split("\n")
    .filter((n) => n.startsWith("sagemeasure-"));
  if (volumes.length) await cli(["volume", "rm", "-f", ...volumes]);
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
