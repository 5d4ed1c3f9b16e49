/**
 * The private cluster after the worst: `kill -9` of its postmaster while a backend is still busy (its shared memory
 * stays attached for seconds), and a full disk. Commands start the cluster again by themselves; a full disk is
 * named as such, with the room PostgreSQL needs, and Sage goes on by itself once there is room. Real processes;
 * the disk is a small tmpfs mounted for the test (root only) and always unmounted.
 */
import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { clusterPaths } from "../lib/db/cluster.ts";
import { runSage, tempDir } from "./support/harness.ts";
import { connectSage, type SageClient } from "./support/mcp_client.ts";

const asRoot = Deno.build.os === "linux" && Deno.uid() === 0;

async function passable(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await Deno.chmod(dir, 0o711); // the cluster's user (postgres, as root) passes through
  return dir;
}

function postmasterPid(dataDir: string): number {
  return Number(Deno.readTextFileSync(`${dataDir}/postmaster.pid`).split("\n")[0]);
}

Deno.test({
  name: "recovery: right after kill -9 of the postmaster (a backend still busy), the next command starts it again",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const home = `${await passable("k9-")}/home`;
  const env = { SAGE_HOME: home };
  const paths = clusterPaths(home);
  try {
    const saved = await runSage(["save", "Written before the crash."], { env });
    assert.equal(saved.code, 0, saved.stderr);
    // A backend in the middle of a long computation does not notice its postmaster died until it is done, and
    // keeps the shared memory attached meanwhile: a new postmaster refuses to start until then.
    const busy = new pg.Client({ host: paths.socketDir, user: "sage", database: "sage" });
    await busy.connect();
    busy.on("error", () => {});
    const working = busy.query("SELECT count(*) FROM generate_series(1, 30000000)").catch(() => null);
    await new Promise((r) => setTimeout(r, 300));
    Deno.kill(postmasterPid(paths.dataDir), "SIGKILL");
    const t0 = performance.now();
    const exported = await runSage(["export"], { env });
    const ms = Math.round(performance.now() - t0);
    assert.equal(exported.code, 0, `export right after kill -9 failed (${ms} ms):\n${exported.stderr}`);
    assert.match(exported.stdout, /Written before the crash\./);
    assert.doesNotMatch(exported.stderr, /ECONNREFUSED/);
    console.log(`export right after kill -9 with a busy backend: ${ms} ms`);
    await working;
    await busy.end().catch(() => {});
    const search = await runSage(["search", "crash", "--json"], { env });
    assert.equal(search.code, 0, search.stderr);
  } finally {
    await runSage(["db", "stop"], { env });
  }
});

/** Fills the file system holding `dir` to the last byte; returns the filler's path. */
async function fill(dir: string): Promise<string> {
  const path = `${dir}/filler`;
  const f = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(1 << 20);
  try {
    while (true) await f.write(chunk);
  } catch {
    // ENOSPC: full
  }
  const small = new Uint8Array(512);
  try {
    while (true) await f.write(small);
  } catch {
    // full to the block
  } finally {
    f.close();
  }
  return path;
}

Deno.test({
  name: "recovery: a full disk is named as such (with the 16 MB PostgreSQL needs), and Sage goes on once there is room",
  ignore: !asRoot,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const mount = await passable("disk-");
  const mounted = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=96m,mode=0711", "tmpfs", mount],
  }).output();
  assert.ok(mounted.success, `cannot mount a tmpfs: ${new TextDecoder().decode(mounted.stderr)}`);
  const home = `${mount}/home`;
  const env = { SAGE_HOME: home, SAGE_PROJECT: "/disk/full" };
  let server: SageClient | undefined;
  try {
    const first = await runSage(["save", "Saved while there was room."], { env });
    assert.equal(first.code, 0, first.stderr);
    server = await connectSage(env);
    assert.notEqual((await server.call("save_memory", { content: "Saved by the server." })).isError, true);
    const filler = await fill(mount);

    // A running cluster: writes fail with a clear reason.
    const big = "Stored while the disk is full. ".repeat(3000);
    const whileFull = await server.call("save_memory", { content: big });
    assert.equal(whileFull.isError, true, "a save succeeded on a full disk?");
    assert.match(server.text(whileFull), /disk .*full/i);
    assert.match(server.text(whileFull), /16 MB/);

    // The cluster goes down meanwhile (a crash, a reboot): it cannot start while the disk is full, and says why.
    Deno.kill(postmasterPid(clusterPaths(home).dataDir), "SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 2; i++) {
      const r = await runSage(["save", `Tried while full ${i}.`], { env });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /disk holding .* is full/, r.stderr);
      assert.match(r.stderr, /16 MB/);
      assert.doesNotMatch(r.stderr, /ECONNREFUSED|see .*postgresql\.log\.?$/i);
    }
    const fromServer = await server.call("search_memory", { query: "room", mode: "keyword" });
    assert.equal(fromServer.isError, true);
    assert.match(server.text(fromServer), /disk holding .* is full/);

    // Room again: both the commands and the running server go on by themselves.
    await Deno.remove(filler);
    const after = await runSage(["save", "Saved once there was room again."], { env });
    assert.equal(after.code, 0, after.stderr);
    const found = await server.call("search_memory", { query: "saved room", mode: "keyword" });
    assert.notEqual(found.isError, true, server.text(found));
    const hits = (found.structuredContent!.hits as { content: string }[]).map((h) => h.content).sort();
    assert.deepEqual(hits, ["Saved by the server.", "Saved once there was room again.", "Saved while there was room."]);
  } finally {
    await server?.close().catch(() => {});
    await runSage(["db", "stop"], { env });
    let out = await new Deno.Command("umount", { args: [mount] }).output();
    if (!out.success) out = await new Deno.Command("umount", { args: ["-l", mount] }).output();
    if (!out.success) console.error(`could not unmount ${mount}: ${new TextDecoder().decode(out.stderr)}`);
  }
});
