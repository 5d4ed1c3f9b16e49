/**
 * Embedding throughput: Sage's Embedder (worker thread, message passing, length-sorted batches, its own
 * normalisation) against the same model run bare on onnxruntime-node (InferenceSession + the model's own
 * tokenizer, mean pooling and normalisation in a plain loop, no Sage code and no transformers.js pipeline), and,
 * to split the difference, the transformers.js feature-extraction pipeline alone (what Sage's worker wraps).
 *
 * Same texts (Sage's passage prefix applied on every path), same batches (sorted by length, SAGE_EMBED_BATCH = 32),
 * same onnxruntime defaults. Rounds alternate between the paths so they share the machine's noise; a pause between
 * runs lets onnxruntime's spinning threads go idle.
 */
// The version @huggingface/transformers pins, so both paths load the same runtime. Inline (not in deno.json's import
// map): only this benchmark talks to onnxruntime directly.
// deno-lint-ignore no-import-prefix
import * as ort from "npm:onnxruntime-node@1.30.0";
import { AutoTokenizer, env as hfEnv, pipeline } from "@huggingface/transformers";
import { loadConfig } from "../lib/config.ts";
import { Embedder } from "../lib/embed/embedder.ts";
import { readModelSpec } from "../lib/embed/model.ts";
import { type ModelChoice, round, type Stats, stats, syntheticText } from "./support.ts";
import { cosine } from "../lib/embed/similarity.ts";

export interface EmbedPathResult {
  /** Texts per second embedding the whole set in batches (median over rounds). */
  batch_texts_per_s: number;
  /** One text per call, one after another. */
  single_ms: Stats;
  single_texts_per_s: number;
}

export interface EmbedResult {
  model: string;
  model_key: string;
  batch_size: number;
  texts: number;
  rounds: number;
  tokens_per_text: number;
  load_ms: { sage: number; bare: number; pipeline: number };
  sage: EmbedPathResult;
  bare: EmbedPathResult;
  pipeline: EmbedPathResult;
  /** Sage ÷ bare (≥ 0.9 is the target). */
  ratio_batch: number;
  ratio_single: number;
  /** Lowest cosine between Sage's and the bare path's vector for the same text (1 = the same computation). */
  agreement_min_cosine: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Path {
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** The model with nothing of Sage in between: tokenizer → InferenceSession.run → mean pooling → L2 norm. */
async function barePath(dir: string, file: string, prefix: string, batch: number): Promise<Path> {
  const cut = dir.lastIndexOf("/");
  hfEnv.allowRemoteModels = false;
  hfEnv.localModelPath = dir.slice(0, cut + 1);
  const tokenizer = await AutoTokenizer.from_pretrained(dir.slice(cut + 1));
  const session = await ort.InferenceSession.create(`${dir}/onnx/${file}`, { executionProviders: ["cpu"] });
  const inputs = new Set(session.inputNames);
  const run = async (texts: string[]): Promise<Float32Array[]> => {
    // deno-lint-ignore no-explicit-any
    const enc: any = tokenizer(texts, { padding: true, truncation: true, max_length: 512 });
    const ids = enc.input_ids;
    const [b, s] = ids.dims as number[];
    const mask = enc.attention_mask.data as BigInt64Array;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids.data as BigInt64Array, [b, s]),
      attention_mask: new ort.Tensor("int64", mask, [b, s]),
    };
    if (inputs.has("token_type_ids")) {
      feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(b * s), [b, s]);
    }
    for (const k of Object.keys(feeds)) if (!inputs.has(k)) delete feeds[k];
    const out = await session.run(feeds);
    const hidden = out[session.outputNames[0]];
    const d = hidden.dims[2] as number;
    const data = hidden.data as Float32Array;
    const vectors: Float32Array[] = [];
    for (let i = 0; i < b; i++) {
      const v = new Float32Array(d);
      let n = 0;
      for (let t = 0; t < s; t++) {
        if (!mask[i * s + t]) continue;
        n++;
        const off = (i * s + t) * d;
        for (let k = 0; k < d; k++) v[k] += data[off + k];
      }
      let norm = 0;
      for (let k = 0; k < d; k++) norm += (v[k] /= n || 1) * v[k];
      norm = Math.sqrt(norm) || 1;
      for (let k = 0; k < d; k++) v[k] /= norm;
      vectors.push(v);
    }
    return vectors;
  };
  return { embed: (texts) => sortedBatches(texts.map((t) => prefix + t), batch, run) };
}

/** transformers.js's pipeline, as Sage's worker calls it, but in this thread and without Sage around it. */
async function pipelinePath(dir: string, dtype: string, prefix: string, pooling: string, batch: number): Promise<Path> {
  const cut = dir.lastIndexOf("/");
  hfEnv.allowRemoteModels = false;
  hfEnv.localModelPath = dir.slice(0, cut + 1);
  const extractor = await pipeline("feature-extraction", dir.slice(cut + 1), { dtype: dtype as "fp32" });
  const run = async (texts: string[]) => {
    const out = await extractor(texts, { pooling: pooling as "mean", normalize: true });
    const d = out.dims[out.dims.length - 1] as number;
    const data = out.data as Float32Array;
    return texts.map((_, i) => data.slice(i * d, (i + 1) * d));
  };
  return { embed: (texts) => sortedBatches(texts.map((t) => prefix + t), batch, run) };
}

/** Batches of similar length, as Sage's worker makes them (less padding), results in input order. */
async function sortedBatches(
  texts: string[],
  batch: number,
  run: (texts: string[]) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
  const out = new Array<Float32Array>(texts.length);
  for (let start = 0; start < order.length; start += batch) {
    const idx = order.slice(start, start + batch);
    const vs = await run(idx.map((i) => texts[i]));
    idx.forEach((target, row) => (out[target] = vs[row]));
  }
  return out;
}

export async function benchEmbed(
  choice: ModelChoice,
  opts: { texts?: number; singles?: number; rounds?: number } = {},
): Promise<EmbedResult> {
  const n = opts.texts ?? 128;
  const singles = opts.singles ?? 16;
  const rounds = opts.rounds ?? 5;
  const config = loadConfig({ "embed-model": choice.path }, { SAGE_EMBED_DTYPE: choice.dtype, SAGE_LOG_LEVEL: "warn" });
  const spec = await readModelSpec(choice.path, choice.dtype);
  const file = { fp32: "model.onnx", q8: "model_quantized.onnx" }[spec.dtype as "fp32" | "q8"];
  const texts = Array.from({ length: n }, (_, i) => syntheticText(1_000_000 + i));

  let t0 = performance.now();
  const embedder = new Embedder(config);
  await embedder.ready();
  const sageLoad = performance.now() - t0;
  t0 = performance.now();
  const bare = await barePath(choice.path, file, spec.passagePrefix, config.embedBatch);
  const bareLoad = performance.now() - t0;
  t0 = performance.now();
  const pipe = await pipelinePath(choice.path, spec.dtype, spec.passagePrefix, spec.pooling, config.embedBatch);
  const pipeLoad = performance.now() - t0;

  const paths: Record<"sage" | "bare" | "pipeline", Path> = {
    sage: {
      embed: async (t) => (await embedder.embedPassages(t)).map((v) => v ?? new Float32Array(spec.dimensions)),
    },
    bare,
    pipeline: pipe,
  };
  const tokenizer = await AutoTokenizer.from_pretrained(choice.path.slice(choice.path.lastIndexOf("/") + 1));
  const tokens = texts.map((t) =>
    (tokenizer(spec.passagePrefix + t, { truncation: true, max_length: 512 }).input_ids.dims as number[])[1]
  );

  // Warm-up (first runs allocate) and the agreement check.
  const warm: Record<string, Float32Array[]> = {};
  for (const [name, p] of Object.entries(paths)) warm[name] = await p.embed(texts.slice(0, 32));
  const agreement = Math.min(...warm.sage.map((v, i) => cosine(v, warm.bare[i])));

  const batchRates: Record<string, number[]> = { sage: [], bare: [], pipeline: [] };
  const singleMs: Record<string, number[]> = { sage: [], bare: [], pipeline: [] };
  const names = Object.keys(paths) as (keyof typeof paths)[];
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no path always runs right after another.
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      await sleep(50);
      const s = performance.now();
      await paths[name].embed(texts);
      batchRates[name].push(n / ((performance.now() - s) / 1000));
    }
    for (const name of order) {
      await sleep(50);
      for (let i = 0; i < singles; i++) {
        const text = texts[(r * singles + i) % n];
        const s = performance.now();
        await paths[name].embed([text]);
        singleMs[name].push(performance.now() - s);
      }
    }
  }
  await embedder.close();
  const result = (name: string): EmbedPathResult => {
    const single = stats(singleMs[name]);
    return {
      batch_texts_per_s: round(stats(batchRates[name]).median, 1),
      single_ms: single,
      single_texts_per_s: round(1000 / single.median, 1),
    };
  };
  const sage = result("sage");
  const bareR = result("bare");
  return {
    model: choice.label,
    model_key: spec.key,
    batch_size: config.embedBatch,
    texts: n,
    rounds,
    tokens_per_text: stats(tokens).median,
    load_ms: { sage: Math.round(sageLoad), bare: Math.round(bareLoad), pipeline: Math.round(pipeLoad) },
    sage,
    bare: bareR,
    pipeline: result("pipeline"),
    ratio_batch: round(sage.batch_texts_per_s / bareR.batch_texts_per_s, 3),
    ratio_single: round(bareR.single_ms.median / sage.single_ms.median, 3),
    agreement_min_cosine: round(agreement, 5),
  };
}
