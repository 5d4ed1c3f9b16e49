/**
 * Opens the database Sage was pointed at (a URL, or the private cluster), migrates it, and keeps it open.
 * Nothing here runs at import time: `serve` answers `initialize` first and connects in the background.
 */
import { type Config, redactUrl } from "../config.ts";
import { SageError } from "../errors.ts";
import { log } from "../log.ts";
import { ensureCluster, isDiskFull } from "./cluster.ts";
import { Database } from "./database.ts";
import { migrate, type MigrateResult } from "./migrate.ts";

export class DbConnection {
  readonly #config: Config;
  #opening: Promise<Database> | null = null;
  #db: Database | null = null;
  /** What opening the database applied (`sage migrate` reports it). */
  lastMigration: MigrateResult | null = null;

  constructor(config: Config) {
    this.#config = config;
  }

  /** True when Sage runs its own private cluster (no URL given). */
  get embedded(): boolean {
    return !this.#config.dbUrl;
  }

  /** The open, migrated database. A failed attempt is forgotten, so the next call tries again. */
  get(): Promise<Database> {
    if (!this.#opening) {
      this.#opening = this.#open().catch((err) => {
        this.#opening = null;
        throw err;
      });
    }
    return this.#opening;
  }

  /**
   * Runs `fn` against the database. If the database went away and Sage owns it, the private cluster is
   * started again and `fn` retried once; writes are idempotent (content hash), so a retry never duplicates.
   */
  async use<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const db = await this.get();
    try {
      return await fn(db);
    } catch (err) {
      // A full disk stays full for a retry: said at once (the next call tries again by itself).
      if (!(err instanceof SageError) || err.code !== "unavailable" || isDiskFull(err)) throw err;
      if (this.embedded) {
        log.warn("database went away; starting the private cluster again", { error: err.message });
        await ensureCluster(this.#config);
        return await fn(db);
      }
      // A failover or restart leaves stale pooled connections and takes a second or two: retry with backoff
      // (0.25 + 0.5 + 1 + 2 s), then report. Writes are idempotent (content hash), so a retry never duplicates.
      for (const wait of [250, 500, 1_000, 2_000]) {
        await new Promise((r) => setTimeout(r, wait));
        try {
          return await fn(db);
        } catch (again) {
          if (!(again instanceof SageError) || again.code !== "unavailable" || wait === 2_000) throw again;
        }
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    this.#opening = null;
    await db?.close();
  }

  async #open(): Promise<Database> {
    const cfg = this.#config;
    // pg reads anything else as a URL relative to "postgres://base" and fails with "getaddrinfo ENOTFOUND base".
    if (cfg.dbUrl && !/^(postgres|postgresql|socket):/i.test(cfg.dbUrl)) {
      throw new SageError(
        "invalid_input",
        `the database URL "${redactUrl(cfg.dbUrl)}" is not a PostgreSQL URL`,
        "Use postgres://user:password@host:5432/dbname (DATABASE_URL or --db-url), or unset it to use Sage's private cluster.",
      );
    }
    const poolConfig = {
      ...(cfg.dbUrl ? { connectionString: cfg.dbUrl } : await ensureCluster(cfg)),
      connectionTimeoutMillis: cfg.connectTimeoutMs,
    };
    const db = new Database(poolConfig, cfg.dbUrl ? redactUrl(cfg.dbUrl) : `private cluster in ${cfg.home}`);
    try {
      this.lastMigration = await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    this.#db = db;
    return db;
  }
}
