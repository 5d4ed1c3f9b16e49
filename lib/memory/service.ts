/**
 * The memory service: everything a user can do, written once. The MCP server, the CLI and the hooks are thin
 * edges that translate their input into these calls and the results into their output.
 *
 * Data path of a save: validate → privacy filter → hash (exact duplicates end here) → keyword terms →
 * chunk + embed (outside any transaction) → one transaction: session, memory, vectors.
 * Data path of a search: validate → keyword list ∥ vector list → rank fusion → rows.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config.ts";
import { DbConnection } from "../db/connect.ts";
import { dropOtherModels, prepareModel } from "../db/vector_index.ts";
import { type Embedder, type LoadedModel } from "../embed/embedder.ts";
import { invalid, SageError } from "../errors.ts";
import { log } from "../log.ts";
import { findProjectRoot, normalizeProject } from "../project.ts";
import { sanitize, sanitizeJson } from "../text/privacy.ts";
import { analyze, queryTerms, sayTheSame } from "../text/terms.ts";
import { chunkText, estimateTokens } from "../text/tokens.ts";
import { VERSION } from "../version.ts";
import { buildContext } from "./context.ts";
import { counts, databaseStatus } from "./status.ts";
import { rank } from "./search.ts";
import { keywordSearch, nearest } from "./retrieval.ts";
import { timeHint } from "../text/time.ts";
import * as store from "./store.ts";
import {
  type ExportFormat,
  type ImportRecord,
  markdownHeader,
  memoryLine,
  memoryMarkdown,
  parseImportLine,
  sessionLine,
} from "./transfer.ts";
import type {
  ContextResult,
  Memory,
  MemoryDetail,
  SaveResult,
  SearchFilters,
  SearchMode,
  SearchResult,
  Session,
} from "./types.ts";
import {
  checkId,
  checkKind,
  checkKinds,
  checkLimit,
  checkMetadata,
  checkSessionId,
  checkTags,
  checkText,
  checkTime,
} from "./validate.ts";

/** Passages longer than this (estimated tokens) are embedded in chunks; the model reads 512 at most. */
const CHUNK_TOKENS = 256;
/** Chunks embedded per memory; text beyond stays keyword-searchable. */
const MAX_CHUNKS = 24;
const MAX_QUERY_CHARS = 4_000;
const IMPORT_BATCH = 200;

export interface ServiceOptions {
  /** Start a session on the first save when none is set (the MCP server does; the CLI does not). */
  autoSession?: boolean;
  db?: DbConnection;
}

export interface SaveInput {
  content: unknown;
  kind?: unknown;
  tags?: unknown;
  metadata?: unknown;
  project?: unknown;
  /** undefined: the current session; null: none. */
  session?: unknown;
  /** ISO time; for imports and hooks that know when something was said. */
  created_at?: unknown;
}

export interface ConversationInput extends Omit<SaveInput, "content" | "kind"> {
  user_prompt: unknown;
  assistant_response: unknown;
}

export interface FilterInput {
  project?: unknown;
  all_projects?: unknown;
  session?: unknown;
  tags?: unknown;
  kinds?: unknown;
  after?: unknown;
  before?: unknown;
}

export interface SearchInput extends FilterInput {
  query: unknown;
  limit?: unknown;
  mode?: unknown;
}

export interface ContextInput extends Omit<SearchInput, "limit" | "mode"> {
  max_results?: unknown;
  token_budget?: unknown;
}

export interface UpdateInput {
  id: unknown;
  content?: unknown;
  kind?: unknown;
  tags?: unknown;
  metadata?: unknown;
}

export interface DeleteInput {
  id?: unknown;
  ids?: unknown;
  project?: unknown;
  all_projects?: unknown;
  session?: unknown;
  tags?: unknown;
  kinds?: unknown;
  before?: unknown;
  after?: unknown;
  confirm?: unknown;
}

export interface ExportInput {
  format?: unknown;
  project?: unknown;
  all_projects?: unknown;
  session?: unknown;
}

export interface ImportStats {
  read: number;
  sessions: number;
  imported: number;
  duplicates: number;
  /** Records whose id was taken by a different memory: imported under a new id. */
  remapped: number;
}

interface Prepared {
  id?: number;
  project: string;
  session: string | null;
  kind: string;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  hash: string;
  terms: string[];
  termCount: number;
  createdAt?: string;
  updatedAt?: string;
  redactions: string[];
  /** Chunk vectors already computed (the near-duplicate check needs them first); undefined: embed in #store. */
  vectors?: Float32Array[] | null;
}

export class MemoryService {
  readonly config: Config;
  readonly embedder: Embedder;
  readonly db: DbConnection;
  readonly startedAt = Date.now();
  readonly #autoSession: boolean;
  #project: string;
  #session: string | null;
  #modelPrepared: Promise<LoadedModel | null> | null = null;

  constructor(config: Config, embedder: Embedder, options: ServiceOptions = {}) {
    this.config = config;
    this.embedder = embedder;
    this.db = options.db ?? new DbConnection(config);
    this.#autoSession = options.autoSession ?? false;
    this.#project = config.project ? normalizeProject(config.project) : findProjectRoot(config.cwd);
    this.#session = config.session ?? null;
  }

  /** The project memories go to when a call names none. */
  get project(): string {
    return this.#project;
  }

  get session(): string | null {
    return this.#session;
  }

  /** Starts connecting and loading the model in the background; returns at once. */
  warmUp(): void {
    this.db.get().catch((err) => log.warn("database not ready", { error: err.message }));
    this.embedder.start();
  }

  async close(): Promise<void> {
    this.embedder.close();
    await this.db.close();
  }

  // ---- saving ---------------------------------------------------------------------------------------------

  /**
   * Saves one memory. A note, decision, fact… that says the same as one already in the project (same kind) is
   * merged into it instead of piling up: see #nearDuplicate for the exact rule.
   */
  async saveMemory(input: SaveInput): Promise<SaveResult> {
    const item = await this.#prepare(input);
    return await this.#saveOne(item, item.kind !== "conversation");
  }

  async saveConversation(input: ConversationInput): Promise<SaveResult> {
    const prompt = checkText("user_prompt", input.user_prompt, this.config.maxContentChars);
    const response = checkText("assistant_response", input.assistant_response, this.config.maxContentChars);
    const item = await this.#prepare({
      ...input,
      kind: "conversation",
      content: conversationContent(prompt, response),
    });
    return await this.#saveOne(item, false);
  }

  /**
   * One memory: the exact-duplicate lookup (an index probe) runs while the text is embedded, and #store reuses
   * both. Heavier queries wait: on two cores they would only slow the model down.
   */
  async #saveOne(item: Prepared, mergeNear: boolean): Promise<SaveResult> {
    const warnings: string[] = [];
    const [existing, model] = await Promise.all([
      this.db.run((db) => store.idsByHash(db, [item])),
      this.#modelFor("save", warnings).then(async (model) => {
        item.vectors = model ? (await this.#embedChunks([item.content]))[0] : null;
        return model;
      }),
    ]);
    if (!existing.size && mergeNear) {
      const merged = await this.#mergeNearDuplicate(item, model);
      if (merged) return merged;
    }
    return (await this.#store([item], existing))[0];
  }

  /**
   * Near-duplicates (interactive saves of non-conversation kinds only; imports and hooks store what they get):
   * an existing memory of the same project and kind whose text, compared word by word (case, punctuation and
   * width ignored), differs from the new one in at most one word in ten, where every differing word is inert
   * (no digits, no negation, at most 12 characters), whose numbers and negations come in the same order, and,
   * when both have vectors, whose similarity is at least 0.95. "Port 5432" and "port 5433" are different
   * memories; "Use tabs, not spaces." and "use tabs not spaces" are one. The existing memory stays, gains the
   * new tags and metadata keys, and its updated_at moves.
   */
  async #mergeNearDuplicate(item: Prepared, model: LoadedModel | null): Promise<SaveResult | null> {
    const filters: SearchFilters = { project: item.project, kinds: [item.kind] };
    // With vectors, a near-duplicate is among the nearest (one HNSW query); without, it shares the rarest words
    // (a small posting budget is enough: it has nine words in ten in common).
    const candidates = await this.db.run(async (db) => {
      if (model && item.vectors?.length) return await nearest(db, model, item.vectors[0], filters, 3);
      const found = (await keywordSearch(db, queryTerms(item.content).slice(0, 64), filters, 3, 200)).hits;
      return (await store.getMemories(db, found.map((h) => h.id))).map((m) => ({ ...m, similarity: undefined }));
    });
    const same = candidates.find((c) =>
      (c.similarity === undefined || c.similarity >= 0.95) && sayTheSame(item.content, c.content)
    );
    if (!same) return null;
    const [m] = await this.db.run((db) => store.getMemories(db, [same.id]));
    const tags = [...new Set([...m.tags, ...item.tags])];
    const metadata = { ...item.metadata, ...m.metadata };
    await this.db.run((db) => store.updateMemory(db, m.id, { tags, metadata }));
    return {
      id: m.id,
      duplicate: true,
      project: m.project,
      session: m.session,
      kind: m.kind,
      created_at: m.created_at,
      embedded: false,
      redactions: item.redactions,
      warnings: [`memory ${m.id} already says this; merged into it (tags added, nothing else stored)`],
    };
  }

  /**
   * Saves several memories: one embedding batch, one transaction. Results are in input order; a memory whose
   * content already exists in its project comes back as a duplicate with the existing id.
   */
  async saveMany(inputs: SaveInput[]): Promise<SaveResult[]> {
    const items: Prepared[] = [];
    for (const input of inputs) items.push(await this.#prepare(input));
    return await this.#store(items);
  }

  async #prepare(input: SaveInput, extra: Partial<Prepared> = {}): Promise<Prepared> {
    const raw = checkText("content", input.content, this.config.maxContentChars);
    const { text, redactions } = sanitize(raw);
    const content = text.trim();
    if (!content) throw invalid("nothing is left to store once <private> text and secrets are removed");
    const terms = analyze(content);
    const createdAt = input.created_at === undefined || input.created_at === null
      ? undefined
      : checkTime("created_at", input.created_at)!.toISOString();
    return {
      project: this.#projectOf(input.project),
      session: await this.#sessionFor(input.session),
      kind: input.kind === undefined ? "note" : checkKind(input.kind),
      content,
      // Secrets are redacted wherever they hide, not only in the text.
      tags: sanitizeJson(checkTags(input.tags), redactions),
      metadata: sanitizeJson(checkMetadata(input.metadata), redactions),
      hash: contentHash(content),
      terms: [...new Set(terms)],
      termCount: terms.length,
      createdAt,
      redactions,
      ...extra,
    };
  }

  /** Stores prepared items; `known`: the exact-duplicate lookup, when the caller already made it. */
  async #store(items: Prepared[], known?: Map<string, store.Existing>): Promise<SaveResult[]> {
    const key = store.hashKey;
    const existing = known ?? await this.db.run((db) => store.idsByHash(db, items));
    // Exact duplicates need no embedding; of several equal new items, the first is the one stored.
    const fresh = new Map<string, Prepared>();
    for (const it of items) if (!existing.has(key(it)) && !fresh.has(key(it))) fresh.set(key(it), it);
    const freshItems = [...fresh.values()];
    const warnings: string[] = [];
    const model = freshItems.length ? await this.#modelFor("save", warnings) : null;
    const toEmbed = freshItems.filter((it) => it.vectors === undefined);
    const embedded = model ? await this.#embedChunks(toEmbed.map((it) => it.content)) : [];
    const vectorsOf = new Map(freshItems.map((it) => [key(it), it.vectors ?? embedded[toEmbed.indexOf(it)] ?? null]));

    const inserted = freshItems.some((it) => it.id !== undefined)
      ? await this.#storeWithIds(freshItems, vectorsOf, model)
      : await this.db.run(async (db) => {
        // One statement: sessions, memories and vectors, all or nothing, one round trip.
        const vectors = freshItems.flatMap((it) =>
          (vectorsOf.get(key(it)) ?? []).map((vector, chunk) => ({ project: it.project, hash: it.hash, chunk, vector }))
        );
        const rows = await store.saveRows(db, freshItems, model ? vectors : [], model?.key ?? null);
        return new Map(rows.map((r) => [key(r), r]));
      });
    // Saved by someone else between our check and our insert: report theirs.
    const raced = freshItems.filter((it) => !inserted.has(key(it)));
    if (raced.length) {
      for (const [k, e] of await this.db.run((db) => store.idsByHash(db, raced))) {
        existing.set(k, e);
      }
    }

    return items.map((it) => {
      const k = key(it);
      const row = fresh.get(k) === it ? inserted.get(k) : undefined;
      const other = existing.get(k) ?? inserted.get(k);
      if (!row && !other) throw new SageError("internal", "a saved memory's id could not be found");
      const embedded = !!row && !!vectorsOf.get(k)?.length;
      const w = row ? [...warnings] : [];
      if (row && model && !embedded) {
        w.push("the embedding model cannot represent this text; it is found by keyword search only");
      }
      return {
        id: (row ?? other)!.id,
        duplicate: !row,
        project: it.project,
        session: it.session,
        kind: it.kind,
        created_at: (row ?? other)!.created_at,
        embedded,
        redactions: it.redactions,
        warnings: w,
      };
    });
  }

  /** Imports with explicit ids: a transaction, since the id sequence must move between the two inserts. */
  async #storeWithIds(
    items: Prepared[],
    vectorsOf: Map<string, Float32Array[] | null>,
    model: LoadedModel | null,
  ): Promise<Map<string, store.Inserted>> {
    const key = store.hashKey;
    return await this.db.run((db) =>
      db.tx(async (q) => {
        const sessions = new Map(items.filter((it) => it.session).map((it) => [it.session!, it.project]));
        for (const [id, project] of sessions) await store.ensureSession(q, { id, project });
        const rows = await store.insertMemories(q, items);
        if (model) {
          const vrows: store.NewVector[] = [];
          for (const row of rows) {
            vectorsOf.get(key(row))?.forEach((vector, chunk) =>
              vrows.push({ memoryId: row.id, project: row.project, chunk, vector })
            );
          }
          await store.insertVectors(q, model.key, vrows);
        }
        // A session was last used when its newest memory was made (an import keeps the imported time).
        const latest = new Map<string, string>();
        const byKey = new Map(items.map((it) => [key(it), it]));
        for (const row of rows) {
          const session = byKey.get(key(row))?.session;
          if (session && !(latest.get(session)! >= row.created_at)) latest.set(session, row.created_at);
        }
        for (const [id, at] of latest) await store.touchSession(q, id, at);
        return new Map(rows.map((r) => [key(r), r]));
      })
    );
  }

  /** Chunk vectors per text (null entries dropped; an empty list when the model sees nothing in the text). */
  async #embedChunks(texts: string[]): Promise<(Float32Array[] | null)[]> {
    const chunked = texts.map((t) => chunkText(t, CHUNK_TOKENS, MAX_CHUNKS));
    const flat = await this.embedder.embedPassages(chunked.flat());
    let offset = 0;
    return chunked.map((chunks) => {
      const vs = flat.slice(offset, offset + chunks.length).filter((v): v is Float32Array => v !== null);
      offset += chunks.length;
      return vs;
    });
  }

  /**
   * The model to embed with, waiting for a load in progress. When there is none (not configured, failed to
   * load), saving still works, keyword-only, and says so; searching in vector mode fails with the reason.
   */
  async #modelFor(purpose: "save" | "search", warnings: string[]): Promise<LoadedModel | null> {
    if (!this.#modelPrepared) {
      this.#modelPrepared = this.embedder.ready().then(async (model) => {
        await this.db.run((db) => prepareModel(db, model));
        return model;
      }).catch((err) => {
        this.#modelPrepared = null; // try again next time (the database may come back)
        if (err instanceof SageError && err.code === "model_unavailable") return null;
        throw err;
      });
    }
    const model = await this.#modelPrepared;
    if (!model) {
      const reason = this.embedder.status().error ?? "no embedding model";
      warnings.push(
        purpose === "save"
          ? `stored without a vector (${
            firstLine(reason)
          }); it is found by keyword search, and \`sage reindex\` adds vectors later`
          : `vector search unavailable (${firstLine(reason)}); results are keyword-only`,
      );
    }
    return model;
  }

  // ---- searching ------------------------------------------------------------------------------------------

  async search(input: SearchInput): Promise<SearchResult> {
    const query = checkText("query", input.query, MAX_QUERY_CHARS);
    const limit = checkLimit(input.limit, 10, 100);
    const mode = checkMode(input.mode);
    const filters = this.#filters(input);
    const warnings: string[] = [];
    const vector = mode === "keyword"
      ? Promise.resolve({ vector: null, model: null })
      : this.#queryVector(query, mode, warnings);
    vector.catch(() => {}); // awaited inside rank; an error surfaces there
    // A time named in the query ("last week", "on 31 July, 2023") boosts that period, unless filters set one.
    const window = filters.after || filters.before ? null : timeHint(query);
    const hits = await this.db.run((db) =>
      rank(db, { terms: queryTerms(query), query: vector, filters, limit, mode, window })
    );
    return { query, mode, project: filters.project, hits, warnings };
  }

  /** The query's vector and the model it belongs to; degrades to keyword-only (with a warning) in hybrid mode. */
  async #queryVector(
    query: string,
    mode: SearchMode,
    warnings: string[],
  ): Promise<{ vector: Float32Array | null; model: LoadedModel | null }> {
    const none = { vector: null, model: null };
    const model = await this.#modelFor("search", mode === "vector" ? [] : warnings);
    if (!model) {
      if (mode === "vector") {
        throw new SageError(
          "model_unavailable",
          `vector search unavailable: ${this.embedder.status().error ?? "no model"}`,
        );
      }
      return none;
    }
    try {
      const [vector] = await this.embedder.embedQueries([query]);
      if (!vector) warnings.push("the embedding model cannot represent this query; results are keyword-only");
      return { vector, model };
    } catch (err) {
      if (mode === "vector") throw err;
      warnings.push(
        `vector search failed (${err instanceof Error ? firstLine(err.message) : err}); results are keyword-only`,
      );
      return none;
    }
  }

  async context(input: ContextInput): Promise<ContextResult> {
    const maxResults = checkLimit(input.max_results, 8, 50, "max_results");
    const budget = checkLimit(input.token_budget, 1500, 32_000, "token_budget");
    if (budget < 100) throw invalid("token_budget must be at least 100");
    const result = await this.search({ ...input, limit: maxResults, mode: "hybrid" });
    return buildContext(result.query, result.project, result.hits, budget, result.warnings);
  }

  #filters(input: FilterInput): SearchFilters {
    const after = checkTime("after", input.after);
    const before = checkTime("before", input.before);
    if (after && before && after >= before) throw invalid("after must be earlier than before");
    return {
      project: checkBool("all_projects", input.all_projects) ? null : this.#projectOf(input.project),
      session: input.session === undefined || input.session === null ? undefined : checkSessionId(input.session),
      tags: input.tags === undefined ? undefined : checkTags(input.tags),
      kinds: checkKinds(input.kinds),
      after,
      before,
    };
  }

  // ---- one memory -----------------------------------------------------------------------------------------

  async get(idInput: unknown): Promise<MemoryDetail> {
    const id = checkId(idInput);
    // Waits for a model still loading: before it is known, every memory would look unembedded.
    const modelKey = (await this.#modelFor("search", []))?.key ?? null;
    const m = await this.db.run((db) => store.getMemoryDetail(db, id, modelKey));
    if (!m) throw notFound(id);
    return m;
  }

  async update(input: UpdateInput): Promise<Memory> {
    const id = checkId(input.id);
    if (
      input.content === undefined && input.kind === undefined && input.tags === undefined &&
      input.metadata === undefined
    ) {
      throw invalid("nothing to update: give content, kind, tags or metadata");
    }
    const current = await this.db.run((db) => store.getMemories(db, [id]));
    if (!current.length) throw notFound(id);
    const patch: store.MemoryPatch = {};
    let vectors: Float32Array[] | null = null;
    let model: LoadedModel | null = null;
    if (input.content !== undefined) {
      const prepared = await this.#prepare({ content: input.content, project: current[0].project, session: null });
      patch.content = {
        text: prepared.content,
        hash: prepared.hash,
        terms: prepared.terms,
        termCount: prepared.termCount,
      };
      const clash = await this.db.run((db) => store.idsByHash(db, [prepared]));
      const other = [...clash.values()].find((e) => e.id !== id)?.id;
      if (other) throw new SageError("conflict", `memory ${other} in this project already has exactly this content`);
      model = await this.#modelFor("save", []);
      if (model) vectors = (await this.#embedChunks([prepared.content]))[0];
    }
    if (input.kind !== undefined) patch.kind = checkKind(input.kind);
    if (input.tags !== undefined) patch.tags = sanitizeJson(checkTags(input.tags));
    if (input.metadata !== undefined) patch.metadata = sanitizeJson(checkMetadata(input.metadata));
    const updated = await this.db.run((db) =>
      db.tx(async (q) => {
        const m = await store.updateMemory(q, id, patch);
        if (m && patch.content) {
          await store.deleteVectors(q, id);
          if (model && vectors) {
            await store.insertVectors(
              q,
              model.key,
              vectors.map((vector, chunk) => ({ memoryId: id, project: m.project, chunk, vector })),
            );
          }
        }
        return m;
      })
    );
    if (!updated) throw notFound(id);
    return updated;
  }

  /**
   * Deletes one memory by id, or many (a list of ids, or filters). Deleting more than one needs
   * `confirm: true`; without it nothing changes and the error says how many would go.
   */
  async delete(input: DeleteInput): Promise<{ deleted: number[]; not_found: number[] }> {
    const filterGiven = ["project", "all_projects", "session", "tags", "kinds", "before", "after"]
      .some((k) => (input as Record<string, unknown>)[k] !== undefined);
    if (input.confirm !== undefined && typeof input.confirm !== "boolean") {
      throw invalid("confirm must be true or false");
    }
    if (input.id !== undefined && (input.ids !== undefined || filterGiven)) {
      throw invalid("give either id, or ids, or filters, not several");
    }
    if (input.id !== undefined) {
      const id = checkId(input.id);
      const deleted = await this.db.run((db) => store.deleteByIds(db, [id]));
      if (!deleted.length) throw notFound(id);
      return { deleted, not_found: [] };
    }
    let targets: number[];
    let notFoundIds: number[] = [];
    if (input.ids !== undefined) {
      if (!Array.isArray(input.ids) || !input.ids.length) throw invalid("ids must be a non-empty list of memory ids");
      if (filterGiven) throw invalid("give either ids or filters, not both");
      const ids = [...new Set(input.ids.map((v) => checkId(v, "ids[]")))];
      const found = new Set((await this.db.run((db) => store.getMemories(db, ids))).map((m) => m.id));
      targets = ids.filter((i) => found.has(i));
      notFoundIds = ids.filter((i) => !found.has(i));
    } else if (filterGiven) {
      const filters = this.#filters(input);
      targets = await this.db.run((db) => store.listIds(db, filters));
    } else {
      throw invalid("say what to delete: id, ids, or filters (project, session, tags, kinds, before, after)");
    }
    if (targets.length > 1 && input.confirm !== true) {
      throw invalid(
        `this would delete ${targets.length} memories; nothing was deleted`,
        "Repeat the call with confirm: true to delete them.",
      );
    }
    const deleted = targets.length ? await this.db.run((db) => store.deleteByIds(db, targets)) : [];
    return { deleted, not_found: notFoundIds };
  }

  // ---- sessions -------------------------------------------------------------------------------------------

  async createSession(input: { id?: unknown; name?: unknown; project?: unknown }): Promise<Session> {
    const id = input.id === undefined ? crypto.randomUUID() : checkSessionId(input.id, "id");
    const name = input.name === undefined || input.name === null
      ? null
      : sanitize(checkText("name", input.name, 200)).text.trim() || null;
    const project = this.#projectOf(input.project);
    const existing = await this.db.run((db) => store.getSession(db, id));
    if (existing) {
      throw new SageError("conflict", `session ${id} already exists`, "Use action switch to make it current.");
    }
    await this.db.run((db) => store.ensureSession(db, { id, project, name }));
    this.#session = id;
    return { ...(await this.db.run((db) => store.getSession(db, id)))!, current: true };
  }

  async switchSession(input: { id?: unknown; name?: unknown }): Promise<Session> {
    const s = await this.#findSession(input);
    this.#session = s.id;
    return { ...s, current: true };
  }

  async sessionInfo(
    input: { id?: unknown; name?: unknown },
  ): Promise<
    Session & { kinds: Record<string, number>; first_memory_at: string | null; last_memory_at: string | null }
  > {
    if (input.id === undefined && input.name === undefined && !this.#session) {
      throw invalid("there is no current session yet; give an id, or create one");
    }
    const s = input.id === undefined && input.name === undefined
      ? await this.#findSession({ id: this.#session })
      : await this.#findSession(input);
    const stats = await this.db.run((db) =>
      db.query<{ kind: string; n: number; first: string; last: string }>(
        `SELECT kind, count(*)::int AS n, ${store.isoOf("min(created_at)")} AS first, ${
          store.isoOf("max(created_at)")
        } AS last
         FROM memories WHERE session_id = $1 GROUP BY kind`,
        [s.id],
      )
    );
    const kinds: Record<string, number> = {};
    for (const r of stats.rows) kinds[r.kind] = r.n;
    const firsts = stats.rows.map((r) => r.first).sort();
    const lasts = stats.rows.map((r) => r.last).sort();
    return {
      ...s,
      current: s.id === this.#session,
      kinds,
      first_memory_at: firsts[0] ?? null,
      last_memory_at: lasts[lasts.length - 1] ?? null,
    };
  }

  async listSessions(input: { project?: unknown; all_projects?: unknown; limit?: unknown }): Promise<Session[]> {
    const limit = checkLimit(input.limit, 20, 200);
    const project = checkBool("all_projects", input.all_projects) ? null : this.#projectOf(input.project);
    const list = await this.db.run((db) => store.listSessions(db, project, limit));
    return list.map((s) => ({ ...s, current: s.id === this.#session }));
  }

  async #findSession(input: { id?: unknown; name?: unknown }): Promise<Session> {
    if (input.id !== undefined && input.id !== null) {
      const id = checkSessionId(input.id, "id");
      const s = await this.db.run((db) => store.getSession(db, id));
      if (!s) {
        throw new SageError(
          "not_found",
          `no session with id ${id}`,
          "manage_session with action list shows the sessions.",
        );
      }
      return s;
    }
    if (input.name === undefined || input.name === null) throw invalid("give the session's id or name");
    const name = checkText("name", input.name, 200).trim();
    const found = await this.db.run((db) => store.findSessionsByName(db, this.#project, name));
    if (!found.length) throw new SageError("not_found", `no session named "${name}" in project ${this.#project}`);
    return found[0]; // the most recently used of that name
  }

  /** The session a save goes to: given, none (null), or the current one (started on first use by the server). */
  async #sessionFor(value: unknown): Promise<string | null> {
    if (value === null) return null;
    if (value !== undefined) return checkSessionId(value);
    if (!this.#session && this.#autoSession) {
      const name = `session ${new Date().toISOString().slice(0, 16).replace("T", " ")}`;
      this.#session = crypto.randomUUID();
      await this.db.run((db) => store.ensureSession(db, { id: this.#session!, project: this.#project, name }));
    }
    return this.#session;
  }

  #projectOf(value: unknown): string {
    if (value === undefined || value === null) return this.#project;
    if (typeof value !== "string") throw invalid("project must be a string");
    return normalizeProject(value);
  }

  // ---- export / import ------------------------------------------------------------------------------------

  /** Export lines (JSONL or Markdown), streamed page by page, oldest first. */
  async *exportLines(input: ExportInput): AsyncGenerator<string> {
    const format = (input.format ?? "jsonl") as ExportFormat;
    if (format !== "jsonl" && format !== "markdown") {
      throw invalid(`format must be jsonl or markdown, got ${JSON.stringify(input.format)}`);
    }
    const filters = this.#filters({
      project: input.project,
      all_projects: input.all_projects,
      session: input.session,
    });
    if (format === "jsonl") {
      for (const s of await this.#exportSessions(filters)) yield sessionLine(s);
    } else {
      const n = (await this.db.run((db) => store.listIds(db, filters))).length;
      yield markdownHeader(filters.project === null ? "all projects" : `project ${filters.project}`, n);
    }
    let afterTime = "";
    let afterId = 0;
    while (true) {
      const params: unknown[] = [afterTime || "-infinity", afterId];
      const where = store.filterSql(filters, params);
      const page = await this.db.run((db) =>
        db.query<Memory>(
          `SELECT ${store.MEMORY_COLUMNS} FROM memories m
           WHERE (m.created_at, m.id) > ($1::timestamptz, $2::bigint) AND ${where}
           ORDER BY m.created_at, m.id LIMIT 500`,
          params,
        )
      );
      for (const m of page.rows) yield format === "jsonl" ? memoryLine(m) : memoryMarkdown(m);
      if (page.rows.length < 500) break;
      const last = page.rows[page.rows.length - 1];
      afterTime = last.created_at;
      afterId = last.id;
    }
  }

  async #exportSessions(f: SearchFilters): Promise<Session[]> {
    const params: unknown[] = [];
    const where = store.filterSql(f, params);
    // Built once, outside the callback: `run` may call it twice (after restarting the cluster), and a second
    // push would leave a parameter unused.
    const alsoEmpty = f.session ? "" : f.project !== null ? `OR s.project = $${params.push(f.project)}` : "OR TRUE";
    const sql = `SELECT s.id, s.project, s.name, ${store.isoOf("s.created_at")} AS created_at, ${
      store.isoOf("s.updated_at")
    } AS updated_at, 0 AS memories
         FROM sessions s
         WHERE s.id IN (SELECT DISTINCT m.session_id FROM memories m WHERE m.session_id IS NOT NULL AND ${where})
            ${alsoEmpty}
         ORDER BY s.created_at, s.id`;
    const res = await this.db.run((db) => db.query<Session>(sql, params));
    return res.rows;
  }

  /**
   * Imports JSONL. The whole input is validated first: one bad line rejects the file and nothing is stored.
   * Idempotent: a record already present (same id and content, or same content in its project) is skipped.
   */
  async importLines(
    lines: Iterable<string> | AsyncIterable<string>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<ImportStats> {
    const records: { record: ImportRecord; line: number }[] = [];
    const errors: string[] = [];
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (!line.trim()) continue;
      try {
        records.push({
          record: parseImportLine(line, lineNo, this.#project, this.config.maxContentChars),
          line: lineNo,
        });
      } catch (err) {
        errors.push(err instanceof SageError ? err.message : String(err));
        if (errors.length >= 20) break;
      }
    }
    // Memories are prepared (privacy filter included) before anything is written: a record with nothing left to
    // store rejects the file like a malformed one.
    const prepared: Prepared[] = [];
    for (const { record: r, line } of records) {
      if (errors.length >= 20) break;
      if (r.type !== "memory") continue;
      try {
        prepared.push(
          await this.#prepare(
            {
              content: r.content,
              kind: r.kind,
              tags: r.tags,
              metadata: r.metadata,
              project: r.project,
              session: r.session,
            },
            { id: r.id, createdAt: r.created_at, updatedAt: r.updated_at },
          ),
        );
      } catch (err) {
        if (!(err instanceof SageError)) throw err;
        errors.push(`line ${line}: ${err.message}`);
      }
    }
    if (errors.length) throw invalid(`import rejected, nothing was stored:\n${errors.join("\n")}`);
    const stats: ImportStats = { read: records.length, sessions: 0, imported: 0, duplicates: 0, remapped: 0 };
    const sessions = records.map((r) => r.record).filter((r) => r.type === "session");
    await this.db.run((db) =>
      db.tx(async (q) => {
        for (const s of sessions) {
          await store.ensureSession(q, {
            id: s.id,
            project: s.project,
            name: s.name,
            createdAt: s.created_at,
            updatedAt: s.updated_at,
          });
        }
      })
    );
    stats.sessions = sessions.length;
    // Explicit ids kept so far, with the content that claimed them: a later record of the file with the same id
    // and other content is remapped too.
    const claimed = new Map<number, string>();
    for (let i = 0; i < prepared.length; i += IMPORT_BATCH) {
      const batch = prepared.slice(i, i + IMPORT_BATCH);
      // An id already taken: the same memory (skip as duplicate, via its hash) or another one (new id).
      const ids = batch.filter((p) => p.id !== undefined).map((p) => p.id!);
      if (ids.length) {
        const taken = new Map((await this.db.run((db) => store.getMemories(db, ids))).map((m) => [m.id, m]));
        for (const p of batch) {
          if (p.id === undefined) continue;
          const other = taken.get(p.id);
          const claim = claimed.get(p.id);
          if (
            (other && (other.project !== p.project || contentHash(other.content) !== p.hash)) ||
            (claim !== undefined && claim !== store.hashKey(p))
          ) {
            p.id = undefined;
            stats.remapped++;
          } else {
            claimed.set(p.id, store.hashKey(p));
          }
        }
      }
      const results = await this.#store(batch);
      for (const r of results) r.duplicate ? stats.duplicates++ : stats.imported++;
      onProgress?.(Math.min(i + IMPORT_BATCH, prepared.length), prepared.length);
    }
    return stats;
  }

  // ---- automatic capture and recall (Claude Code hooks) ------------------------------------------------------

  /**
   * Stores Claude Code turns: one memory per turn (metadata.turn_uuid), in one batch. A turn already stored is
   * left alone, or updated when it grew (it was saved mid-way by PreCompact or SessionEnd). Idempotent.
   */
  async saveTurns(input: {
    project: string;
    session: string;
    turns: { uuid: string; timestamp: string; prompt: string; response: string; complete: boolean }[];
  }): Promise<{ saved: number; updated: number; unchanged: number }> {
    const project = normalizeProject(input.project);
    const session = checkSessionId(input.session);
    const max = this.config.maxContentChars;
    const stored = await this.db.run((db) => store.turnsByUuid(db, project, input.turns.map((t) => t.uuid)));
    const fresh: SaveInput[] = [];
    const result = { saved: 0, updated: 0, unchanged: 0 };
    for (const t of input.turns) {
      const content = conversationContent(t.prompt, t.response).slice(0, max);
      const metadata = { source: "claude-code", turn_uuid: t.uuid, ...(t.complete ? {} : { partial: true }) };
      const have = stored.get(t.uuid);
      if (!have) {
        fresh.push({ content, kind: "conversation", project, session, created_at: t.timestamp, metadata });
      } else if (have.hash !== contentHash(sanitize(content).text.trim())) {
        await this.update({ id: have.id, content, metadata });
        result.updated++;
      } else if (have.partial === t.complete) {
        await this.update({ id: have.id, metadata }); // finished with the same text: only the partial flag goes
        result.updated++;
      } else result.unchanged++;
    }
    for (const r of await this.saveMany(fresh)) r.duplicate ? result.unchanged++ : result.saved++;
    return result;
  }

  /** How far a session's transcript has been captured (bytes). */
  async captureOffset(session: string, transcript: string): Promise<number> {
    return await this.db.run((db) => store.captureOffset(db, session, transcript));
  }

  async setCaptureOffset(session: string, transcript: string, offset: number): Promise<void> {
    await this.db.run((db) => store.setCaptureOffset(db, session, transcript, offset));
  }

  /**
   * What a new session should know about the project: recent preferences, decisions, open tasks, facts and the
   * last conversations, newest first, within `budget` tokens. Empty when the project has no memories.
   */
  async digest(input: { project: string; budget: number }): Promise<string> {
    const project = normalizeProject(input.project);
    const sections: [string, string[]][] = [
      ["Preferences", ["preference"]],
      ["Decisions", ["decision"]],
      ["Open tasks", ["task"]],
      ["Facts", ["fact"]],
      ["Summaries", ["summary"]],
      ["Recent conversations", ["conversation"]],
    ];
    const recent = await this.db.run((db) => store.recentByKind(db, project, sections.flatMap(([, k]) => k), 5));
    if (!recent.length) return "";
    const open = `<memories source="sage" kind="digest" project="${project.replace(/"/g, "&quot;")}">\n` +
      "What Sage remembers about this project, newest first. search_memory or get_context find more; cite as [memory:ID].\n";
    const close = "</memories>";
    let used = estimateTokens(open + close);
    // Round by round (each section's newest, then each one's next…), so no section crowds out the others.
    const bySection = sections.map(([title, kinds]) => ({
      title,
      items: recent.filter((r) => kinds.includes(r.kind)),
      lines: [] as string[],
    }));
    for (let round = 0; round < 5; round++) {
      for (const section of bySection) {
        const m = section.items[round];
        if (!m) continue;
        const text = m.kind === "conversation"
          ? m.content.replace(/^User:\s*/, "").split(/\n\s*\nAssistant:/)[0]
          : m.content;
        const line = `- [memory:${m.id}] ${m.created_at.slice(0, 10)}: ${oneLine(text, 200)}`;
        const cost = estimateTokens(line) + 1 + (section.lines.length ? 0 : estimateTokens(section.title) + 2);
        if (used + cost > input.budget) continue;
        used += cost;
        section.lines.push(line);
      }
    }
    const body = bySection.filter((x) => x.lines.length).map((x) => `\n${x.title}:\n${x.lines.join("\n")}`);
    return body.length ? `${open}${body.join("\n")}\n${close}` : "";
  }

  /**
   * The memories relevant enough to a prompt to put in front of the model, within `budget` tokens; nothing
   * when none reaches `minScore` (see SearchHit.score). The session's own memories are left out: the model
   * already has them in context.
   */
  async recall(
    input: { query: string; project: string; excludeSession?: string; budget: number; minScore: number },
  ): Promise<ContextResult> {
    const query = input.query.slice(0, MAX_QUERY_CHARS);
    const project = normalizeProject(input.project);
    const warnings: string[] = [];
    const vector = this.#queryVector(query, "hybrid", warnings);
    const filters: SearchFilters = { project, excludeSession: input.excludeSession };
    const hits = await this.db.run((db) =>
      rank(db, { terms: queryTerms(query), query: vector, filters, limit: 8, mode: "hybrid", window: timeHint(query) })
    );
    return buildContext(query, project, hits.filter((h) => h.score >= input.minScore), input.budget, warnings);
  }

  // ---- maintenance ----------------------------------------------------------------------------------------

  /**
   * Embeds memories with the current model. `missingOnly`: just those without its vectors (memories saved while
   * no model was available, or since a model change); otherwise all of them, and afterwards every other model's
   * vectors are removed so vector spaces never mix.
   */
  async reindex(
    options: { missingOnly?: boolean; limit?: number; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ embedded: number; memories: number; removed_models: string[] }> {
    const model = await this.#modelFor("save", []);
    if (!model) {
      throw new SageError("model_unavailable", `cannot reindex: ${this.embedder.status().error ?? "no model"}`);
    }
    const missing = options.missingOnly ?? false;
    const cond = missing
      ? "AND NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.memory_id = m.id AND v.model = $2)"
      : "";
    const total = (await this.db.run((db) =>
      db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM memories m WHERE m.id > $1 ${cond}`,
        missing ? [0, model.key] : [0],
      )
    )).rows[0].n;
    const goal = Math.min(total, options.limit ?? total);
    let done = 0;
    let embedded = 0;
    let afterId = 0;
    while (done < goal) {
      const page = await this.db.run((db) =>
        db.query<{ id: number; project: string; content: string }>(
          `SELECT m.id, m.project, m.content FROM memories m WHERE m.id > $1 ${cond} ORDER BY m.id LIMIT ${
            Math.min(64, goal - done)
          }`,
          missing ? [afterId, model.key] : [afterId],
        )
      );
      if (!page.rows.length) break;
      const vectors = await this.#embedChunks(page.rows.map((r) => r.content));
      await this.db.run((db) =>
        db.tx(async (q) => {
          await q.query("DELETE FROM memory_vectors WHERE model = $1 AND memory_id = ANY($2::bigint[])", [
            model.key,
            page.rows.map((r) => r.id),
          ]);
          const rows: store.NewVector[] = [];
          page.rows.forEach((r, i) =>
            vectors[i]?.forEach((vector, chunk) => rows.push({ memoryId: r.id, project: r.project, chunk, vector }))
          );
          await store.insertVectors(q, model.key, rows);
        })
      );
      embedded += vectors.filter((v) => v?.length).length;
      done += page.rows.length;
      afterId = page.rows[page.rows.length - 1].id;
      options.onProgress?.(done, goal);
    }
    const removed = missing ? [] : await this.db.run((db) => dropOtherModels(db, model.key));
    return { embedded, memories: done, removed_models: removed };
  }

  /** Everything worth knowing at a glance. Never throws: an unreachable database is reported, not raised. */
  async status(): Promise<Record<string, unknown>> {
    const model = this.embedder.status();
    const out: Record<string, unknown> = {
      version: VERSION,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      project: this.#project,
      session: this.#session,
      model,
    };
    try {
      // run(), not get(): a private cluster that stopped is started again, as for every other call.
      out.database = await this.db.run((db) => databaseStatus(db, this.db.embedded));
      out.counts = await this.db.run((db) => counts(db, this.#project, model.key ?? null));
    } catch (err) {
      out.database = { connected: false, error: err instanceof SageError ? err.userMessage : String(err) };
    }
    return out;
  }
}

/** How a conversation turn reads as a memory (save_conversation and captured Claude Code turns alike). */
export function conversationContent(prompt: string, response: string): string {
  return `User: ${prompt.trim()}\n\nAssistant: ${response.trim()}`;
}

export function contentHash(content: string): string {
  return createHash("sha256").update(content, "utf8").digest("hex");
}

function checkBool(field: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw invalid(`${field} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function checkMode(value: unknown): SearchMode {
  if (value === undefined || value === null) return "hybrid";
  if (value === "hybrid" || value === "keyword" || value === "vector") return value;
  throw invalid(`mode must be hybrid, keyword or vector, got ${JSON.stringify(value)}`);
}

function notFound(id: number): SageError {
  return new SageError("not_found", `no memory with id ${id}`, "search_memory finds memories and their ids.");
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function firstLine(s: string): string {
  return s.split("\n")[0];
}
