/**
 * A database that goes away and comes back, under a running `sage serve`: with a URL the server reports the
 * outage clearly and recovers when the database returns; with its own private cluster it restarts the cluster
 * itself. Every cluster started here is stopped in a finally block.
 */
import assert from "node:assert/strict";
import { clusterPaths } from "../lib/db/cluster.ts";
import { type RunResult, runSage, tempDir } from "./support/harness.ts";
import { connectSage, type SageClient, type ToolResult } from "./support/mcp_client.ts";

type Row = Record<string, unknown>;

function succeeded(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

function ok(s: SageClient, r: ToolResult): Row {
  assert.notEqual(r.isError, true, `tool failed: ${s.text(r)}`);
  assert.ok(r.structuredContent, "structured content missing");
  return r.structuredContent;
}

async function db(action: "start" | "stop", home: string): Promise<RunResult> {
  return await runSage(["db", action], { env: { SAGE_HOME: home } });
}

Deno.test({
  name: "outage: with a database URL, calls fail clearly while it is down and work again when it is back",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const home = await tempDir("home");
  let s: SageClient | undefined;
  try {
    succeeded(await db("start", home), "db start");
    succeeded(await db("stop", home), "db stop");
    const url = `postgresql://sage@/sage?host=${encodeURIComponent(clusterPaths(home).socketDir)}`;
    // Down from the start: the server still starts, says what is wrong, and connects once the database is up.
    s = await connectSage({ DATABASE_URL: url, SAGE_PROJECT: "/outage/url" });
    const early = await s.call("save_memory", { content: "Saved before the database ever came up." });
    assert.equal(early.isError, true, s.text(early));
    assert.match(s.text(early), /database unavailable/);
    succeeded(await db("start", home), "db start");
    const first = ok(s, await s.call("save_memory", { content: "Saved before the outage." }));

    succeeded(await db("stop", home), "db stop");
    const during = await s.call("save_memory", { content: "Saved during the outage." });
    assert.equal(during.isError, true, s.text(during));
    assert.match(s.text(during), /database unavailable/);
    assert.match(s.text(during), /sage doctor/, "the error says what to check");
    const search = await s.call("search_memory", { query: "outage" });
    assert.equal(search.isError, true);
    assert.match(s.text(search), /database unavailable/);
    const status = ok(s, await s.call("get_status", {}));
    assert.equal((status.database as Row).connected, false);
    assert.match(String((status.database as Row).error), /database unavailable|ENOENT|ECONNREFUSED/);

    succeeded(await db("start", home), "db start again");
    const back = ok(s, await s.call("get_memory", { id: first.id }));
    assert.equal(back.content, "Saved before the outage.");
    const after = ok(s, await s.call("save_memory", { content: "Saved after the outage." }));
    assert.equal(after.duplicate, false);
    const found = ok(s, await s.call("search_memory", { query: "outage", mode: "keyword" }));
    assert.deepEqual(
      (found.hits as Row[]).map((h) => h.content).sort(),
      ["Saved after the outage.", "Saved before the outage."],
      "the save during the outage must not have been stored",
    );
    assert.equal((ok(s, await s.call("get_status", {})).database as Row).connected, true);
  } catch (err) {
    if (s) console.error(`server stderr:\n${s.stderr()}`);
    throw err;
  } finally {
    await s?.close();
    await db("stop", home);
  }
});

Deno.test({
  name: "outage: in embedded mode the server starts its stopped cluster again on the next call",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const home = await tempDir("home");
  const paths = clusterPaths(home);
  let s: SageClient | undefined;
  try {
    s = await connectSage({ SAGE_HOME: home, SAGE_PROJECT: "/outage/embedded" });
    const first = ok(s, await s.call("save_memory", { content: "Stored in the private cluster." }));
    assert.equal((ok(s, await s.call("get_status", {})).database as Row).embedded, true);

    const stopped = await db("stop", home);
    succeeded(stopped, "db stop");
    assert.equal(stopped.stdout, "stopped\n", "the server's cluster was not running");

    const next = ok(s, await s.call("save_memory", { content: "Stored after the cluster was stopped." }));
    assert.equal(next.duplicate, false);
    assert.ok(await Deno.stat(`${paths.dataDir}/postmaster.pid`), "the cluster is not running again");
    const back = ok(s, await s.call("get_memory", { id: first.id }));
    assert.equal(back.content, "Stored in the private cluster.");
    const count = ok(s, await s.call("get_status", {}));
    assert.equal((count.counts as Row).memories, 2);

    // And once more, this time with a read as the first call after the stop.
    succeeded(await db("stop", home), "db stop again");
    const found = ok(s, await s.call("search_memory", { query: "cluster stopped", mode: "keyword" }));
    assert.equal((found.hits as Row[])[0]?.id, next.id);
  } catch (err) {
    if (s) console.error(`server stderr:\n${s.stderr()}`);
    throw err;
  } finally {
    await s?.close();
    await db("stop", home);
  }
});

Deno.test({
  name:
    "outage: in embedded mode every kind of first call after a stop restarts the cluster (export, delete, sessions)",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const home = await tempDir("home");
  let s: SageClient | undefined;
  try {
    s = await connectSage({ SAGE_HOME: home, SAGE_PROJECT: "/outage/calls" });
    const saved = ok(s, await s.call("save_memory", { content: "One memory to export.", tags: ["t"] }));
    const doomed = ok(s, await s.call("save_memory", { content: "Another memory, to delete." }));
    // Each call below is the first one after a stop, so it runs into the stopped cluster and must be retried
    // from scratch once the cluster is back (a retried query that reuses half-built state fails).
    const calls: [string, Record<string, unknown>, (r: Row) => void][] = [
      ["manage_session", { action: "list" }, (r) => assert.equal((r.sessions as Row[]).length, 1)],
      ["get_context", { query: "memory export" }, (r) => assert.equal((r.items as Row[])[0]?.id, saved.id)],
      ["delete_memory", { id: doomed.id }, (r) => assert.deepEqual(r.deleted, [doomed.id])],
      ["export_memories", {}, (r) => assert.equal(r.memories, 1)],
    ];
    for (const [name, args, check] of calls) {
      succeeded(await db("stop", home), "db stop");
      const r = await s.call(name, args);
      assert.notEqual(r.isError, true, `${name} right after a stop: ${s.text(r)}`);
      check(ok(s, r));
    }
  } catch (err) {
    if (s) console.error(`server stderr:\n${s.stderr()}`);
    throw err;
  } finally {
    await s?.close();
    await db("stop", home);
  }
});
