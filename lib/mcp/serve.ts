/**
 * `sage serve`: the MCP server on STDIO. stdout carries JSON-RPC frames and nothing else: console output is
 * rerouted to stderr before anything else loads. The handshake is answered first; the database connection
 * and the model load begin once the client has initialised (or after a short delay), never before.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/stdio.d.ts"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import process from "node:process";
import type { Config } from "../config.ts";
import { configureLog, log } from "../log.ts";
import type { MemoryService } from "../memory/service.ts";
import { createMcpServer } from "./server.ts";

/** Anything that calls console.log (a library, a stray debug line) must not corrupt the protocol stream. */
export function guardStdout(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
  console.trace = toStderr;
}

/** Memories missing a vector for the current model are filled in the background after start, up to this many. */
const BACKFILL_LIMIT = 500;

export async function serve(config: Config): Promise<void> {
  guardStdout();
  configureLog({ level: config.logLevel, file: config.logFile, stderr: true });
  // The service's modules (pg, the memory service, the embedder's glue) load after the handshake: they are
  // most of the start-up time, and `initialize` must not wait for them. A tool call that comes first waits.
  let loading: Promise<MemoryService> | null = null;
  const getService = () =>
    loading ??= Promise.all([import("../memory/service.ts"), import("../embed/embedder.ts")]).then(
      ([{ MemoryService }, { Embedder }]) => new MemoryService(config, new Embedder(config), { autoSession: true }),
    );
  const server = createMcpServer(getService);

  let warmed = false;
  let stopHooks = () => {};
  let backfilling = false;
  // Vectors for memories stored without one (no model then, or captured by a hook with no server running);
  // bounded per run, repeated every minute; `sage reindex` does everything at once.
  const backfill = async () => {
    if (backfilling) return;
    backfilling = true;
    try {
      const service = await getService();
      await Promise.all([service.db.get(), service.embedder.ready()]);
      const r = await service.reindex({ missingOnly: true, limit: BACKFILL_LIMIT });
      if (r.memories) log.info("added missing vectors", { memories: r.memories });
    } catch (err) {
      log.debug("background backfill skipped", { reason: (err as Error).message });
    } finally {
      backfilling = false;
    }
  };
  const backfillTimer = setInterval(backfill, 60_000);
  const warmUp = async () => {
    if (warmed) return;
    warmed = true;
    const [service, { handleHook, hookSettings, parseHookInput }, { serveHooks }] = await Promise.all([
      getService(),
      import("../hooks/handlers.ts"),
      import("../hooks/socket.ts"),
    ]);
    service.warmUp();
    backfill();
    // Hooks of every Claude Code window ask a running server (model loaded) over a Unix socket.
    stopHooks = serveHooks(config, async (req) => {
      const input = parseHookInput(req.input);
      return await handleHook(service, req.event, input, hookSettings(config, req.project));
    });
  };
  server.server.oninitialized = () => void warmUp();
  const timer = setTimeout(() => void warmUp(), 2_000);

  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    clearTimeout(timer);
    clearInterval(backfillTimer);
    stopHooks();
    log.debug("shutting down", { why });
    await server.close().catch(() => {});
    if (loading) await (await loading).close();
    Deno.exit(0);
  };
  // Claude Code ends a server by closing its stdin (and sometimes a signal).
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.on("close", () => shutdown("stdin closed"));
  for (const sig of Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM", "SIGHUP"]) {
    try {
      Deno.addSignalListener(sig as Deno.Signal, () => shutdown(sig));
    } catch {
      // signal not supported here
    }
  }
  await server.connect(new StdioServerTransport());
  log.debug("serving MCP on stdio");
}
