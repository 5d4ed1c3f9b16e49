/**
 * The container, for real: run_sage_single.sh (or .ps1, SAGE_TEST_SCRIPT=ps1) with podman, the image's PostgreSQL,
 * the real Claude Code CLI. Run by tests/container/run.ts (`deno task test:container`), which prepares the base image
 * and the offline build; not part of `deno task test`. The checks run in order: the first one builds the image
 * through the run script (unless the image under test was given). pull_checks.ts runs after these.
 */
import assert from "node:assert/strict";
import {
  assertClaudeConnected,
  CLAUDE_MOUNT,
  CLI,
  cli,
  cliOk,
  containerOf,
  DIMENSIONS,
  eventually,
  GIVEN,
  HOME,
  IMAGE,
  lastStart,
  newVolume,
  postgresLog,
  postmasters,
  processes,
  PS1,
  REPO,
  ROOT,
  Rpc,
  runScript,
  SCRIPT,
  scriptEnv,
  volumeLog,
} from "./support.ts";
import { encodeProjectFolder } from "../../lib/memory/transcript_files.ts";
import { appendTurn, mainSession, Transcript } from "../support/transcripts.ts";

const token = () => Math.random().toString(36).slice(2, 10);
/** Eight hex digits: the start of a session id. */
const hex8 = () => crypto.randomUUID().slice(0, 8);
const ms = (n: number) => `${Math.round(n)} ms`;

async function removeContainer(volume: string): Promise<void> {
  await cli(["rm", "-f", "-t", "2", containerOf(volume)]);
}

/** A folder inside a git checkout, like the place Claude Code starts servers from. */
async function projectDir(): Promise<{ root: string; cwd: string }> {
  const root = await Deno.makeTempDir({ dir: ROOT, prefix: "project-" });
  await Deno.mkdir(`${root}/.git`);
  await Deno.mkdir(`${root}/src/deep`, { recursive: true });
  return { root, cwd: `${root}/src/deep` };
}

Deno.test({
  name: "the run script builds the missing image from the checkout (local name); stdout carries only sage's output",
  // A given image (the release workflow's) is used as it is: it was built, and is not removed, by the workflow.
  ignore: GIVEN,
  async fn() {
    const volume = newVolume("build");
    assert.notEqual((await cli(["image", "inspect", IMAGE])).code, 0, "the image should be missing before this check");
    const t0 = performance.now();
    const r = await runScript(["status", "--json"], { volume });
    console.error(`  image built and first status answered in ${ms(performance.now() - t0)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /building the image .* \(a local image name, never pulled;/);
    assert.doesNotMatch(r.stderr, /pulling/);
    // The build's progress went to stderr: stdout is exactly the one JSON document `status --json` prints.
    checkStatus(r.stdout);
    assert.equal((await cli(["image", "inspect", IMAGE])).code, 0);
    await removeContainer(volume);
  },
});

Deno.test("the run script runs a present image as it is: no pull, no build", async () => {
  const volume = newVolume("present");
  const r = await runScript(["status", "--json"], { volume });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /building|pulling/);
  checkStatus(r.stdout);
  await removeContainer(volume);
});

/** `status --json` of a working image: the database, pgvector, and the bundled model with no SAGE_EMBED_MODEL set. */
function checkStatus(stdout: string): void {
  const status = JSON.parse(stdout);
  assert.equal(status.database.connected, true, stdout);
  assert.match(status.database.pgvector_version, /^\d+\.\d+/);
  assert.equal(status.model.state, "ready", JSON.stringify(status.model));
  assert.equal(status.model.dimensions, DIMENSIONS);
}

Deno.test("fresh volume: stdout is JSON-RPC from the first byte, logs go to stderr", async () => {
  const volume = newVolume("fresh");
  // debug: as much logging as possible, all of which must stay off stdout.
  const s = Rpc.script(volume, { env: { SAGE_LOG_LEVEL: "debug" } });
  const took = await s.initialize();
  console.error(`  fresh volume: initialize answered after ${ms(took)}`);
  const status = await s.tool("get_status");
  assert.match(status.content[0].text ?? "", /pgvector/);
  const id = await s.save(`fresh volume note ${token()}`);
  assert.ok(id > 0);
  assert.equal((await s.close()).code, 0, s.stderr);
  assert.ok(s.checkStdout() >= 3);
  assert.match(s.stderr, /debug/i, "debug logging should have reached stderr");
  await removeContainer(volume);
});

Deno.test("Claude Code: claude mcp add sage <script> + claude mcp list shows Connected", async () => {
  const volume = newVolume("claude");
  const { cwd } = await projectDir();
  // The user's environment: our image and volume, an isolated HOME. A fresh volume, the slowest case.
  await assertClaudeConnected(scriptEnv(volume), cwd);
  await removeContainer(volume);
});

Deno.test("memories survive stopping, starting and re-creating the container", async () => {
  const volume = newVolume("persist");
  const container = containerOf(volume);
  const text = `the persistence check ${token()} keeps this note`;
  const a = Rpc.script(volume);
  await a.initialize();
  const id = await a.save(text);
  assert.equal((await a.close()).code, 0, a.stderr);

  // SIGTERM: the entrypoint stops PostgreSQL cleanly, well before the engine would resort to SIGKILL.
  const t0 = performance.now();
  await cliOk(["stop", "-t", "30", container]);
  assert.ok(performance.now() - t0 < 20_000, `stop took ${ms(performance.now() - t0)}`);
  assert.equal((await cliOk(["inspect", "-f", "{{.State.ExitCode}}", container])).trim(), "0");

  const b = Rpc.script(volume);
  await b.initialize();
  assert.ok((await b.search(text)).includes(id), "the memory is gone after stop + start");
  assert.equal(lastStart(await postgresLog(container)), "clean", "PostgreSQL was not shut down cleanly");
  assert.equal((await b.close()).code, 0, b.stderr);

  // The container is disposable; the volume is what matters.
  await cliOk(["rm", "-f", "-t", "10", container]);
  const c = Rpc.script(volume);
  await c.initialize();
  const got = await c.tool("get_memory", { id });
  assert.equal(got.structuredContent?.content, text);
  assert.equal((await c.close()).code, 0, c.stderr);
  await removeContainer(volume);
});

Deno.test("upgrading: a rebuilt image replaces the container once it is stopped; the data stays", async () => {
  const volume = newVolume("upgrade");
  const container = containerOf(volume);
  const a = Rpc.script(volume);
  await a.initialize();
  const text = `written before the upgrade ${token()}`;
  const id = await a.save(text);
  // A "new version" of the image: same content, another image id.
  const newer = `${IMAGE}-newer`;
  const build = await cli(
    ["build", "-t", newer, "-f", "-", ROOT],
    `FROM ${IMAGE}\nLABEL sage.test.upgrade="${token()}"\n`,
  );
  assert.equal(build.code, 0, build.stderr);
  try {
    // While a session uses the old container, the script keeps it and says how to upgrade.
    const busy = await runScript(["status"], { volume, env: { SAGE_IMAGE: newer } });
    assert.equal(busy.code, 0, busy.stderr);
    assert.match(busy.stderr, /runs an older image; to upgrade, stop it/);
    assert.equal((await a.close()).code, 0, a.stderr);
    await cliOk(["stop", "-t", "30", container]);
    const b = Rpc.script(volume, { env: { SAGE_IMAGE: newer } });
    await b.initialize();
    assert.equal((await b.tool("get_memory", { id })).structuredContent?.content, text);
    assert.equal((await b.close()).code, 0, b.stderr);
    const now = (await cliOk(["container", "inspect", "-f", "{{.Image}}", container])).trim().replace(/^sha256:/, "");
    const want = (await cliOk(["image", "inspect", "-f", "{{.Id}}", newer])).trim().replace(/^sha256:/, "");
    assert.equal(now, want, "the container was not re-created from the new image");
  } finally {
    await removeContainer(volume);
    await cli(["rmi", "-f", newer]);
  }
});

Deno.test("concurrent sessions from a cold start share one PostgreSQL and see each other's memories", async () => {
  const volume = newVolume("concurrent");
  const container = containerOf(volume);
  const { cwd } = await projectDir();
  // Three windows start at once on a volume with no container yet: every one races to create it.
  const sessions = [Rpc.script(volume, { cwd }), Rpc.script(volume, { cwd }), Rpc.script(volume, { cwd })];
  const times = await Promise.all(sessions.map((s) => s.initialize()));
  console.error(`  three simultaneous cold starts: initialize after ${times.map(ms).join(", ")}`);
  const tag = token();
  const ids = await Promise.all(sessions.map((s, i) => s.save(`window ${i} wrote note ${tag} number ${i}`)));
  for (const s of sessions) {
    const found = await s.search(`note ${tag}`);
    for (const id of ids) assert.ok(found.includes(id), `a session does not see memory ${id}: ${found}`);
  }
  const procs = await processes(container);
  assert.equal(postmasters(procs).length, 1, `postmasters:\n${postmasters(procs).map((p) => p.cmdline).join("\n")}`);
  const running = (await cliOk(["ps", "--filter", `volume=${volume}`, "--format", "{{.Names}}"])).trim().split("\n");
  assert.deepEqual(running, [container]);

  // A second container on the same volume (a one-shot run, say) refuses to start PostgreSQL.
  const rival = await cli(["run", "--rm", "-i", "--network", "none", "-v", `${volume}:/var/lib/sage`, IMAGE], "");
  assert.notEqual(rival.code, 0);
  assert.equal(rival.stdout, "");
  assert.match(rival.stderr, /already using the data volume/);
  assert.equal(postmasters(await processes(container)).length, 1);

  for (const s of sessions) assert.equal((await s.close()).code, 0, s.stderr);
  for (const s of sessions) s.checkStdout();
  await removeContainer(volume);
});

Deno.test("kill -9 of the container during a stream of saves loses no acknowledged save; the next start recovers", async () => {
  const volume = newVolume("kill");
  const container = containerOf(volume);
  const s = Rpc.script(volume);
  await s.initialize();
  // A hard kill keeps the page cache, so the check below would pass even without fsync; that a power cut is
  // survived too rests on PostgreSQL's durability settings, which must be the defaults.
  const settings = await cliOk([
    "exec",
    container,
    "psql",
    "-h",
    "/run/sage",
    "-U",
    "sage",
    "-d",
    "sage",
    "-tAc",
    "SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')",
  ]);
  assert.equal(settings.trim(), "on|on|on");
  const acked: { id: number; content: string }[] = [];
  let stop = false;
  const tag = token();
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      // A random word per save: Sage merges notes that say the same thing, even in another order.
      const content = `stream ${tag} writer ${w} save ${i} ${token()}`;
      try {
        acked.push({ id: await s.save(content), content });
      } catch {
        return; // the container is gone
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  await eventually(() => Promise.resolve(assert.ok(acked.length >= 60)), 120_000, 20);
  await cliOk(["kill", "--signal", "KILL", container]);
  const killedAt = acked.length;
  stop = true;
  await Promise.all(writers);
  await s.wait();
  console.error(`  ${killedAt} saves acknowledged before kill -9 (${acked.length} in all)`);

  const t = Rpc.script(volume);
  await t.initialize();
  assert.equal(lastStart(await postgresLog(container)), "recovered", "PostgreSQL did not go through crash recovery");
  for (const { id, content } of acked) {
    const got = await t.tool("get_memory", { id });
    assert.equal(got.structuredContent?.content, content, `acknowledged save ${id} was lost`);
  }
  assert.ok((await t.save(`after the crash ${tag}`)) > 0);
  assert.equal((await t.close()).code, 0, t.stderr);
  await removeContainer(volume);
});

Deno.test("no port listens inside the container and the run script publishes none", async () => {
  const volume = newVolume("ports");
  const container = containerOf(volume);
  const s = Rpc.script(volume);
  await s.initialize();
  await s.save(`a note while checking sockets ${token()}`);
  // Every TCP/UDP socket of the container's network namespace, listening or not (header line only = none).
  const net = await cliOk([
    "exec",
    container,
    "sh",
    "-c",
    "for f in tcp tcp6 udp udp6 raw raw6; do echo \"== $f\"; cat /proc/net/$f; done; echo '== dev'; cat /proc/net/dev",
  ]);
  for (const section of net.split("== ").slice(1)) {
    const [name, ...lines] = section.trim().split("\n");
    if (name === "dev") {
      const ifaces = lines.slice(2).map((l) => l.split(":")[0].trim());
      assert.deepEqual(ifaces, ["lo"], `network interfaces: ${ifaces}`);
    } else {
      assert.equal(lines.length, 1, `/proc/net/${name} has sockets:\n${lines.join("\n")}`);
    }
  }
  // PostgreSQL's only endpoint is its Unix socket.
  const unix = await cliOk(["exec", container, "cat", "/proc/net/unix"]);
  assert.match(unix, /\/run\/sage\/\.s\.PGSQL\.5432/);
  const inspect = JSON.parse(await cliOk(["container", "inspect", container]))[0];
  assert.equal(inspect.HostConfig.NetworkMode, "none");
  assert.deepEqual(inspect.HostConfig.PortBindings ?? {}, {});
  // (postgres:16 declares EXPOSE 5432, which shows here as a port with no binding; none may be bound.)
  for (const [port, bindings] of Object.entries(inspect.NetworkSettings?.Ports ?? {})) {
    assert.ok(
      !bindings || (bindings as unknown[]).length === 0,
      `port ${port} is published: ${JSON.stringify(bindings)}`,
    );
  }
  assert.equal((await s.close()).code, 0, s.stderr);
  await removeContainer(volume);
});

Deno.test("one-shot `run --rm -i IMAGE` is an MCP server and stops PostgreSQL cleanly on EOF and on SIGTERM", async () => {
  // The README's throwaway use: an anonymous volume. (--network none keeps the check independent of the host's
  // container network stack; Sage needs no network.)
  const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME };
  const oneShot = new Rpc(CLI, ["run", "--rm", "-i", "--network", "none", IMAGE], { env });
  const took = await oneShot.initialize();
  console.error(`  one-shot: initialize answered after ${ms(took)}`);
  const text = `one-shot note ${token()}`;
  const id = await oneShot.save(text);
  assert.ok((await oneShot.search(text)).includes(id));
  assert.equal((await oneShot.close()).code, 0, oneShot.stderr);
  oneShot.checkStdout();

  // With a named volume: SIGTERM (`stop`) ends it cleanly, and the next run finds the memory.
  const volume = newVolume("oneshot");
  const name = `${volume}-run`;
  const args = ["run", "--rm", "-i", "--name", name, "--network", "none", "-v", `${volume}:/var/lib/sage`, IMAGE];
  const first = new Rpc(CLI, args, { env });
  await first.initialize();
  const kept = await first.save(`kept across one-shot runs ${token()}`);
  await cliOk(["stop", "-t", "30", name]);
  const status = await first.wait();
  assert.equal(status.code, 0, `exit ${status.code}: ${first.stderr}`);
  first.checkStdout();
  assert.equal(lastStart(await volumeLog(volume)), "clean");
  const second = new Rpc(CLI, args, { env });
  await second.initialize();
  assert.ok((await second.tool("get_memory", { id: kept })).structuredContent?.content);
  assert.equal((await second.close()).code, 0, second.stderr);
  assert.match(await volumeLog(volume), /database system was shut down at/);
  assert.equal(lastStart(await volumeLog(volume)), "clean");
});

Deno.test("PID 1 reaps: a killed postmaster is restarted, orphans leave no zombies, sessions carry on", async () => {
  const volume = newVolume("reap");
  const container = containerOf(volume);
  const s = Rpc.script(volume);
  await s.initialize();
  const before = await s.save(`before the postmaster died ${token()}`);
  const [pm] = postmasters(await processes(container));
  assert.ok(pm, "no postmaster");
  await cliOk(["exec", container, "sh", "-c", `kill -9 ${pm.pid}`]);
  const [again] = await eventually(async () => {
    const p = postmasters(await processes(container));
    assert.equal(p.length, 1);
    assert.notEqual(p[0].pid, pm.pid);
    return p;
  });
  // Orphans (the old backends, and this shell's background sleep) are adopted by PID 1, which must reap them.
  await cliOk(["exec", container, "sh", "-c", "sleep 0.5 & exit 0"]);
  await eventually(async () => {
    const zombies = (await processes(container)).filter((p) => p.state === "Z");
    assert.deepEqual(zombies, [], "zombie processes");
  }, 15_000);
  assert.equal(postmasters(await processes(container))[0].pid, again.pid);
  // The open session reconnects once the database is back; new sessions work too.
  const during = await eventually(() => s.tool("save_memory", { content: `after the restart ${token()}` }), 60_000);
  assert.ok(during.structuredContent?.id);
  const t = Rpc.script(volume);
  await t.initialize();
  assert.ok((await t.tool("get_memory", { id: before })).structuredContent?.content);
  assert.equal((await t.close()).code, 0, t.stderr);
  assert.equal((await s.close()).code, 0, s.stderr);
  await removeContainer(volume);
});

Deno.test("data from another PostgreSQL major version is refused with a clear message, nothing on stdout", async () => {
  const volume = newVolume("major");
  const first = await runScript(["status"], { volume });
  assert.equal(first.code, 0, first.stderr);
  await cliOk(["rm", "-f", "-t", "10", containerOf(volume)]);
  // As if the volume had been made by an image with PostgreSQL 15.
  const v = ["run", "--rm", "--network", "none", "--entrypoint", "sh", "-v", `${volume}:/v`, IMAGE];
  await cliOk([...v, "-c", "echo 15 > /v/pgdata/PG_VERSION"]);
  const r = await runScript(["status"], { volume });
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /written by PostgreSQL 15, and this image has PostgreSQL \d+/);
  assert.match(r.stderr, /stopped right after starting/);
  await removeContainer(volume);
});

Deno.test({
  name: "a hook through the run script costs little more than the engine's exec of a no-op (medians printed)",
  ignore: PS1, // the fast path is the shell script's
}, async () => {
  // Not a timed test (our machines are shared): it checks that the warm hook works through the script, and prints the
  // figures the README quotes, measured side by side.
  const volume = newVolume("hooklatency");
  const { cwd } = await projectDir();
  const session = Rpc.script(volume, { cwd });
  try {
    await session.initialize();
    await session.tool("save_memory", { content: "The release checklist ends with the smoke tests before tagging." });
    const container = containerOf(volume);
    // The server answers hooks once its socket is up (right after initialize).
    await eventually(async () =>
      (await cli(["exec", container, "sh", "-c", "ls /var/lib/sage/run/hooks-*.sock"])).code === 0 || undefined
    );
    const floor: number[] = [];
    const hook: number[] = [];
    for (let i = 0; i < 11; i++) {
      let t = performance.now();
      await cliOk(["exec", container, "true"]);
      floor.push(performance.now() - t);
      const prompt = { hook_event_name: "UserPromptSubmit", session_id: `latency-${i}`, cwd };
      t = performance.now();
      const r = await runScript(["hook", "UserPromptSubmit"], {
        volume,
        cwd,
        stdin: JSON.stringify({ ...prompt, prompt: "What ends the release checklist before tagging?" }),
      });
      hook.push(performance.now() - t);
      assert.equal(r.code, 0, r.stderr);
      assert.match(JSON.parse(r.stdout).hookSpecificOutput.additionalContext, /smoke tests before tagging/);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `UserPromptSubmit through run_sage_single.sh: median ${Math.round(median(hook))} ms; ` +
        `${CLI} exec of a no-op: ${Math.round(median(floor))} ms; the hook costs ${
          Math.round(median(hook) - median(floor))
        } ms more (11 runs each, alternating)`,
    );
  } finally {
    await session.close();
    await removeContainer(volume);
  }
});

Deno.test("a Claude Code hook in the container reads the transcript by its host path (~/.claude mounted)", async () => {
  const volume = newVolume("hook");
  const { root, cwd } = await projectDir();
  // A real transcript shape (tests/fixtures), where Claude Code keeps transcripts: under ~/.claude/projects.
  const fixture = await Deno.readTextFile(`${REPO}/tests/fixtures/transcripts/session.jsonl`);
  const sessionId = fixture.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.sessionId)?.sessionId;
  assert.ok(sessionId, "no sessionId in the fixture");
  const dir = `${HOME}/.claude/projects/${token()}`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${sessionId}.jsonl`;
  await Deno.writeTextFile(path, fixture);
  const input = { hook_event_name: "Stop", session_id: sessionId, transcript_path: path, cwd, stop_hook_active: false };
  const r = await runScript(["hook", "Stop"], { volume, cwd, stdin: JSON.stringify(input) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "", `the Stop hook printed: ${r.stdout}`);
  const exp = await runScript(["export", "--session", sessionId], { volume, cwd });
  assert.equal(exp.code, 0, exp.stderr);
  const turns = exp.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .filter((m) => m.kind === "conversation");
  assert.ok(turns.length > 0, `no turn captured from ${path}:\n${exp.stdout}\n${r.stderr}`);
  for (const t of turns) assert.equal(t.project, root);
  await removeContainer(volume);
});

Deno.test({
  name:
    "backfill through the run script: the default folder is the host's mounted ~/.claude, turns land in the host project",
  ignore: PS1, // the PowerShell script mounts Claude Code's folder at /mnt/claude, with paths mapped: not this check
}, async () => {
  const volume = newVolume("backfill");
  const { root, cwd } = await projectDir();
  // Two sessions started in a subfolder of the project, where Claude Code keeps them.
  const later = new Transcript(`${hex8()}-0000-4000-a000-000000000002`);
  appendTurn(later, "部署到预发布环境之前要做什么？", "先跑迁移测试，再更新变更日志。");
  appendTurn(later, "And after the deploy?", "Check the health endpoint and the error rate for ten minutes.");
  const sessions = [mainSession(`${hex8()}-0000-4000-a000-000000000001`).t, later];
  const dir = `${HOME}/.claude/projects/${encodeProjectFolder(cwd)}`;
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const t of sessions) {
    for (const e of t.entries) if ("cwd" in e) e.cwd = cwd;
    paths.push(`${dir}/${t.sessionId}.jsonl`);
    await Deno.writeTextFile(paths[paths.length - 1], t.text());
  }
  const backfill = async (args: string[]) => {
    const r = await runScript(["backfill", "--json", ...args], { volume, cwd });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  // No DIR: the container finds the host's folder (CLAUDE_CONFIG_DIR, passed by the script, is where it is mounted).
  const dry = await backfill(["--dry-run"]);
  assert.equal(dry.dir, `${HOME}/.claude/projects`);
  assert.ok(dry.turns.found >= 6, JSON.stringify(dry));
  // The container cannot see the project's git root; named with --project, the subfolder's sessions land in it.
  const first = await backfill(["--project", root]);
  assert.deepEqual([first.turns.saved, first.turns.updated], [6, 0]);
  assert.deepEqual(first.projects, { [root]: 6 });
  const again = await backfill(["--project", root]);
  assert.deepEqual([again.turns.saved, again.turns.updated, again.turns.unchanged], [0, 0, 6]);
  // A Stop hook on the same transcript afterwards stores nothing twice.
  const input = { hook_event_name: "Stop", session_id: sessions[0].sessionId, transcript_path: paths[0], cwd };
  const hook = await runScript(["hook", "Stop"], { volume, cwd, stdin: JSON.stringify(input) });
  assert.equal(hook.code, 0, hook.stderr);
  const exp = await runScript(["export"], { volume, cwd });
  const turns = exp.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((m) => m.kind === "conversation");
  assert.equal(turns.length, 6, exp.stdout);
  assert.ok(turns.every((m) => m.project === root));
  await removeContainer(volume);
});

Deno.test({
  name: "run_sage_single.sh hooks install writes the host's Claude Code settings, keeping other hooks",
  ignore: PS1, // run_sage_single.ps1 has no `hooks` command: on Windows the README has them added by hand
}, async () => {
  const volume = newVolume("hooks");
  const settingsPath = `${HOME}/.claude/settings.json`;
  const before = await Deno.readTextFile(settingsPath).catch(() => null);
  const original = { hooks: { Stop: [{ hooks: [{ type: "command", command: "echo mine" }] }] }, theme: "dark" };
  await Deno.mkdir(`${HOME}/.claude`, { recursive: true });
  await Deno.writeTextFile(settingsPath, JSON.stringify(original));
  try {
    const dry = await runScript(["hooks", "install", "--dry-run"], { volume });
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(settingsPath)), original, "--dry-run wrote nothing");
    const r = await runScript(["hooks", "install"], { volume });
    assert.equal(r.code, 0, r.stderr);
    const installed = JSON.parse(await Deno.readTextFile(settingsPath));
    const stop = installed.hooks.Stop.flatMap((g: { hooks: { command: string }[] }) => g.hooks.map((h) => h.command));
    assert.deepEqual(stop, ["echo mine", `${SCRIPT} hook Stop`]);
    assert.equal(installed.theme, "dark");
    assert.equal((await Deno.stat(settingsPath)).uid, Deno.uid(), "the file stays the caller's");
    const u = await runScript(["hooks", "uninstall"], { volume });
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(settingsPath)), original);
  } finally {
    if (before === null) await Deno.remove(settingsPath).catch(() => {});
    else await Deno.writeTextFile(settingsPath, before);
  }
});

Deno.test("the run script forwards commands, stdin, exit codes, the host project and settings", async () => {
  const volume = newVolume("args");
  const container = containerOf(volume);
  const { root, cwd } = await projectDir();
  const tag = token();
  const lines = [
    JSON.stringify({ content: `imported through stdin ${tag} one`, kind: "fact", tags: ["ct"] }),
    JSON.stringify({ content: `imported through stdin ${tag} two`, kind: "decision" }),
  ].join("\n") + "\n";
  const imp = await runScript(["import", "-", "--json"], { volume, cwd, stdin: lines });
  assert.equal(imp.code, 0, imp.stderr);
  JSON.parse(imp.stdout);

  // The memories belong to the host project (the git root above the working directory), not to a container path.
  const exp = await runScript(["export"], { volume, cwd });
  assert.equal(exp.code, 0, exp.stderr);
  const exported = exp.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(exported.length, 2, exp.stdout);
  for (const m of exported) assert.equal(m.project, root);

  const help = await runScript(["--help"], { volume });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^sage \d/);
  const unknown = await runScript(["no-such-command"], { volume });
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, "");
  assert.match(unknown.stderr, /unknown command/);
  // Settings reach sage: an invalid log level is refused by sage itself, inside the container.
  const level = await runScript(["status"], { volume, env: { SAGE_LOG_LEVEL: "chatty" } });
  assert.equal(level.code, 2, level.stderr);
  assert.match(level.stderr, /unknown log level "chatty"/);
  const project = await runScript(["status", "--json"], { volume, env: { SAGE_PROJECT: "/elsewhere/repo" } });
  assert.equal(JSON.parse(project.stdout).project, "/elsewhere/repo");

  // Host-side paths are not passed: the container keeps its own data directory, model and logs.
  const hostOnly = await runScript(["status", "--json"], {
    volume,
    env: { SAGE_HOME: "/host/only/.sage", SAGE_EMBED_MODEL: "/host/only/model", SAGE_LOG_FILE: "/host/only/log" },
  });
  assert.equal(hostOnly.code, 0, hostOnly.stderr);
  assert.equal(JSON.parse(hostOnly.stdout).model.state, "ready", hostOnly.stdout);

  // ~/.claude is mounted read-only (sh: at the same path, so hooks can read transcripts by their host path).
  await Deno.writeTextFile(`${HOME}/.claude/probe.jsonl`, `{"probe":"${tag}"}\n`);
  assert.equal((await cliOk(["exec", container, "cat", `${CLAUDE_MOUNT}/probe.jsonl`])).trim(), `{"probe":"${tag}"}`);
  const write = await cli(["exec", container, "sh", "-c", `echo x > '${CLAUDE_MOUNT}/nope'`]);
  assert.notEqual(write.code, 0, "the .claude mount should be read-only");

  // Bad settings: clear errors, nothing on stdout.
  const badVolume = await runScript(["status"], { volume: "../etc" });
  assert.equal(badVolume.code, 2);
  assert.match(badVolume.stderr, /SAGE_VOLUME="\.\.\/etc" is not a volume name/);
  assert.equal(badVolume.stdout, "");
  const badCli = await runScript(["status"], { volume, env: { SAGE_CONTAINER_CLI: "no-such-engine" } });
  assert.equal(badCli.code, 2);
  assert.match(badCli.stderr, /SAGE_CONTAINER_CLI=no-such-engine: no such command/);
  // The script leaves nothing behind in TMPDIR (it execs the CLI, so its own cleanup must come first).
  for await (const e of Deno.readDir(ROOT)) assert.ok(!e.name.startsWith("sage-run."), `left behind: ${e.name}`);
  await removeContainer(volume);
});

Deno.test({
  name: "Claude Code plugin, container runtime: its copy of run_sage_single.sh serves, the hooks run in the container",
  ignore: PS1, // the plugin runs the shell script on every system it supports
}, async () => {
  const volume = newVolume("plugin");
  const claude = `${REPO}/.tools/bin/claude`;
  // The image (the first check builds it; built here when this check runs alone), and the volume's container.
  const status = await runScript(["status"], { volume });
  assert.equal(status.code, 0, status.stderr);
  // The plugin as Claude Code runs it when installed from a git repository: the plugin folder alone, symlinks
  // copied as files, nothing of the checkout beside it (so the launcher runs the plugin's own run_sage_single.sh).
  const market = await Deno.makeTempDir({ dir: ROOT, prefix: "plugin-market-" });
  await Deno.mkdir(`${market}/.claude-plugin`);
  await Deno.copyFile(`${REPO}/.claude-plugin/marketplace.json`, `${market}/.claude-plugin/marketplace.json`);
  const cp = await new Deno.Command("cp", { args: ["-rL", `${REPO}/plugin`, `${market}/plugin`] }).output();
  assert.equal(cp.code, 0, new TextDecoder().decode(cp.stderr));
  // Claude Code's own HOME (the other checks share HOME's settings), the user's settings for the container.
  const home = await Deno.makeTempDir({ dir: ROOT, prefix: "plugin-home-" });
  const { cwd } = await projectDir();
  const env = {
    ...scriptEnv(volume),
    HOME: home,
    SAGE_LOG_LEVEL: "debug",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
  };
  const run = async (args: string[]) => {
    const out = await new Deno.Command(claude, { args, env, clearEnv: true, cwd, stdout: "piped", stderr: "piped" })
      .output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  for (const args of [["plugin", "marketplace", "add", market], ["plugin", "install", "sage@sage"]]) {
    const r = await run(args);
    assert.equal(r.code, 0, `claude ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  }
  const list = await run(["mcp", "list"]);
  const line = list.stdout.split("\n").find((l) => l.startsWith("plugin:sage:sage:"));
  assert.ok(line, `the plugin's server is missing from claude mcp list:\n${list.stdout}${list.stderr}`);
  assert.ok(line.includes(`${market}/plugin/scripts/sage-plugin serve`), line);
  assert.match(line, /Connected/, line);
  assert.doesNotMatch(line, /Failed|✗/, line);

  // No account: `claude -p` runs SessionStart and UserPromptSubmit, which reach sage in the container.
  const debugLog = `${home}/claude-debug.log`;
  const p = await run(["-p", "What did we decide about the database?", "--debug-file", debugLog]);
  assert.match(p.stdout + p.stderr, /Not logged in/);
  const log = await Deno.readTextFile(debugLog);
  const hooksLog = await cliOk(["exec", containerOf(volume), "cat", "/var/lib/sage/logs/hooks.log"]);
  for (const event of ["SessionStart", "UserPromptSubmit"]) {
    assert.match(log, new RegExp(`${event}(:\\w+)? \\[[^\\]]*sage-plugin"? hook ${event}\\] .*with status 0`), event);
    assert.match(hooksLog, new RegExp(`hook done .*"event":"${event}"`), hooksLog);
  }
  // `hooks status` through the script (sage in a one-off container that sees only ~/.claude) finds the plugin.
  const hooks = await runScript(["hooks", "status"], { volume, env: { HOME: home } });
  assert.equal(hooks.code, 0, hooks.stderr);
  assert.match(hooks.stdout, /no Sage hooks\nClaude Code plugin sage@sage: installed, enabled/, hooks.stdout);
  await removeContainer(volume);
});
