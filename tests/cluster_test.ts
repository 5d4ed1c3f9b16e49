/**
 * The embedded default: with no database URL, `sage` runs a private PostgreSQL cluster under SAGE_HOME. Every
 * cluster started here is stopped in a finally block: a leftover postmaster breaks the next CI run.
 */
// @ts-types="@types/pg"
import pg from "pg";
import assert from "node:assert/strict";
import { clusterPaths } from "../lib/db/cluster.ts";
import { type RunResult, runSage, tempDir } from "./support/harness.ts";

function succeeded(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** Environment for the embedded mode: no DATABASE_URL, a home of our own. */
function embedded(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { SAGE_HOME: home, SAGE_PROJECT: "/cluster/test", ...extra };
}

/** Postmasters (not their children) running for this data directory, from the process table. */
async function postmasters(dataDir: string): Promise<number[]> {
  const out = await new Deno.Command("ps", { args: ["-eo", "pid=,args="], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((l) => l.trim().match(/^(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => !!m && /(^|\/)postgres\s/.test(m[2]) && m[2].includes(`-D ${dataDir}`))
    .map((m) => Number(m[1]));
}

async function pidFile(dataDir: string): Promise<string[] | null> {
  try {
    return (await Deno.readTextFile(`${dataDir}/postmaster.pid`)).split("\n");
  } catch {
    return null;
  }
}

/** Stops the cluster under `home` if one runs; failures are reported, never thrown from a finally block. */
async function stop(home: string): Promise<void> {
  const r = await runSage(["db", "stop"], { env: embedded(home) });
  if (r.code !== 0) console.error(`could not stop the cluster in ${home}: ${r.stderr}`);
}

Deno.test("cluster: status starts a private cluster on a Unix socket only; memories survive a stop and restart", async () => {
  const home = await tempDir("home");
  const paths = clusterPaths(home);
  const env = embedded(home);
  try {
    const status = await runSage(["status", "--json"], { env });
    succeeded(status, "status");
    const st = JSON.parse(status.stdout);
    assert.equal(st.database.connected, true);
    assert.equal(st.database.embedded, true);
    assert.equal(st.database.location, `private cluster in ${home}`);
    assert.ok(st.database.pgvector_version);

    // postmaster.pid: line 5 is the socket folder, line 6 the TCP address (empty: no TCP listener).
    const pid = await pidFile(paths.dataDir);
    assert.ok(pid, "no postmaster.pid");
    assert.equal(pid[1], paths.dataDir);
    assert.equal(pid[4], paths.socketDir);
    assert.equal(pid[5], "", `the cluster listens on TCP: "${pid[5]}"`);
    assert.deepEqual(await postmasters(paths.dataDir), [Number(pid[0])]);
    const socketDir = await Deno.stat(paths.socketDir);
    assert.equal(socketDir.mode! & 0o077, 0, "the socket folder is open to other users");
    const client = new pg.Client({ host: paths.socketDir, port: 5432, user: "sage", database: "sage" });
    await client.connect();
    try {
      const r = await client.query("SHOW listen_addresses");
      assert.equal(r.rows[0].listen_addresses, "");
    } finally {
      await client.end();
    }

    succeeded(await runSage(["save", "Remember me across a cluster restart."], { env }), "save");
    const stopped = await runSage(["db", "stop"], { env });
    succeeded(stopped, "db stop");
    assert.equal(stopped.stdout, "stopped\n");
    assert.deepEqual(await postmasters(paths.dataDir), []);
    assert.equal(await pidFile(paths.dataDir), null);
    const down = await runSage(["db", "status"], { env });
    assert.equal(down.code, 3);
    assert.match(down.stdout, /^not running: /);

    // The next command starts it again by itself, and the memory is still there.
    const found = await runSage(["search", "cluster restart", "--json"], { env });
    succeeded(found, "search after stop");
    assert.deepEqual(JSON.parse(found.stdout).hits.map((h: { content: string }) => h.content), [
      "Remember me across a cluster restart.",
    ]);
    const up = await runSage(["db", "status"], { env });
    succeeded(up, "db status");
    assert.match(up.stdout, new RegExp(`^running: ${paths.dataDir} \\(socket in ${paths.socketDir}, log `));
    assert.equal((await postmasters(paths.dataDir)).length, 1);
  } finally {
    await stop(home);
  }
});

Deno.test("cluster: three sage processes started at once on a fresh home share exactly one postmaster", async () => {
  const home = await tempDir("home");
  const paths = clusterPaths(home);
  const env = embedded(home);
  try {
    const results = await Promise.all([
      runSage(["save", "First of three at once."], { env }),
      runSage(["save", "Second of three at once.", "--kind", "fact"], { env }),
      runSage(["status", "--json"], { env }),
    ]);
    results.forEach((r, i) => succeeded(r, `process ${i + 1}`));
    const running = await postmasters(paths.dataDir);
    assert.equal(running.length, 1, `postmasters for ${paths.dataDir}: ${running.join(", ")}`);
    const pid = await pidFile(paths.dataDir);
    assert.equal(Number(pid?.[0]), running[0]);
    const all = await runSage(["search", "three at once", "--json"], { env });
    succeeded(all, "search");
    assert.deepEqual(
      JSON.parse(all.stdout).hits.map((h: { content: string }) => h.content).sort(),
      ["First of three at once.", "Second of three at once."],
    );
    // And once more against the running cluster: still one.
    await Promise.all([1, 2, 3].map(() => runSage(["db", "start"], { env }).then((r) => succeeded(r, "db start"))));
    assert.deepEqual(await postmasters(paths.dataDir), running);
  } finally {
    await stop(home);
  }
});

Deno.test("cluster: sage db start, status and stop", async () => {
  const home = await tempDir("home");
  const paths = clusterPaths(home);
  const env = embedded(home);
  try {
    const [fresh, stopFresh, withUrl] = await Promise.all([
      runSage(["db", "status"], { env }),
      runSage(["db", "stop"], { env }),
      runSage(["db", "status"], { env: { ...env, DATABASE_URL: "postgresql://sage@/sage?host=/nowhere" } }),
    ]);
    assert.equal(fresh.code, 3, fresh.stderr);
    assert.match(fresh.stdout, /^not running: /);
    succeeded(stopFresh, "db stop (nothing running)");
    assert.equal(stopFresh.stdout, "not running\n");
    assert.equal(withUrl.code, 2);
    assert.match(withUrl.stderr, /a database URL is configured/);

    const start = await runSage(["db", "start"], { env });
    succeeded(start, "db start");
    assert.equal(start.stdout, `running: ${paths.dataDir} (socket in ${paths.socketDir})\n`);
    assert.equal((await postmasters(paths.dataDir)).length, 1);
    const status = await runSage(["db", "status"], { env });
    succeeded(status, "db status");
    assert.match(status.stdout, /^running: /);
    const stopped = await runSage(["db", "stop"], { env });
    succeeded(stopped, "db stop");
    assert.equal(stopped.stdout, "stopped\n");
    assert.deepEqual(await postmasters(paths.dataDir), []);
    const after = await runSage(["db", "status"], { env });
    assert.equal(after.code, 3);
  } finally {
    await stop(home);
  }
});

Deno.test("cluster: without PostgreSQL binaries, the error says what to install or to use the container", async () => {
  const home = await tempDir("home");
  const empty = await tempDir("nopg");
  const env = embedded(home, { SAGE_PG_BIN: empty });
  const [start, save, status] = await Promise.all([
    runSage(["db", "start"], { env }),
    runSage(["save", "cannot be stored"], { env }),
    runSage(["status"], { env }),
  ]);
  for (const r of [start, save]) {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`SAGE_PG_BIN=${empty} does not hold pg_ctl, initdb and postgres`));
    assert.match(r.stderr, /run_sage_single\.sh/);
    assert.match(r.stderr, /install/i);
    assert.match(r.stderr, /--db-url|DATABASE_URL/);
  }
  assert.equal(status.code, 1);
  assert.match(status.stdout, /database: NOT CONNECTED: SAGE_PG_BIN=/);
  assert.match(status.stdout, /container|run_sage_single/);
  await assert.rejects(() => Deno.stat(clusterPaths(home).dataDir), "a data directory was created anyway");
});

Deno.test("cluster: after the postmaster is killed, the next command recovers it, still with one postmaster", async () => {
  const home = await tempDir("home");
  const paths = clusterPaths(home);
  const env = embedded(home);
  try {
    succeeded(await runSage(["save", "Written before the crash."], { env }), "save");
    const [pid] = await postmasters(paths.dataDir);
    assert.ok(pid, "no postmaster");
    Deno.kill(pid, "SIGKILL");
    // A killed postmaster stays a zombie until init reaps it; until then it still looks alive to pg_ctl.
    const deadline = Date.now() + 20_000;
    while (await Deno.stat(`/proc/${pid}`).then(() => true, () => false)) {
      assert.ok(Date.now() < deadline, `postmaster ${pid} was never reaped (is there an init process?)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(await pidFile(paths.dataDir), "the crash left its postmaster.pid behind, as crashes do");
    const found = await runSage(["search", "crash", "--json"], { env });
    succeeded(found, "search after the crash");
    assert.deepEqual(JSON.parse(found.stdout).hits.map((h: { content: string }) => h.content), [
      "Written before the crash.",
    ]);
    const running = await postmasters(paths.dataDir);
    assert.equal(running.length, 1);
    assert.notEqual(running[0], pid);
  } finally {
    await stop(home);
  }
});

Deno.test("cluster: a running cluster without Sage's database (a first start cut short) is repaired", async () => {
  const home = await tempDir("home");
  const paths = clusterPaths(home);
  const env = embedded(home);
  try {
    succeeded(await runSage(["db", "start"], { env }), "db start");
    const client = new pg.Client({ host: paths.socketDir, port: 5432, user: "sage", database: "postgres" });
    await client.connect();
    try {
      await client.query("DROP DATABASE sage");
    } finally {
      await client.end();
    }
    const saved = await runSage(["save", "Saved after the database was recreated.", "--json"], { env });
    succeeded(saved, "save");
    assert.equal(JSON.parse(saved.stdout).duplicate, false);
    const status = await runSage(["status", "--json"], { env });
    succeeded(status, "status");
    assert.equal(JSON.parse(status.stdout).counts.memories, 1);
  } finally {
    await stop(home);
  }
});

Deno.test({
  name: "cluster: as root, a home the postgres user cannot enter is refused with the fix, before initdb",
  ignore: Deno.uid() !== 0,
}, async () => {
  const closed = await tempDir("closed");
  await Deno.chmod(closed, 0o700);
  const home = `${closed}/home`;
  const r = await runSage(["db", "start"], { env: embedded(home) });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`"postgres" cannot enter ${closed}`));
  assert.match(r.stderr, new RegExp(`chmod o\\+x ${closed}`));
  await assert.rejects(() => Deno.stat(`${home}/pgdata/PG_VERSION`));
});
