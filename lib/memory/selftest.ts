/**
 * The self-test use case: can this build embed and analyse text? It needs no database and no network. The model
 * (the bundled one unless the configuration names another) loads; a Chinese and an English sentence embed to finite,
 * non-zero vectors of the model's width; the keyword analyser gives terms for both. Anything else is a SageError
 * saying what is wrong. `sage selftest` prints the report; the image build runs it on the compiled binary.
 */
import type { Config } from "../config.ts";
import { Embedder, type Vector } from "../embed/embedder.ts";
import { readModelSpec } from "../embed/model.ts";
import { SageError } from "../errors.ts";
import { analyze, hasCjk } from "../text/terms.ts";
import { cosine } from "../embed/similarity.ts";

export const SELFTEST_SAMPLES = {
  Chinese: "部署之前先运行数据库迁移，否则服务会启动失败。",
  English: "Run the database migrations before every deployment, or the service fails to start.",
};

export interface SelftestReport {
  model: { name: string; dtype: string; path: string; dimensions: number };
  loadMs: number;
  embedMs: number;
  /** Cosine similarity of the two sentences' vectors. */
  cosine: number;
  /** Keyword terms per sample. */
  terms: Record<string, string[]>;
}

/** Runs the self-test; `dimensions` is the width the model must have (default: what its config.json says). */
export async function selftest(config: Config, dimensions?: number): Promise<SelftestReport> {
  if (!config.modelPath) {
    throw failed(
      "no embedding model is configured and none is bundled",
      "Set SAGE_EMBED_MODEL (or --embed-model) to a model folder, or build with the model inside.",
    );
  }
  const embedder = new Embedder(config);
  try {
    let t0 = performance.now();
    const model = await embedder.ready().catch((err) => {
      throw failed(err instanceof SageError ? err.message : String(err), (err as SageError).hint);
    });
    const loadMs = performance.now() - t0;
    // config.json's width, which the Embedder only logs when it differs from the output.
    const declared = (await readModelSpec(config.modelPath, config.embedDtype)).dimensions;
    if (declared && declared !== model.dimensions) {
      throw failed(`config.json says hidden_size ${declared}, but the model outputs ${model.dimensions} dimensions`);
    }
    if (dimensions !== undefined && dimensions !== model.dimensions) {
      throw failed(`the model outputs ${model.dimensions} dimensions, expected ${dimensions}`);
    }

    t0 = performance.now();
    const names = Object.keys(SELFTEST_SAMPLES) as (keyof typeof SELFTEST_SAMPLES)[];
    const vectors = await embedder.embedPassages(names.map((n) => SELFTEST_SAMPLES[n])).catch((err) => {
      throw failed(err instanceof Error ? err.message : String(err));
    });
    const embedMs = performance.now() - t0;
    names.forEach((name, i) => checkVector(name, vectors[i], model.dimensions));
    const cos = cosine(vectors[0]!, vectors[1]!);
    if (cos > 0.99999) throw failed("the Chinese and the English sentence embed to the same vector");

    const terms = Object.fromEntries(names.map((n) => [n, analyze(SELFTEST_SAMPLES[n])]));
    for (const name of names) {
      if (!terms[name].length) throw failed(`keyword analysis gave no terms for the ${name} sentence`);
    }
    if (!terms.Chinese.some(hasCjk)) throw failed("keyword analysis gave no Chinese terms for the Chinese sentence");
    return {
      model: { name: model.name, dtype: model.dtype, path: model.path, dimensions: model.dimensions },
      loadMs,
      embedMs,
      cosine: cos,
      terms,
    };
  } finally {
    embedder.close();
  }
}

function failed(message: string, hint?: string): SageError {
  return new SageError("model_unavailable", `selftest failed: ${message}`, hint);
}

function checkVector(name: string, v: Vector, dimensions: number): void {
  // The Embedder returns null for a vector that is all zeros or not finite.
  if (!v) throw failed(`the ${name} sentence embedded to a zero or non-finite vector`);
  if (v.length !== dimensions) throw failed(`the ${name} vector has ${v.length} dimensions, not ${dimensions}`);
  if (!v.every(Number.isFinite)) throw failed(`the ${name} vector has non-finite values`);
  if (v.every((x) => x === 0)) throw failed(`the ${name} vector is all zeros`);
}
