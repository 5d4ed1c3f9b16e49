/**
 * What every use case works with: the configuration, the database, the embedder, and the scope a call defaults to
 * (the current project and session). Built once per process by lib/app.ts; use cases are functions of it, so a
 * use case's dependencies are visible in its signature and nothing reaches past it into the database or the model.
 */
import type { Config } from "../config.ts";
import type { Database } from "../db/database.ts";
import type { DbConnection } from "../db/connect.ts";
import { prepareModel } from "../db/repos/models.ts";
import type { Embedder, LoadedModel } from "../embed/embedder.ts";
import { invalid, SageError } from "../errors.ts";
import { findProjectRoot, normalizeProject } from "../project.ts";
import { chunkText } from "../text/tokens.ts";

/** Passages longer than this (estimated tokens) are embedded in chunks; the model reads 512 at most. */
const CHUNK_TOKENS = 256;
/** Chunks embedded per memory; text beyond stays keyword-searchable. */
const MAX_CHUNKS = 24;

/** The project and session a call uses when it names none. The session changes (manage_session, first save). */
export class Scope {
  readonly project: string;
  session: string | null;
  /** Start a session on the first save when none is set (the MCP server does; the CLI does not). */
  readonly autoSession: boolean;

  constructor(config: Config, autoSession: boolean) {
    this.project = config.project ? normalizeProject(config.project) : findProjectRoot(config.cwd);
    this.session = config.session ?? null;
    this.autoSession = autoSession;
  }

  /** A project argument, or the current project. */
  projectOf(value: unknown): string {
    if (value === undefined || value === null) return this.project;
    if (typeof value !== "string") throw invalid("project must be a string");
    return normalizeProject(value);
  }
}

export class Core {
  readonly config: Config;
  readonly conn: DbConnection;
  readonly embedder: Embedder;
  readonly scope: Scope;
  readonly startedAt = Date.now();
  #modelPrepared: Promise<LoadedModel | null> | null = null;

  constructor(config: Config, conn: DbConnection, embedder: Embedder, scope: Scope) {
    this.config = config;
    this.conn = conn;
    this.embedder = embedder;
    this.scope = scope;
  }

  /** Runs `fn` on the database (see DbConnection.use: a private cluster that stopped is started again). */
  db<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    return this.conn.use(fn);
  }

  /**
   * The model to embed with, waiting for a load in progress, its vector index ready. When there is none (not
   * configured, failed to load), saving still works, keyword-only, and says so in `warnings`; searching in vector
   * mode fails with the reason.
   */
  async model(purpose: "save" | "search", warnings: string[]): Promise<LoadedModel | null> {
    if (!this.#modelPrepared) {
      this.#modelPrepared = this.embedder.ready().then(async (model) => {
        await this.db((db) => prepareModel(db, model));
        return model;
      }).catch((err) => {
        this.#modelPrepared = null; // try again next time (the database may come back)
        if (err instanceof SageError && err.code === "model_unavailable") return null;
        throw err;
      });
    }
    const model = await this.#modelPrepared;
    if (!model) {
      const reason = firstLine(this.embedder.status().error ?? "no embedding model");
      warnings.push(
        purpose === "save"
          ? `stored without a vector (${reason}); it is found by keyword search, and \`sage reindex\` adds vectors later`
          : `vector search unavailable (${reason}); results are keyword-only`,
      );
    }
    return model;
  }

  /** The reason no model is available, for errors. */
  modelError(): string {
    return this.embedder.status().error ?? "no model";
  }

  /** Chunk vectors per text (null entries dropped; an empty list when the model sees nothing in the text). */
  async embedChunks(texts: string[]): Promise<Float32Array[][]> {
    const chunked = texts.map((t) => chunkText(t, CHUNK_TOKENS, MAX_CHUNKS));
    const flat = await this.embedder.embedPassages(chunked.flat());
    let offset = 0;
    return chunked.map((chunks) => {
      const vs = flat.slice(offset, offset + chunks.length).filter((v): v is Float32Array => v !== null);
      offset += chunks.length;
      return vs;
    });
  }
}

export function firstLine(s: string): string {
  return s.split("\n")[0];
}

/** A memory id that is not in the project a call acts on (null: in any project), whether or not another has it. */
export function notFound(id: number, project: string | null): SageError {
  return new SageError(
    "not_found",
    `no memory with id ${id}${project === null ? "" : ` in project ${project}`}`,
    "search_memory finds memories and their ids; to act on another project's memory, name its project.",
  );
}
