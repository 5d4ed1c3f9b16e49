/**
 * End to end over MCP: a real `sage serve` child process driven by the SDK client over stdio, exactly as Claude
 * Code drives it. One server (one fresh database) serves every step of the main test; the stdout-purity test
 * uses raw pipes so it sees every byte.
 */
import assert from "node:assert/strict";
import { admin, dbName, freshDatabase, MODEL, runSage, sql, tempDir } from "./support/harness.ts";
import { connectSage, INITIALIZE_PARAMS, RawServer, type SageClient, type ToolResult } from "./support/mcp_client.ts";

type Row = Record<string, unknown>;

const PROJECT = "/e2e/project";
const OTHER = "/e2e/other";

const TOOLS = [
  "delete_memory",
  "export_memories",
  "get_context",
  "get_memory",
  "get_status",
  "manage_session",
  "save_conversation",
  "save_memory",
  "search_memory",
  "update_memory",
];

async function memoryCount(url: string): Promise<number> {
  return (await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM sage.memories"))[0].n;
}

function ok(s: SageClient, r: ToolResult): Row {
  assert.notEqual(r.isError, true, `tool failed: ${s.text(r)}`);
  assert.ok(r.structuredContent, "structured content missing");
  return r.structuredContent;
}

function failed(s: SageClient, r: ToolResult, pattern: RegExp): void {
  assert.equal(r.isError, true, `expected an error, got: ${s.text(r)}`);
  assert.match(s.text(r), pattern);
  assert.equal(r.structuredContent, undefined, "an error carries no structured result");
}

Deno.test({
  name: "mcp: every tool, prompt and resource over stdio, and bad requests change nothing",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const url = await freshDatabase();
  const s = await connectSage({ DATABASE_URL: url, SAGE_EMBED_MODEL: MODEL, SAGE_PROJECT: PROJECT });
  const ids: Record<string, number> = {};
  try {
    await t.step("initialize: server info and instructions", () => {
      const info = s.client.getServerVersion();
      assert.equal(info?.name, "sage");
      assert.match(info?.version ?? "", /^\d+\.\d+\.\d+/);
      const instructions = s.client.getInstructions() ?? "";
      assert.match(instructions, /get_context/);
      assert.match(instructions, /\[memory:ID\]/);
      const caps = s.client.getServerCapabilities();
      assert.ok(caps?.tools && caps?.prompts && caps?.resources);
    });

    await t.step("tools/list: exactly the ten tools, each with a description and an object schema", async () => {
      const { tools } = await s.client.listTools() as {
        tools: { name: string; description?: string; inputSchema: { type: string; properties?: Row } }[];
      };
      assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
      for (const tool of tools) {
        assert.ok((tool.description ?? "").length > 20, `${tool.name} has no real description`);
        assert.equal(tool.inputSchema.type, "object");
      }
      const search = tools.find((x) => x.name === "search_memory")!;
      assert.ok(search.inputSchema.properties?.query && search.inputSchema.properties?.all_projects);
    });

    await t.step("tools/list: every tool declares an output schema and all four annotation hints", async () => {
      const { tools } = await s.client.listTools() as {
        tools: { name: string; outputSchema?: { type: string; properties?: Row }; annotations?: Row }[];
      };
      const hints = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"];
      for (const tool of tools) {
        assert.equal(tool.outputSchema?.type, "object", `${tool.name} has no output schema`);
        for (const h of hints) assert.equal(typeof tool.annotations?.[h], "boolean", `${tool.name}: ${h}`);
        assert.equal(tool.annotations?.openWorldHint, false, `${tool.name} talks to nothing outside Sage`);
      }
      const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
      for (const name of ["search_memory", "get_context", "get_memory", "export_memories", "get_status"]) {
        assert.equal(byName[name].annotations?.readOnlyHint, true, name);
      }
      assert.equal(byName.delete_memory.annotations?.destructiveHint, true);
      assert.equal(byName.save_memory.annotations?.destructiveHint, false);
      assert.ok(byName.search_memory.outputSchema?.properties?.hits, "search_memory's schema describes its hits");
    });

    await t.step(
      "save_conversation: stored in an automatic session; the same exchange twice is one memory",
      async () => {
        const args = {
          user_prompt: "Why does the nightly backup job fail?",
          assistant_response: "The backup job runs out of disk on the build host; rotate old archives first.",
          tags: ["backup"],
        };
        const r = await s.call("save_conversation", args);
        const saved = ok(s, r);
        assert.equal(saved.duplicate, false);
        assert.equal(saved.kind, "conversation");
        assert.equal(saved.project, PROJECT);
        assert.equal(typeof saved.session, "string", "the server starts a session on the first save");
        assert.equal(saved.embedded, true);
        assert.match(s.text(r), new RegExp(`^Saved memory ${saved.id} \\(conversation\\)`));
        ids.conversation = saved.id as number;
        const again = ok(s, await s.call("save_conversation", args));
        assert.equal(again.id, saved.id);
        assert.equal(again.duplicate, true);
        const rows = await sql(url, "SELECT content, kind, tags, session_id FROM sage.memories WHERE id = $1", [
          saved.id,
        ]);
        assert.equal(rows.length, 1);
        assert.match(
          rows[0].content as string,
          /^User: Why does the nightly backup job fail\?\n\nAssistant: The backup/,
        );
        assert.deepEqual(rows[0].tags, ["backup"]);
        assert.equal(rows[0].session_id, saved.session);
        assert.equal(await memoryCount(url), 1);
      },
    );

    await t.step("save_memory: kind, tags, metadata; another project; Chinese text", async () => {
      const r = await s.call("save_memory", {
        content: "We chose PostgreSQL with pgvector for the memory store because it keeps vectors and rows together.",
        kind: "decision",
        tags: ["db", "architecture"],
        metadata: { source: "review", pr: 42 },
      });
      const saved = ok(s, r);
      assert.equal(saved.kind, "decision");
      assert.equal(saved.duplicate, false);
      assert.equal(saved.embedded, true);
      assert.deepEqual(saved.warnings, []);
      assert.match(s.text(r), /Saved memory \d+ \(decision\) in \/e2e\/project/);
      ids.decision = saved.id as number;

      ids.other = ok(
        s,
        await s.call("save_memory", { content: "The other project deploys on Fridays.", project: OTHER }),
      )
        .id as number;
      ids.chinese = ok(s, await s.call("save_memory", { content: "数据库迁移在周五很慢。", kind: "fact" }))
        .id as number;
      const row = (await sql(url, "SELECT project, metadata FROM sage.memories WHERE id = $1", [ids.other]))[0];
      assert.equal(row.project, OTHER);
      const meta = (await sql(url, "SELECT metadata FROM sage.memories WHERE id = $1", [ids.decision]))[0];
      assert.deepEqual(meta.metadata, { source: "review", pr: 42 });
      assert.equal(await memoryCount(url), 4);
    });

    await t.step("search_memory: ranked hits, filters, current project by default, all_projects", async () => {
      const r = await s.call("search_memory", { query: "pgvector memory store" });
      const res = ok(s, r);
      const hits = res.hits as Row[];
      assert.equal(hits[0].id, ids.decision);
      assert.equal(res.project, PROJECT);
      for (const key of ["id", "score", "content", "created_at", "project", "session", "kind", "tags", "metadata"]) {
        assert.ok(key in hits[0], `hit lacks ${key}`);
      }
      assert.match(s.text(r), new RegExp(`\\[memory:${ids.decision}\\]`));

      const byTag = ok(s, await s.call("search_memory", { query: "backup pgvector", tags: ["backup"] }));
      assert.deepEqual((byTag.hits as Row[]).map((h) => h.id), [ids.conversation]);
      const byKind = ok(s, await s.call("search_memory", { query: "backup pgvector", kinds: ["decision"] }));
      assert.deepEqual((byKind.hits as Row[]).map((h) => h.id), [ids.decision]);
      const future = ok(s, await s.call("search_memory", { query: "pgvector", after: "2999-01-01" }));
      assert.deepEqual(future.hits, []);
      const keyword = ok(s, await s.call("search_memory", { query: "pgvector", mode: "keyword" }));
      assert.equal(keyword.mode, "keyword");
      assert.deepEqual((keyword.hits as Row[]).map((h) => h.id), [ids.decision]);

      const here = ok(s, await s.call("search_memory", { query: "deploys Fridays" }));
      assert.ok(!(here.hits as Row[]).some((h) => h.id === ids.other), "another project's memory leaked in");
      const all = ok(s, await s.call("search_memory", { query: "deploys Fridays", all_projects: true }));
      assert.equal(all.project, null);
      assert.equal((all.hits as Row[])[0].id, ids.other);
      const named = ok(s, await s.call("search_memory", { query: "deploys Fridays", project: OTHER }));
      assert.equal((named.hits as Row[])[0].id, ids.other);

      const zh = ok(s, await s.call("search_memory", { query: "数据库" }));
      assert.equal((zh.hits as Row[])[0].id, ids.chinese);
    });

    await t.step("get_context: a citable block within the token budget", async () => {
      const r = await s.call("get_context", { query: "pgvector memory store decision" });
      const ctx = ok(s, r);
      assert.match(ctx.text as string, new RegExp(`\\[memory:${ids.decision}\\]`));
      assert.match(s.text(r), /^<memories source="sage"/);
      assert.ok((ctx.items as Row[]).some((i) => i.id === ids.decision));

      const long = Array.from({ length: 300 }, (_, i) => `Sentence ${i} about the pgvector index tuning.`).join(" ");
      ids.long = ok(s, await s.call("save_memory", { content: long, tags: ["long"] })).id as number;
      const small = ok(s, await s.call("get_context", { query: "pgvector index tuning", token_budget: 150 }));
      assert.ok((small.tokens as number) <= 150, `context used ${small.tokens} tokens of 150`);
      assert.ok((small.tokens as number) > 0);
      const big = ok(s, await s.call("get_context", { query: "pgvector index tuning", token_budget: 8000 }));
      const longItem = (big.items as Row[]).find((i) => i.id === ids.long);
      assert.ok(longItem && longItem.truncated === false, "a large budget holds the whole memory");
      assert.ok((big.tokens as number) > (small.tokens as number));
      const smallLong = (small.items as Row[]).find((i) => i.id === ids.long);
      if (smallLong) assert.equal(smallLong.truncated, true);

      const none = await s.call("get_context", { query: "zebra giraffe", kinds: ["task"] });
      assert.match(s.text(none), /No memories relevant/);
      failed(s, await s.call("get_context", { query: "x", token_budget: 10 }), /token_budget/);
    });

    await t.step("get_memory and update_memory", async () => {
      const r = await s.call("get_memory", { id: ids.decision });
      const m = ok(s, r);
      assert.equal(m.kind, "decision");
      assert.deepEqual(m.tags, ["db", "architecture"]);
      assert.deepEqual(m.metadata, { source: "review", pr: 42 });
      assert.ok((m.embedding as Row | null)?.chunks, "the memory has a vector");
      assert.match(s.text(r), new RegExp(`^\\[memory:${ids.decision}\\] decision`));

      const u = ok(
        s,
        await s.call("update_memory", {
          id: ids.decision,
          content: "We chose SQLite with sqlite-vec for the memory store.",
          tags: ["db"],
        }),
      );
      assert.equal(u.content, "We chose SQLite with sqlite-vec for the memory store.");
      assert.deepEqual(u.tags, ["db"]);
      assert.equal(u.kind, "decision", "kind is kept when not given");
      assert.deepEqual(u.metadata, { source: "review", pr: 42 }, "metadata is kept when not given");
      const found = ok(s, await s.call("search_memory", { query: "sqlite", mode: "keyword" }));
      assert.deepEqual((found.hits as Row[]).map((h) => h.id), [ids.decision]);
      const gone = ok(s, await s.call("search_memory", { query: "pgvector rows together", mode: "keyword" }));
      assert.ok(!(gone.hits as Row[]).some((h) => h.id === ids.decision), "old words still find the memory");
      failed(s, await s.call("update_memory", { id: ids.decision }), /nothing to update/);
    });

    await t.step("manage_session: create, switch, info, list; saves land in the current session", async () => {
      const a = ok(s, await s.call("manage_session", { action: "create", name: "alpha" }));
      assert.equal(a.name, "alpha");
      assert.equal(a.current, true);
      const inA = ok(s, await s.call("save_memory", { content: "Alpha session note about caching." }));
      assert.equal(inA.session, a.id);
      const b = ok(s, await s.call("manage_session", { action: "create", id: "session-beta", name: "beta" }));
      assert.equal(b.id, "session-beta");
      const inB = ok(s, await s.call("save_memory", { content: "Beta session note about logging." }));
      assert.equal(inB.session, "session-beta");

      const sw = await s.call("manage_session", { action: "switch", name: "alpha" });
      assert.equal(ok(s, sw).id, a.id);
      assert.match(s.text(sw), /^Switched to Session/);
      const afterSwitch = ok(s, await s.call("save_memory", { content: "Saved after switching back to alpha." }));
      assert.equal(afterSwitch.session, a.id);
      const stored = await sql(url, "SELECT session_id FROM sage.memories WHERE id = $1", [afterSwitch.id]);
      assert.equal(stored[0].session_id, a.id);

      const info = ok(s, await s.call("manage_session", { action: "info" }));
      assert.equal(info.id, a.id);
      assert.equal(info.memories, 2);
      assert.deepEqual(info.kinds, { note: 2 });
      const infoB = ok(s, await s.call("manage_session", { action: "info", id: "session-beta" }));
      assert.equal(infoB.memories, 1);
      assert.equal(infoB.current, false);

      const list = ok(s, await s.call("manage_session", { action: "list" }));
      const sessions = list.sessions as Row[];
      const names = sessions.map((x) => x.name);
      assert.ok(names.includes("alpha") && names.includes("beta"));
      assert.deepEqual(sessions.filter((x) => x.current).map((x) => x.id), [a.id]);
      failed(s, await s.call("manage_session", { action: "switch", id: "no-such-session" }), /no session/);
      failed(s, await s.call("manage_session", { action: "create", id: "session-beta" }), /already exists/);
    });

    await t.step("export_memories: JSONL (one object per line) and Markdown", async () => {
      const r = await s.call("export_memories", {});
      const meta = ok(s, r);
      const inProject = (await sql<{ n: number }>(
        url,
        "SELECT count(*)::int AS n FROM sage.memories WHERE project = $1",
        [PROJECT],
      ))[0].n;
      assert.equal(meta.format, "jsonl");
      assert.equal(meta.memories, inProject);
      assert.equal(meta.truncated, false);
      const records = s.text(r).split("\n").map((l) => JSON.parse(l));
      const memories = records.filter((x) => x.type === "memory");
      assert.equal(memories.length, inProject);
      assert.ok(records.some((x) => x.type === "session" && x.name === "alpha"));
      const decision = memories.find((x) => x.id === ids.decision);
      assert.equal(decision.content, "We chose SQLite with sqlite-vec for the memory store.");
      assert.deepEqual(decision.metadata, { source: "review", pr: 42 });
      assert.ok(!memories.some((x) => x.project !== PROJECT));

      const capped = ok(s, await s.call("export_memories", { max_memories: 2 }));
      assert.equal(capped.memories, 2);
      assert.equal(capped.truncated, true);

      const md = await s.call("export_memories", { format: "markdown", all_projects: true });
      assert.match(s.text(md), /^# Sage memories/);
      assert.match(s.text(md), new RegExp(`## \\[memory:${ids.other}\\]`));
      assert.match(s.text(md), /数据库迁移在周五很慢/);
      assert.equal(ok(s, md).memories, await memoryCount(url));
    });

    await t.step("get_status: database, model and counts", async () => {
      const r = await s.call("get_status", {});
      const st = ok(s, r);
      const db = st.database as Row;
      assert.equal(db.connected, true);
      assert.ok(db.pgvector_version);
      const model = st.model as Row;
      assert.equal(model.state, "ready");
      assert.equal(model.dimensions, 32);
      const counts = st.counts as Row;
      assert.equal(counts.memories, await memoryCount(url));
      assert.equal(counts.with_current_vectors, counts.memories);
      assert.equal(st.project, PROJECT);
      assert.match(s.text(r), /database: .*PostgreSQL/);
    });

    await t.step("delete_memory: one by id; several need confirm", async () => {
      const before = await memoryCount(url);
      const r = await s.call("delete_memory", { id: ids.chinese });
      assert.deepEqual(ok(s, r).deleted, [ids.chinese]);
      assert.equal(await memoryCount(url), before - 1);
      failed(s, await s.call("get_memory", { id: ids.chinese }), /no memory with id/);
      failed(s, await s.call("delete_memory", { id: ids.chinese }), /no memory with id/);

      const session = (await sql(url, "SELECT id FROM sage.sessions WHERE name = 'alpha'"))[0].id;
      const refused = await s.call("delete_memory", { session });
      failed(s, refused, /would delete 2 memories; nothing was deleted/);
      assert.equal(await memoryCount(url), before - 1);
      const bulk = ok(s, await s.call("delete_memory", { session, confirm: true }));
      assert.equal((bulk.deleted as number[]).length, 2);
      assert.equal(await memoryCount(url), before - 3);
      const mixed = ok(s, await s.call("delete_memory", { ids: [ids.long, 987654] }));
      assert.deepEqual(mixed.deleted, [ids.long]);
      assert.deepEqual(mixed.not_found, [987654]);
    });

    await t.step("prompts: save, status, recall", async () => {
      const { prompts } = await s.client.listPrompts() as { prompts: { name: string }[] };
      assert.deepEqual(prompts.map((p) => p.name).sort(), ["recall", "save", "status"]);
      const text = (p: { messages: { content: { type: string; text?: string } }[] }) =>
        p.messages.map((m) => m.content.text ?? "").join("\n");
      const save = await s.client.getPrompt({ name: "save", arguments: { focus: "the backup fix" } });
      assert.match(text(save), /save_memory/);
      assert.match(text(save), /Focus on: the backup fix/);
      const status = await s.client.getPrompt({ name: "status" });
      assert.match(text(status), /database: .*PostgreSQL/);
      const recall = await s.client.getPrompt({ name: "recall", arguments: { topic: "nightly backup job" } });
      assert.match(text(recall), /The backup job runs out of disk on the build host/);
      assert.match(text(recall), new RegExp(`\\[memory:${ids.conversation}\\]`));
    });

    await t.step("resources: status, sessions, memory/{id}", async () => {
      const { resources } = await s.client.listResources() as { resources: { uri: string }[] };
      const uris = resources.map((x) => x.uri);
      assert.ok(uris.includes("sage://status") && uris.includes("sage://sessions"));
      const { resourceTemplates } = await s.client.listResourceTemplates() as {
        resourceTemplates: { uriTemplate: string }[];
      };
      assert.ok(resourceTemplates.some((x) => x.uriTemplate === "sage://memory/{id}"));

      const read = async (uri: string) => {
        const r = await s.client.readResource({ uri }) as { contents: { uri: string; text?: string }[] };
        assert.equal(r.contents[0].uri, uri);
        return JSON.parse(r.contents[0].text ?? "null");
      };
      const status = await read("sage://status");
      assert.equal(status.database.connected, true);
      assert.equal(status.counts.memories, await memoryCount(url));
      const sessions = await read("sage://sessions");
      assert.ok(Array.isArray(sessions) && sessions.some((x: Row) => x.id === "session-beta"));
      const memory = await read(`sage://memory/${ids.decision}`);
      assert.equal(memory.id, ids.decision);
      assert.equal(memory.content, "We chose SQLite with sqlite-vec for the memory store.");
      await assert.rejects(() => s.client.readResource({ uri: "sage://memory/999999" }), /no memory with id 999999/);
    });

    await t.step("bad requests: clear errors, nothing stored, the server keeps answering", async () => {
      const before = await memoryCount(url);
      const sessionsBefore = (await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM sage.sessions"))[0].n;
      failed(s, await s.call("get_memory", { id: 424242 }), /no memory with id 424242/);
      failed(s, await s.call("update_memory", { id: 424242, content: "x" }), /no memory with id 424242/);
      failed(s, await s.call("search_memory", { query: "" }), /query must not be empty/);
      failed(s, await s.call("search_memory", { query: "   " }), /query must not be empty/);
      failed(s, await s.call("search_memory", { query: "x", limit: "ten" }), /limit/);
      failed(s, await s.call("search_memory", { query: "x", limit: 1000 }), /limit must be an integer from 1 to 100/);
      failed(s, await s.call("save_memory", { content: 42 }), /content/);
      failed(s, await s.call("save_memory", {}), /content/);
      failed(s, await s.call("save_memory", { content: "x", tags: "not-a-list" }), /tags/);
      failed(s, await s.call("save_memory", { content: "x", kind: "Not A Kind" }), /kind/);
      failed(s, await s.call("get_memory", { id: "seven" }), /id/);
      failed(s, await s.call("search_memory", { query: "x", after: "last tuesday" }), /after must be an ISO 8601/);
      failed(s, await s.call("manage_session", { action: "explode" }), /action/);
      failed(s, await s.call("delete_memory", {}), /say what to delete/);
      const huge = "a".repeat(200_001);
      failed(s, await s.call("save_memory", { content: huge }), /content is 200001 characters; the limit is 200000/);
      failed(
        s,
        await s.call("save_conversation", { user_prompt: huge, assistant_response: "ok" }),
        /user_prompt is 200001 characters/,
      );
      failed(s, await s.call("save_memory", { content: "lone \ud800 surrogate" }), /lone surrogate/);
      failed(s, await s.call("save_memory", { content: "nul \u0000 inside" }), /NUL/);
      failed(s, await s.call("save_memory", { content: "text", tags: ["ok", "bad\ud800"] }), /not valid Unicode/);
      failed(s, await s.call("search_memory", { query: "lone \udfff" }), /lone surrogate/);
      failed(s, await s.call("no_such_tool", {}), /no_such_tool/);
      assert.equal(await memoryCount(url), before, "a rejected request stored something");
      const sessionsAfter = (await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM sage.sessions"))[0].n;
      assert.equal(sessionsAfter, sessionsBefore);
      const st = ok(s, await s.call("get_status", {}));
      assert.equal((st.counts as Row).memories, before);
    });

    await t.step("SQL-looking text is stored and found verbatim, and breaks nothing", async () => {
      const evil = "Robert'); DROP TABLE sage.memories; -- and $1 ::text \\x00 %s";
      const saved = ok(s, await s.call("save_memory", { content: evil, tags: ["'; DELETE FROM sage.sessions; --"] }));
      const stored = await sql(url, "SELECT content, tags FROM sage.memories WHERE id = $1", [saved.id]);
      assert.equal(stored[0].content, evil);
      assert.deepEqual(stored[0].tags, ["'; DELETE FROM sage.sessions; --"]);
      const hit = ok(s, await s.call("search_memory", { query: "'); DROP TABLE sage.memories; --", mode: "keyword" }));
      assert.equal((hit.hits as Row[])[0]?.id, saved.id);
      const odd = ok(s, await s.call("search_memory", { query: "' OR 1=1 --", tags: ["' OR '1'='1"] }));
      assert.deepEqual(odd.hits, []);
      assert.ok((await sql(url, "SELECT to_regclass('sage.memories') AS t"))[0].t, "the table is still there");
      assert.ok((await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM sage.sessions"))[0].n > 0);
      const st = ok(s, await s.call("get_status", {}));
      assert.equal((st.database as Row).connected, true);
    });
  } catch (err) {
    console.error(`server stderr:\n${s.stderr()}`);
    throw err;
  } finally {
    await s.close();
  }
});

/** Every byte of stdout must belong to newline-delimited JSON-RPC 2.0 messages. */
function assertPureStdout(server: RawServer): number {
  const bytes = server.stdout();
  assert.ok(bytes.length > 0, "the server wrote nothing");
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  assert.ok(text.endsWith("\n"), "stdout does not end with a complete line");
  const lines = text.slice(0, -1).split("\n");
  for (const [i, line] of lines.entries()) {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      assert.fail(`stdout line ${i + 1} is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
    }
    assert.equal(typeof message, "object");
    assert.equal(message.jsonrpc, "2.0", `stdout line ${i + 1} is not JSON-RPC 2.0: ${line.slice(0, 200)}`);
  }
  return lines.length;
}

function callFrame(id: number, name: string, args: Record<string, unknown>): string {
  return `${JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } })}\n`;
}

function resultOf(m: { result?: Record<string, unknown>; error?: unknown }): ToolResult {
  assert.ok(m.result, `expected a result, got ${JSON.stringify(m)}`);
  return m.result as unknown as ToolResult;
}

Deno.test({
  name: "mcp: stdout carries only JSON-RPC, even while the model and the database fail; logs go to stderr",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const url = await freshDatabase();
  const nowhere = await tempDir("nodb"); // a socket folder with no server in it
  // Debug logging: as much stderr traffic as the server can make, none of which may reach stdout.
  const badModel = new RawServer({
    DATABASE_URL: url,
    SAGE_EMBED_MODEL: `${nowhere}/no-model-here`,
    SAGE_PROJECT: "/purity",
    SAGE_LOG_LEVEL: "debug",
  });
  const noDb = new RawServer({
    DATABASE_URL: `postgresql://sage@/sage?host=${encodeURIComponent(nowhere)}`,
    SAGE_EMBED_MODEL: MODEL,
    SAGE_PROJECT: "/purity",
    SAGE_LOG_LEVEL: "debug",
  });
  // Embedded mode: the server creates and starts its own cluster (initdb, pg_ctl) while serving.
  const home = await tempDir("home");
  const ownCluster = new RawServer({
    SAGE_HOME: home,
    SAGE_EMBED_MODEL: MODEL,
    SAGE_PROJECT: "/purity",
    SAGE_LOG_LEVEL: "debug",
  });
  try {
    const [initA, initB, initC] = await Promise.all([
      badModel.request(1, "initialize", INITIALIZE_PARAMS),
      noDb.request(1, "initialize", INITIALIZE_PARAMS),
      ownCluster.request(1, "initialize", INITIALIZE_PARAMS),
    ]);
    assert.equal((initC.result?.serverInfo as Row).name, "sage");
    assert.equal((initA.result?.serverInfo as Row).name, "sage");
    assert.equal((initB.result?.serverInfo as Row).name, "sage");
    // Recorded, not asserted (benchmarks measure speed); three servers start at once here.
    console.log(
      `spawn → initialize reply: ${Math.round(badModel.replyTime(1)!)} ms (wrong model path), ${
        Math.round(noDb.replyTime(1)!)
      } ms (database unreachable), ${Math.round(ownCluster.replyTime(1)!)} ms (own cluster, not yet created)`,
    );
    await badModel.notify("notifications/initialized");
    await noDb.notify("notifications/initialized");
    await ownCluster.notify("notifications/initialized");
    const ownSave = ownCluster.request(2, "tools/call", {
      name: "save_memory",
      arguments: { content: "saved into a cluster the server started itself" },
    });

    // --- wrong model path: saves work keyword-only and say so; bad bytes are refused ---
    const tools = await badModel.request(2, "tools/list");
    assert.equal((tools.result?.tools as unknown[]).length, 10);
    const save = resultOf(
      await badModel.request(3, "tools/call", {
        name: "save_memory",
        arguments: { content: "purity check: saved while the model is missing" },
      }),
    );
    assert.notEqual(save.isError, true, save.content[0]?.text ?? "");
    assert.equal(save.structuredContent?.embedded, false);
    assert.match(String((save.structuredContent?.warnings as string[])[0]), /stored without a vector/);
    const search = resultOf(
      await badModel.request(4, "tools/call", {
        name: "search_memory",
        arguments: { query: "purity check" },
      }),
    );
    assert.equal((search.structuredContent?.hits as unknown[]).length, 1);
    assert.match(String(search.structuredContent?.warnings), /vector search unavailable/);

    // Raw bytes 0xFF 0xFE inside a JSON string: not UTF-8, must be refused, not stored with U+FFFD in it.
    const enc = new TextEncoder();
    const before = enc.encode(callFrame(5, "save_memory", { content: "bad XX bytes" }));
    const at = new TextDecoder().decode(before).indexOf("XX");
    before.set([0xff, 0xfe], at);
    await badModel.write(before);
    const badBytes = resultOf(await badModel.reply(5));
    assert.equal(badBytes.isError, true);
    assert.match(badBytes.content[0].text ?? "", /not valid UTF-8/);
    // The same, as a tag and as a search query.
    const tagFrame = enc.encode(callFrame(6, "save_memory", { content: "fine text", tags: ["XX"] }));
    tagFrame.set([0xff, 0xfe], new TextDecoder().decode(tagFrame).indexOf("XX"));
    await badModel.write(tagFrame);
    assert.equal(resultOf(await badModel.reply(6)).isError, true);
    // A lone surrogate escape, written by hand (JSON.stringify would escape it the same way).
    await badModel.write(
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"save_memory","arguments":{"content":"lone \\ud800 here"}}}\n',
    );
    const lone = resultOf(await badModel.reply(7));
    assert.equal(lone.isError, true);
    assert.match(lone.content[0].text ?? "", /lone surrogate/);
    // A line that is not JSON at all, then an unknown method: the server must stay on its feet.
    await badModel.write("this is not json\n");
    const unknown = await badModel.request(8, "no/such/method");
    assert.equal(unknown.error?.code, -32601);
    const status = resultOf(await badModel.request(9, "tools/call", { name: "get_status", arguments: {} }));
    assert.equal((status.structuredContent?.model as Row).state, "failed");
    const rows = await admin(
      async (c) => (await c.query("SELECT content FROM sage.memories")).rows,
      dbName(url),
    );
    assert.deepEqual(rows.map((r) => r.content), ["purity check: saved while the model is missing"]);

    // --- database unreachable: clear errors, status says so ---
    const failedSave = resultOf(
      await noDb.request(2, "tools/call", {
        name: "save_memory",
        arguments: { content: "cannot be stored" },
      }),
    );
    assert.equal(failedSave.isError, true);
    assert.match(failedSave.content[0].text ?? "", /database unavailable/);
    const failedSearch = resultOf(
      await noDb.request(3, "tools/call", {
        name: "search_memory",
        arguments: { query: "anything" },
      }),
    );
    assert.equal(failedSearch.isError, true);
    const noDbStatus = resultOf(await noDb.request(4, "tools/call", { name: "get_status", arguments: {} }));
    assert.equal((noDbStatus.structuredContent?.database as Row).connected, false);
    const prompt = await noDb.request(5, "prompts/get", { name: "recall", arguments: { topic: "x" } });
    assert.ok(prompt.result, "recall answers even without a database");

    const saved = resultOf(await ownSave);
    assert.notEqual(saved.isError, true, saved.content[0]?.text ?? "");
    assert.equal(saved.structuredContent?.embedded, true);

    // Claude Code ends a server by closing stdin, sometimes with a signal: both end it cleanly.
    ownCluster.child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bySignal = await Promise.race([
      ownCluster.child.status,
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 15_000)),
    ]);
    clearTimeout(timer);
    assert.ok(bySignal, "SIGTERM did not end the server (stdin still open)");
    const [statusA, statusB, statusC] = await Promise.all([badModel.close(), noDb.close(), ownCluster.close()]);
    assert.equal(statusA.code, 0, "closing stdin ends the server cleanly");
    assert.equal(statusB.code, 0);
    assert.equal(statusC.code, 0);
    assert.ok(assertPureStdout(badModel) >= 9);
    assert.ok(assertPureStdout(noDb) >= 5);
    assert.equal(assertPureStdout(ownCluster), 2);
    // The failures were logged, on stderr.
    assert.match(badModel.stderr, /sage (error|warn): .*model/);
    assert.match(noDb.stderr, /sage (warn|error|debug): .*database/);
  } catch (err) {
    console.error(
      `stderr (model):\n${badModel.stderr}\nstderr (db):\n${noDb.stderr}\nstderr (own):\n${ownCluster.stderr}`,
    );
    throw err;
  } finally {
    await badModel.close().catch(() => {});
    await noDb.close().catch(() => {});
    await ownCluster.close().catch(() => {});
    const stopped = await runSage(["db", "stop"], { env: { SAGE_HOME: home } });
    if (stopped.code !== 0) console.error(`could not stop the cluster in ${home}: ${stopped.stderr}`);
  }
});
