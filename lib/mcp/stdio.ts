/**
 * The MCP server on STDIO. stdout carries JSON-RPC frames and nothing else: console output is rerouted to stderr
 * before anything else loads. The process ends when the client closes stdin (Claude Code's way of stopping a
 * server) or on a signal.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/stdio.d.ts"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import process from "node:process";
import { log } from "../log.ts";

/** Anything that calls console.log (a library, a stray debug line) must not corrupt the protocol stream. */
export function guardStdout(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
  console.trace = toStderr;
}

/**
 * Serves `server` on stdin/stdout until the client goes away; `onInitialized` runs once the client has
 * initialised, `onShutdown` before the server closes. Resolves when it is over.
 */
export function runStdio(
  server: McpServer,
  handlers: { onInitialized(): void; onShutdown(why: string): Promise<void> },
): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const shutdown = async (why: string) => {
      if (closing) return;
      closing = true;
      log.debug("shutting down", { why });
      await handlers.onShutdown(why).catch((err) => log.warn("shutdown", { error: String(err) }));
      await server.close().catch(() => {});
      resolve();
    };
    server.server.oninitialized = () => handlers.onInitialized();
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
    server.connect(new StdioServerTransport()).then(() => log.debug("serving MCP on stdio"));
  });
}
