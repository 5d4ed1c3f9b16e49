/**
 * The embedder as the rest of Sage sees it. The model loads in a worker in the background (`start()`), so a
 * server answers `initialize` at once; the first call that needs vectors waits for the load. Queries waiting
 * together go as one batch, ahead of passages; passages go in small slices, so a search never waits behind a long
 * capture or import. If no model is configured or it cannot load, every caller gets the same clear
 * SageError; nothing random or partial is ever returned.
 */
import type { Config } from "../config.ts";
import { SageError } from "../errors.ts";
import { log } from "../log.ts";
import { type ModelSpec, readModelSpec } from "./model.ts";

export type EmbedderState = "none" | "idle" | "loading" | "ready" | "failed";

export interface LoadedModel extends ModelSpec {
  dimensions: number;
}

export interface EmbedderStatus {
  state: EmbedderState;
  name?: string;
  key?: string;
  path?: string;
  dtype?: string;
  dimensions?: number;
  loadMs?: number;
  error?: string;
}

/** A vector, or null when the text has nothing the model can represent (it stays keyword-searchable). */
export type Vector = Float32Array | null;

interface Pending {
  texts: string[];
  /** Queries: a search waiting on them. Passages (saves, captures, imports) may wait a little. */
  query: boolean;
  /** How many texts have gone to the worker; their vectors so far. */
  sent: number;
  vectors: Vector[];
  resolve: (v: Vector[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Queued queries go to the worker before any passage, and while searches are coming in (one in the last
 * INTERACTIVE_MS), passages go at most PASSAGE_SLICE at a time: a search then waits for one small slice at most,
 * never for a whole capture batch. Otherwise (an import, a reindex) passages go in full batches, which is faster.
 */
const PASSAGE_SLICE = 2;
const INTERACTIVE_MS = 60_000;
/** How long closing waits for the worker's native work to return (see close). */
const CLOSE_WAIT_MS = 3_000;

export class Embedder {
  readonly #config: Config;
  #state: EmbedderState;
  #loading: Promise<LoadedModel> | null = null;
  #model: LoadedModel | null = null;
  #error: SageError | null = null;
  #loadMs?: number;
  #worker: Worker | null = null;
  #nextId = 1;
  #replies = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #queue: Pending[] = [];
  #busy = false;
  #lastQuery = -Infinity;
  #closing = false;

  constructor(config: Config) {
    this.#config = config;
    this.#state = config.modelPath ? "idle" : "none";
    if (!config.modelPath) {
      this.#error = new SageError(
        "model_unavailable",
        "no embedding model is configured",
        "Set SAGE_EMBED_MODEL (or --embed-model) to a model folder in transformers.js layout, or run scripts/fetch-model. Keyword search works without one.",
      );
    }
  }

  /** Begins loading in the background (idempotent). */
  start(): void {
    if (this.#state === "idle") this.ready().catch(() => {/* reported through status() and callers */});
  }

  /** The loaded model; waits for a load in progress; throws the load error otherwise. */
  ready(): Promise<LoadedModel> {
    if (this.#model) return Promise.resolve(this.#model);
    if (this.#error) return Promise.reject(this.#error);
    if (!this.#loading) this.#loading = this.#load();
    return this.#loading;
  }

  status(): EmbedderStatus {
    const m = this.#model;
    return {
      state: this.#state,
      name: m?.name,
      key: m?.key,
      path: m?.path ?? this.#config.modelPath,
      dtype: m?.dtype,
      dimensions: m?.dimensions,
      loadMs: this.#loadMs,
      error: this.#error?.userMessage,
    };
  }

  /** Embeds texts as search queries (the model's query prefix applies). */
  async embedQueries(texts: string[]): Promise<Vector[]> {
    const m = await this.ready();
    return await this.#enqueue(texts.map((t) => m.queryPrefix + t), true);
  }

  /** Embeds texts as stored passages (the model's passage prefix applies). */
  async embedPassages(texts: string[]): Promise<Vector[]> {
    const m = await this.ready();
    return await this.#enqueue(texts.map((t) => m.passagePrefix + t), false);
  }

  /**
   * Ends the worker once what it is running (a load, a batch) has returned, waiting at most CLOSE_WAIT_MS:
   * terminating a thread in the middle of onnxruntime's native code can abort the whole process (exit 134 or 139
   * when a client closed the server while the model was loading). Nothing new starts meanwhile.
   */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = new SageError("model_unavailable", "embedder closed");
    for (const job of this.#queue.splice(0)) job.reject(closed);
    const until = Date.now() + CLOSE_WAIT_MS;
    while (this.#replies.size && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.#worker?.terminate();
    this.#worker = null;
    for (const r of this.#replies.values()) r.reject(closed);
    this.#replies.clear();
  }

  async #load(): Promise<LoadedModel> {
    this.#state = "loading";
    const t0 = performance.now();
    try {
      const spec = await readModelSpec(this.#config.modelPath!, this.#config.embedDtype);
      const { dimensions } = await this.#call<{ dimensions: number }>({ op: "load", spec });
      if (spec.dimensions && spec.dimensions !== dimensions) {
        log.warn("config.json hidden_size differs from the model's output width; using the output width", {
          config: spec.dimensions,
          output: dimensions,
        });
      }
      this.#model = { ...spec, dimensions };
      this.#loadMs = Math.round(performance.now() - t0);
      this.#state = "ready";
      log.info("embedding model loaded", { model: spec.name, dtype: spec.dtype, dimensions, ms: this.#loadMs });
      return this.#model;
    } catch (err) {
      this.#state = "failed";
      this.#error = err instanceof SageError ? err : new SageError(
        "model_unavailable",
        `the embedding model could not be loaded: ${err instanceof Error ? err.message : err}`,
        `Check SAGE_EMBED_MODEL (${this.#config.modelPath}); \`sage doctor\` shows details. Keyword search still works.`,
      );
      if (!this.#closing) log.error("embedding model failed to load", { error: this.#error.message });
      void this.close();
      throw this.#error;
    }
  }

  /** Queues texts; queries queued while the worker is busy go out together, before any passage. */
  #enqueue(texts: string[], query: boolean): Promise<Vector[]> {
    if (!texts.length) return Promise.resolve([]);
    if (query) this.#lastQuery = performance.now();
    return new Promise((resolve, reject) => {
      this.#queue.push({ texts, query, sent: 0, vectors: [], resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#busy || this.#closing || !this.#queue.length) return;
    this.#busy = true;
    // Every queued query, or else the next PASSAGE_SLICE passages (of one job or several).
    const parts: { job: Pending; from: number; to: number }[] = [];
    const queries = this.#queue.filter((j) => j.query);
    if (queries.length) { for (const job of queries) parts.push({ job, from: 0, to: job.texts.length }); }
    else {
      let room = performance.now() - this.#lastQuery < INTERACTIVE_MS ? PASSAGE_SLICE : Infinity;
      for (const job of this.#queue) {
        if (!room) break;
        const to = Math.min(job.texts.length, job.sent + room);
        parts.push({ job, from: job.sent, to });
        room -= to - job.sent;
      }
    }
    for (const p of parts) p.job.sent = p.to;
    const texts = parts.flatMap((p) => p.job.texts.slice(p.from, p.to));
    const settle = (job: Pending, fail?: unknown) => {
      this.#queue.splice(this.#queue.indexOf(job), 1);
      fail === undefined ? job.resolve(job.vectors) : job.reject(fail);
    };
    this.#call<{ vectors: Float32Array; valid: Uint8Array }>({ op: "embed", texts, batch: this.#config.embedBatch })
      .then(({ vectors, valid }) => {
        const dims = this.#model!.dimensions;
        let row = 0;
        for (const { job, from, to } of parts) {
          for (let i = from; i < to; i++, row++) {
            job.vectors[i] = valid[row] ? vectors.slice(row * dims, (row + 1) * dims) : null;
          }
          if (to === job.texts.length) settle(job);
        }
      })
      .catch((err) => {
        const e = new SageError("model_unavailable", `embedding failed: ${err instanceof Error ? err.message : err}`);
        for (const { job } of parts) if (this.#queue.includes(job)) settle(job, e);
      })
      .finally(() => {
        this.#busy = false;
        this.#pump();
      });
  }

  #call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.#closing) return Promise.reject(new SageError("model_unavailable", "embedder closed"));
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#replies.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, id });
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
    worker.onmessage = (event: MessageEvent) => {
      const { id, ok, error, ...rest } = event.data;
      const reply = this.#replies.get(id);
      if (!reply) return;
      this.#replies.delete(id);
      if (ok) reply.resolve(rest);
      else reply.reject(new Error(error));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      const err = new Error(event.message || "embedding worker crashed");
      for (const r of this.#replies.values()) r.reject(err);
      this.#replies.clear();
      this.#worker = null;
    };
    this.#worker = worker;
    return worker;
  }
}
