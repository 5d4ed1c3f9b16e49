/**
 * `initialize` answered before the rest of Sage loads (lib/mcp/handshake.ts), on a real `sage serve`: the early
 * answer is the one the SDK's server gives (protocol negotiation included), it is sent once, the session goes on as
 * if the SDK had answered, and whatever is not a well-formed `initialize` on the first line is left to the transport.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/inMemory.d.ts"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/types.d.ts"
import {
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import { PROTOCOL_VERSIONS } from "../lib/mcp/identity.ts";
import { initializeRequest } from "../lib/mcp/handshake.ts";
import { createMcpServer } from "../lib/mcp/server.ts";
import { freshDatabase } from "./support/harness.ts";
import { INITIALIZE_PARAMS, RawServer, type RpcMessage } from "./support/mcp_client.ts";

/** What the SDK's own server (built as `sage serve` builds it) answers to `initialize` with these params. */
async function sdkAnswer(params: Record<string, unknown>): Promise<RpcMessage> {
  const server = createMcpServer(() => Promise.reject(new Error("no service in this test")));
  const [ours, theirs] = InMemoryTransport.createLinkedPair();
  const replies: JSONRPCMessage[] = [];
  theirs.onmessage = (m: JSONRPCMessage) => void replies.push(m);
  await server.connect(ours);
  await theirs.start();
  await theirs.send({ jsonrpc: "2.0", id: 1, method: "initialize", params } as JSONRPCMessage);
  for (let i = 0; i < 100 && !replies.length; i++) await new Promise((r) => setTimeout(r, 10));
  await server.close();
  assert.equal(replies.length, 1);
  return replies[0] as RpcMessage;
}

async function withServer(fn: (s: RawServer) => Promise<void>): Promise<void> {
  const s = new RawServer({ DATABASE_URL: await freshDatabase() });
  try {
    await fn(s);
  } finally {
    const status = await s.close();
    assert.equal(status.code, 0, s.stderr);
  }
}

Deno.test("handshake: the protocol versions Sage negotiates are the pinned SDK's", () => {
  assert.deepEqual(PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS);
  assert.equal(PROTOCOL_VERSIONS[0], LATEST_PROTOCOL_VERSION);
});

Deno.test("handshake: the early answer is the SDK's, once, and the session goes on", async () => {
  for (const protocolVersion of ["2025-06-18", "2024-11-05", "1999-01-01"]) {
    const params = { ...INITIALIZE_PARAMS, protocolVersion };
    await withServer(async (s) => {
      const early = await s.request(1, "initialize", params);
      assert.deepEqual(early, await sdkAnswer(params), protocolVersion);
      await s.notify("notifications/initialized");
      const list = await s.request(2, "tools/list");
      assert.ok((list.result?.tools as unknown[]).length >= 10);
      const ping = await s.request(3, "ping");
      assert.deepEqual(ping.result, {});
      assert.equal(s.frames.filter((f) => f.id === 1).length, 1, "initialize answered twice");
    });
  }
});

Deno.test("handshake: initialize, initialized and a request in one write, before anything has loaded", async () => {
  await withServer(async (s) => {
    const lines = [
      { jsonrpc: "2.0", id: 7, method: "initialize", params: INITIALIZE_PARAMS },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 8, method: "tools/list" },
    ];
    await s.write(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    assert.ok((await s.reply(7)).result);
    assert.ok((await s.reply(8)).result?.tools);
    assert.equal(s.frames.filter((f) => f.id === 7).length, 1);
  });
});

Deno.test("handshake: a first line that is not a well-formed initialize is the transport's, as before", async () => {
  // A ping first: answered, then initialize as usual.
  await withServer(async (s) => {
    assert.deepEqual((await s.request(1, "ping")).result, {});
    assert.ok((await s.request(2, "initialize", INITIALIZE_PARAMS)).result);
    assert.equal(s.frames.filter((f) => f.id === 2).length, 1);
  });
  // Not JSON: -32700; the server then initializes normally.
  await withServer(async (s) => {
    await s.write("{not json\n");
    assert.ok((await s.request(2, "initialize", INITIALIZE_PARAMS)).result);
    assert.equal(s.frames[0].error?.code, -32700);
  });
  // An initialize whose first line is longer than the handshake reads (a 2 MB client name): the SDK answers it.
  await withServer(async (s) => {
    const params = { ...INITIALIZE_PARAMS, clientInfo: { name: "x".repeat(2_000_000), version: "1" } };
    const r = await s.request(3, "initialize", params);
    assert.deepEqual(r.result, (await sdkAnswer(params)).result);
    assert.equal(s.frames.filter((f) => f.id === 3).length, 1);
  });
  // A request with a member JSON-RPC does not allow: refused (-32600), never answered as a success.
  await withServer(async (s) => {
    await s.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 4, method: "initialize", params: INITIALIZE_PARAMS, x: 1 })}\n`,
    );
    const r = await s.reply(4);
    assert.equal(r.result, undefined);
    assert.equal(r.error?.code, -32600);
  });
});

Deno.test("handshake: what it accepts as initialize", () => {
  const ok = (m: unknown) => initializeRequest(JSON.stringify(m));
  const base = { jsonrpc: "2.0", id: 1, method: "initialize", params: INITIALIZE_PARAMS };
  assert.deepEqual(ok(base), { id: 1, protocolVersion: "2025-06-18" });
  assert.deepEqual(ok({ ...base, id: "a" }), { id: "a", protocolVersion: "2025-06-18" });
  for (
    const bad of [
      { ...base, id: 1.5 },
      { ...base, id: null },
      { ...base, jsonrpc: "1.0" },
      { ...base, method: "ping" },
      { ...base, extra: true },
      { ...base, params: { ...INITIALIZE_PARAMS, capabilities: [] } },
      { ...base, params: { ...INITIALIZE_PARAMS, capabilities: { sampling: 1 } } },
      { ...base, params: { ...INITIALIZE_PARAMS, clientInfo: { name: "x" } } },
      { ...base, params: { ...INITIALIZE_PARAMS, clientInfo: { name: "x", version: "1", title: 5 } } },
      { ...base, params: { capabilities: {}, clientInfo: { name: "x", version: "1" } } },
      [base],
    ]
  ) assert.equal(ok(bad), null, JSON.stringify(bad).slice(0, 200));
  assert.equal(initializeRequest("{"), null);
});
