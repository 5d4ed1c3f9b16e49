/**
 * The embedding worker: transformers.js + onnxruntime run here, off the main thread, so loading a model or
 * embedding a batch never delays a JSON-RPC reply or a database round trip.
 *
 * Protocol (one request at a time, answered in order):
 *   → { id, op: "load", spec }            ← { id, ok, dimensions }
 *   → { id, op: "embed", texts, batch }   ← { id, ok, vectors: Float32Array (n × dimensions), valid: Uint8Array }
 */
/// <reference lib="deno.worker" />
import type { ModelSpec } from "./model.ts";

// transformers.js reads `location.origin` to find its web bundles; in a Deno worker that origin is the string
// "null", which is not a valid URL base. Without `location` it takes its Node path (onnxruntime-node).
Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });

// A worker shares the process's stdout, which belongs to JSON-RPC in `serve` mode: library chatter goes to stderr.
for (const method of ["log", "info", "debug", "warn", "trace"] as const) {
  console[method] = (...args: unknown[]) => console.error(...args);
}

type Request =
  | { id: number; op: "load"; spec: ModelSpec }
  | { id: number; op: "embed"; texts: string[]; batch: number };

// deno-lint-ignore no-explicit-any
let tokenizer: any = null;
// deno-lint-ignore no-explicit-any
let model: any = null;
let spec: ModelSpec | null = null;
let queue = Promise.resolve();

self.onmessage = (event: MessageEvent<Request>) => {
  const req = event.data;
  queue = queue.then(() => handle(req));
};

async function handle(req: Request): Promise<void> {
  try {
    if (req.op === "load") {
      const dimensions = await load(req.spec);
      self.postMessage({ id: req.id, ok: true, dimensions });
    } else {
      const { vectors, valid } = await embed(req.texts, req.batch);
      self.postMessage({ id: req.id, ok: true, vectors, valid }, [
        vectors.buffer as ArrayBuffer,
        valid.buffer as ArrayBuffer,
      ]);
    }
  } catch (err) {
    self.postMessage({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Tokenizer and model straight from transformers.js, without its feature-extraction pipeline: the pipeline
 * pools through generic tensor operations, a plain loop here is measurably faster (bench/embed.ts).
 */
async function load(s: ModelSpec): Promise<number> {
  const { env, AutoModel, AutoTokenizer } = await import("@huggingface/transformers");
  env.allowRemoteModels = false; // never download anything
  env.allowLocalModels = true;
  const cut = Math.max(s.path.lastIndexOf("/"), s.path.lastIndexOf("\\"));
  env.localModelPath = s.path.slice(0, cut + 1) || "/";
  const name = s.path.slice(cut + 1);
  tokenizer = await AutoTokenizer.from_pretrained(name);
  model = await AutoModel.from_pretrained(name, { dtype: s.dtype as "fp32" });
  spec = s;
  // One real embedding tells the true width (config.json may not say it).
  const probe = await forward(["dimension probe"]);
  return probe.dims;
}

/** Token embeddings → one vector per text (mean over real tokens, or the first token), not normalised. */
async function forward(texts: string[]): Promise<{ data: Float32Array; dims: number }> {
  const enc = tokenizer(texts, { padding: true, truncation: true, max_length: spec!.maxTokens });
  const out = await model(enc);
  const hidden = out.last_hidden_state ?? out[Object.keys(out)[0]];
  const [b, t, d] = hidden.dims as number[];
  const h = hidden.data as Float32Array;
  const mask = enc.attention_mask.data as BigInt64Array;
  const pooled = new Float32Array(b * d);
  for (let i = 0; i < b; i++) {
    const v = pooled.subarray(i * d, (i + 1) * d);
    if (spec!.pooling === "cls") {
      v.set(h.subarray(i * t * d, i * t * d + d));
      continue;
    }
    let n = 0;
    for (let j = 0; j < t; j++) {
      if (!mask[i * t + j]) continue;
      n++;
      const off = (i * t + j) * d;
      for (let k = 0; k < d; k++) v[k] += h[off + k];
    }
    if (n) { for (let k = 0; k < d; k++) v[k] /= n; }
  }
  return { data: pooled, dims: d };
}

/**
 * Embeds in batches of similar length (less padding), then normalises each vector: a text made only of
 * unknown tokens pools to all zeros, which must come back as "no vector" instead of NaN.
 */
async function embed(texts: string[], batch: number): Promise<{ vectors: Float32Array; valid: Uint8Array }> {
  if (!model || !spec) throw new Error("model not loaded");
  const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
  let dims = 0;
  let vectors = new Float32Array(0);
  const valid = new Uint8Array(texts.length);
  for (let start = 0; start < order.length; start += batch) {
    const idx = order.slice(start, start + batch);
    const out = await forward(idx.map((i) => texts[i]));
    if (!dims) {
      dims = out.dims;
      vectors = new Float32Array(texts.length * dims);
    }
    idx.forEach((target, row) => {
      const v = out.data.subarray(row * dims, (row + 1) * dims);
      let norm = 0;
      for (let k = 0; k < dims; k++) norm += v[k] * v[k];
      norm = Math.sqrt(norm);
      if (!Number.isFinite(norm) || norm < 1e-9) return; // valid stays 0
      const scale = spec!.normalize ? 1 / norm : 1;
      for (let k = 0; k < dims; k++) vectors[target * dims + k] = v[k] * scale;
      valid[target] = 1;
    });
  }
  return { vectors, valid };
}
