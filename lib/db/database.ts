/**
 * The connection pool and the only place that talks to `pg` directly. It maps driver errors to SageErrors
 * (an unreachable database becomes "unavailable" with a hint, never a crash) and retries transactions that
 * lost a deadlock or serialization race.
 */
// @ts-types="@types/pg"
import pg from "pg";
import { SageError } from "../errors.ts";
import { log } from "../log.ts";

// bigint (ids, counts) as JS numbers: ids stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

/** Sage's tables live in their own schema so a shared database stays tidy. */
export const SCHEMA = "sage";

export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export class Database implements Queryable {
  readonly #pool: pg.Pool;
  readonly description: string;

  constructor(config: pg.PoolConfig, description: string) {
    this.description = description;
    this.#pool = new pg.Pool({ max: 4, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000, ...config });
    // An idle connection dropped by the server must not take the process down; the next query reconnects.
    this.#pool.on("error", (err: Error) => log.warn("database connection lost", { error: err.message }));
    this.#pool.on("connect", (client: pg.PoolClient) => {
      // Queued before any caller's query on this connection. The schema goes first; the rest of the
      // path is kept so the `vector` type resolves wherever the extension was installed. HNSW searches keep
      // scanning until filters leave enough rows (pgvector 0.8 iterative scans; older versions ignore it).
      client.query(
        `SELECT set_config('search_path', '${SCHEMA}, ' || current_setting('search_path'), false),
                set_config('jit', 'off', false), set_config('statement_timeout', '120s', false),
                set_config('hnsw.ef_search', '100', false), set_config('hnsw.iterative_scan', 'relaxed_order', false)`,
      ).catch(() => {/* surfaced by the caller's own query */});
    });
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(text, values);
    } catch (err) {
      throw mapDbError(err);
    }
  }

  /** Runs `fn` in one transaction; everything or nothing. Retries on deadlock/serialization failure. */
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (err) {
        throw mapDbError(err);
      }
      let broken = false;
      try {
        await client.query("BEGIN");
        const result = await fn(client);
        await client.query("COMMIT");
        return result;
      } catch (err) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true; // the connection is gone; do not return it to the pool
        }
        const code = (err as { code?: string }).code;
        if ((code === "40P01" || code === "40001") && attempt < 5) {
          log.debug("transaction retried", { code, attempt });
          continue;
        }
        throw mapDbError(err);
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => {});
  }
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);

/** Translates a driver error into a SageError a user can act on. */
export function mapDbError(err: unknown): SageError {
  if (err instanceof SageError) return err;
  const e = err as { code?: string; message?: string; detail?: string };
  const message = e?.message ?? String(err);
  const code = e?.code ?? "";
  if (
    UNAVAILABLE_CODES.has(code) || code.startsWith("08") || code.startsWith("57P") ||
    /Connection terminated|connection error|timeout exceeded when trying to connect|not queryable/i.test(message)
  ) {
    return new SageError(
      "unavailable",
      `database unavailable: ${message}`,
      "Sage reconnects on the next request. Check that PostgreSQL is running (`sage doctor`).",
    );
  }
  if (code === "53100" || /No space left on device/i.test(message)) {
    return new SageError(
      "unavailable",
      `the disk holding the database is full (${message})`,
      "Free space on that disk: PostgreSQL needs at least 16 MB free there (one WAL segment) to go on writing. " +
        "Nothing stored is lost, and Sage goes on by itself once there is room.",
    );
  }
  if (code === "23505") return new SageError("conflict", `already exists: ${e.detail ?? message}`);
  if (code.startsWith("22")) return new SageError("invalid_input", `rejected by the database: ${message}`);
  if (code === "54000") return new SageError("invalid_input", `too large for the database: ${message}`);
  log.debug("database error", { code, message }); // the caller reports the message itself
  return new SageError("internal", `database error: ${message}`);
}
