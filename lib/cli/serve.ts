/**
 * `sage serve`: the MCP server on STDIO (what Claude Code starts), plus what a long-running server offers the rest
 * of Sage once the client has initialised (or after a short delay): the hook socket every Claude Code window's hooks
 * ask, and the background backfill of missing vectors. The handshake is answered first: the memory service's
 * modules, the database and the model load afterwards.
 */
import { configureLog } from "../log.ts";
import type { MemoryService } from "../memory/service.ts";
import { createMcpServer } from "../mcp/server.ts";
import { guardStdout, runStdio } from "../mcp/stdio.ts";
import { loadLater } from "../modules.ts";
import type { CommandSpec } from "./command.ts";

const later = <T>(path: string) => loadLater<T>(new URL(path, import.meta.url));

export const command: CommandSpec = {
  name: "serve",
  summary: "Run the MCP server on stdio (what Claude Code starts). stdout carries only JSON-RPC; logs go to stderr.",
  usage: "serve [options]",
  details: "The handshake is answered at once; the database connection and the embedding model load in the background.",
  async run({ config }) {
    guardStdout();
    configureLog({ level: config.logLevel, file: config.logFile, stderr: true });
    // The service's modules (pg, the use cases, the embedder's glue) load after the handshake: they are most of the
    // start-up time, and `initialize` must not wait for them. A tool call that comes first waits.
    let loading: Promise<MemoryService> | null = null;
    const getService = () =>
      loading ??= later<typeof import("../app.ts")>("../app.ts").then(({ createService }) =>
        createService(config, { autoSession: true })
      );
    let stopHooks = () => {};
    let warmed = false;
    const warmUp = async () => {
      if (warmed) return;
      warmed = true;
      const [service, { handleHook, hookSettings, parseHookInput }, { serveHooks }] = await Promise.all([
        getService(),
        later<typeof import("../hooks/handlers.ts")>("../hooks/handlers.ts"),
        later<typeof import("../hooks/socket.ts")>("../hooks/socket.ts"),
      ]);
      service.warmUp();
      service.startBackfill();
      // Hooks of every Claude Code window ask a running server (model loaded) over a Unix socket.
      stopHooks = serveHooks(
        config,
        (req) => handleHook(service, req.event, parseHookInput(req.input), hookSettings(config, req.project)),
      );
    };
    const timer = setTimeout(() => void warmUp(), 2_000);
    await runStdio(createMcpServer(getService), {
      onInitialized: () => void warmUp(),
      async onShutdown() {
        clearTimeout(timer);
        stopHooks();
        if (loading) await (await loading).close();
      },
    });
    return 0;
  },
};
