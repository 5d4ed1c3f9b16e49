/**
 * `sage selftest`: proves that this build can embed and analyse text, with no database and no network. The model
 * (the bundled one unless SAGE_EMBED_MODEL or --embed-model names another) loads; a Chinese and an English sentence
 * embed to finite, non-zero vectors of the model's width; the keyword analyser gives terms for both. The image
 * build runs it on the compiled binary, so a broken native add-on or a missing model fails the build instead of a
 * user's first save.
 */
import { SageError } from "../errors.ts";
import { Embedder, type Vector } from "../embed/embedder.ts";
import { readModelSpec } from "../embed/model.ts";
import { analyze, hasCjk } from "../text/terms.ts";
import { VERSION } from "../version.ts";
import { type CommandSpec, intOption, out } from "./command.ts";

const SAMPLES = {
  Chinese: "部署之前先运行数据库迁移，否则服务会启动失败。",
  English: "Run the database migrations before every deployment, or the service fails to start.",
};

export const command: CommandSpec = {
  name: "selftest",
  summary: "Check that the embedding model loads and embeds Chinese and English, and that keyword analysis works.",
  usage: "selftest [--dimensions N]",
  details: "Needs no database and no network. Prints a short report; exits 1 with the reason when something is broken.",
  options: {
    dimensions: { type: "string", arg: "N", help: "the width the model must have (default: config.json's)" },
  },
  async run(ctx) {
    const expected = intOption(ctx.values, "dimensions");
    const path = ctx.config.modelPath;
    if (!path) {
      throw failed(
        "no embedding model is configured and none is bundled",
        "Set SAGE_EMBED_MODEL (or --embed-model) to a model folder, or build with the model inside.",
      );
    }
    const embedder = new Embedder(ctx.config);
    try {
      let t0 = performance.now();
      const model = await embedder.ready().catch((err) => {
        throw failed(err instanceof SageError ? err.message : String(err), (err as SageError).hint);
      });
      const loadMs = performance.now() - t0;
      out(`sage ${VERSION} selftest`);
      out(`model      ${model.name} (${model.dtype}) from ${model.path}: loaded in ${ms(loadMs)}`);

      // config.json's width, which the Embedder only logs when it differs from the output.
      const declared = (await readModelSpec(path, ctx.config.embedDtype)).dimensions;
      if (declared && declared !== model.dimensions) {
        throw failed(`config.json says hidden_size ${declared}, but the model outputs ${model.dimensions} dimensions`);
      }
      if (expected !== undefined && expected !== model.dimensions) {
        throw failed(`the model outputs ${model.dimensions} dimensions, expected ${expected}`);
      }

      t0 = performance.now();
      const vectors = await embedder.embedPassages(Object.values(SAMPLES)).catch((err) => {
        throw failed(err instanceof Error ? err.message : String(err));
      });
      const names = Object.keys(SAMPLES);
      names.forEach((name, i) => checkVector(name, vectors[i], model.dimensions));
      const cos = cosine(vectors[0]!, vectors[1]!);
      if (cos > 0.99999) throw failed("the Chinese and the English sentence embed to the same vector");
      out(
        `embedding  ${names.join(" + ")}: ${model.dimensions} dimensions, finite, non-zero, cosine ${cos.toFixed(3)} ` +
          `(${ms(performance.now() - t0)})`,
      );

      const terms = names.map((name) => ({ name, terms: analyze(SAMPLES[name as keyof typeof SAMPLES]) }));
      for (const { name, terms: t } of terms) {
        if (!t.length) throw failed(`keyword analysis gave no terms for the ${name} sentence`);
      }
      if (!terms[0].terms.some(hasCjk)) throw failed("keyword analysis gave no Chinese terms for the Chinese sentence");
      out(`keywords   ${terms.map(({ name, terms: t }) => `${name} ${t.length} terms (${preview(t)})`).join(", ")}`);
      out("ok");
      return 0;
    } finally {
      embedder.close();
    }
  },
};

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

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

const ms = (n: number) => `${Math.round(n)} ms`;
const preview = (terms: string[]) => `${[...new Set(terms)].slice(0, 4).join(", ")}, …`;
