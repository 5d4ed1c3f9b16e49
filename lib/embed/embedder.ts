/**
 * The embedder as the rest of Sage sees it. The model loads in a worker in the background (`start()`), so a
 * server answers `initialize` at once; the first call that needs vectors waits for the load. Concurrent requests
 * are merged into one batch. If no model is configured or it cannot load, every caller gets the same clear
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
  resolve: (v: Vector[]) => void;
  reject: (e: unknown) => void;
}

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
    return await this.#enqueue(texts.map((t) => m.queryPrefix + t));
  }

  /** Embeds texts as stored passages (the model's passage prefix applies). */
  async embedPassages(texts: string[]): Promise<Vector[]> {
    const m = await this.ready();
    return await this.#enqueue(texts.map((t) => m.passagePrefix + t));
  }

  close(): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const r of this.#replies.values()) r.reject(new SageError("model_unavailable", "embedder closed"));
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
      log.error("embedding model failed to load", { error: this.#error.message });
      this.close();
      throw this.#error;
    }
  }

  /** Queues texts; whatever is queued while the worker is busy goes out as one batch. */
  #enqueue(texts: string[]): Promise<Vector[]> {
    if (!texts.length) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ texts, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#busy || !this.#queue.length) return;
    this.#busy = true;
    const jobs = this.#queue.splice(0, this.#queue.length);
    const texts = jobs.flatMap((j) => j.texts);
    this.#call<{ vectors: Float32Array; valid: Uint8Array }>({ op: "embed", texts, batch: this.#config.embedBatch })
      .then(({ vectors, valid }) => {
        const dims = this.#model!.dimensions;
        let offset = 0;
        for (const job of jobs) {
          job.resolve(job.texts.map((_, i) => {
            const row = offset + i;
            return valid[row] ? vectors.slice(row * dims, (row + 1) * dims) : null;
          }));
          offset += job.texts.length;
        }
      })
      .catch((err) => {
        const e = new SageError("model_unavailable", `embedding failed: ${err instanceof Error ? err.message : err}`);
        for (const job of jobs) job.reject(e);
      })
      .finally(() => {
        this.#busy = false;
        this.#pump();
      });
  }

  #call<T>(message: Record<string, unknown>): Promise<T> {
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
