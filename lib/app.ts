/**
 * The composition root: the one place that turns a configuration into a working memory service (database
 * connection, embedder, scope, use cases) for every edge: the MCP server, CLI commands, hooks, tests and benches.
 * Nothing runs at construction: the database opens and the model loads on first use or `warmUp()`.
 */
import type { Config } from "./config.ts";
import { DbConnection } from "./db/connect.ts";
import { Embedder } from "./embed/embedder.ts";
import { Core, Scope } from "./memory/core.ts";
import { MemoryService } from "./memory/service.ts";

export interface AppOptions {
  /** Start a session on the first save when none is set (the MCP server does; the CLI does not). */
  autoSession?: boolean;
  /** No model at all (a hook working without a server: loading one would take seconds). */
  keywordOnly?: boolean;
  /** How long to wait for a database connection (default: the configuration's). */
  connectTimeoutMs?: number;
  /** Parts made by the caller instead (benchmarks instrument them). */
  conn?: DbConnection;
  embedder?: Embedder;
}

export function createService(config: Config, options: AppOptions = {}): MemoryService {
  const cfg: Config = {
    ...config,
    ...(options.keywordOnly ? { modelPath: undefined } : {}),
    ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
  };
  const conn = options.conn ?? new DbConnection(cfg);
  const embedder = options.embedder ?? new Embedder(cfg);
  const core = new Core(cfg, conn, embedder, new Scope(cfg, options.autoSession ?? false));
  return new MemoryService(core);
}
