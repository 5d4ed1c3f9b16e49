/**
 * MCP progress for long tool calls, over stdio with the real SDK client: `export_memories` on a few thousand
 * memories sends `notifications/progress` when the request carries `_meta.progressToken`, in order and with a
 * total, and returns the same result as without; without a token, not one progress frame reaches stdout.
 */
import assert from "node:assert/strict";
import { freshDatabase, runSage } from "./support/harness.ts";
import { connectSage, INITIALIZE_PARAMS, RawServer, type ToolResult } from "./support/mcp_client.ts";

const PROJECT = "/progress/project";
const COUNT = 3_000;

interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

Deno.test({
  name:
    "mcp: export_memories reports progress when asked (in order, with a total), the result unchanged; never unasked",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const url = await freshDatabase();
  const lines = Array.from({ length: COUNT }, (_, i) =>
    JSON.stringify({
      content: `Memory ${i}: the release checklist step ${i} is owned by team ${i % 7}. 第${i}条记忆。`,
      kind: "note",
      project: PROJECT,
      created_at: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(),
    }));
  const imported = await runSage(["import", "-"], { env: { DATABASE_URL: url }, stdin: lines.join("\n") + "\n" });
  assert.equal(imported.code, 0, imported.stderr);

  const env = { DATABASE_URL: url, SAGE_PROJECT: PROJECT };
  const s = await connectSage(env);
  try {
    const args = { name: "export_memories", arguments: { max_memories: 10_000 } };
    const seen: Progress[] = [];
    const withProgress = await s.client.callTool(args, undefined, {
      onprogress: (p: Progress) => seen.push(p),
    }) as ToolResult;
    const without = await s.client.callTool(args) as ToolResult;
    assert.notEqual(withProgress.isError, true, s.text(withProgress));
    assert.deepEqual(withProgress, without, "asking for progress changed the result");
    assert.equal(withProgress.structuredContent?.memories, COUNT);

    assert.ok(seen.length >= COUNT / 250, `only ${seen.length} progress notifications`);
    assert.deepEqual(seen[0], { progress: 0, total: COUNT, message: `exporting ${COUNT} memories` });
    assert.deepEqual(seen[seen.length - 1], {
      progress: COUNT,
      total: COUNT,
      message: `${COUNT} of ${COUNT} memories`,
    });
    for (let i = 1; i < seen.length; i++) {
      assert.ok(
        seen[i].progress > seen[i - 1].progress,
        `progress went from ${seen[i - 1].progress} to ${seen[i].progress}`,
      );
      assert.equal(seen[i].total, COUNT);
    }

    // A limit below the count: the total is what will be exported.
    const capped: Progress[] = [];
    const part = await s.client.callTool({ name: "export_memories", arguments: { max_memories: 600 } }, undefined, {
      onprogress: (p: Progress) => capped.push(p),
    }) as ToolResult;
    assert.equal(part.structuredContent?.truncated, true);
    assert.deepEqual(capped.map((p) => [p.progress, p.total]), [[0, 600], [250, 600], [500, 600], [600, 600]]);
  } finally {
    await s.close();
  }

  // On the wire: a request without a token gets its reply and nothing else; with one, the progress frames.
  const raw = new RawServer(env);
  try {
    await raw.request(1, "initialize", INITIALIZE_PARAMS);
    await raw.notify("notifications/initialized");
    const plain = await raw.request(2, "tools/call", { name: "export_memories", arguments: { max_memories: 1000 } });
    assert.equal((plain.result as { isError?: boolean }).isError, undefined);
    const frames = () => new TextDecoder().decode(raw.stdout()).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(frames().filter((f) => f.method === "notifications/progress"), []);
    await raw.request(3, "tools/call", {
      name: "export_memories",
      arguments: { max_memories: 1000 },
      _meta: { progressToken: "export-3" },
    });
    const progress = frames().filter((f) => f.method === "notifications/progress").map((f) => f.params);
    assert.deepEqual(progress.map((p) => [p.progressToken, p.progress, p.total]), [
      ["export-3", 0, 1000],
      ["export-3", 250, 1000],
      ["export-3", 500, 1000],
      ["export-3", 750, 1000],
      ["export-3", 1000, 1000],
    ]);
  } finally {
    await raw.close();
  }
});
