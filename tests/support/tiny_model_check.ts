/**
 * Smoke check for tiny_model.ts: generates the model twice (must be
 * byte-identical), loads it through transformers.js with fp32 and q8, and
 * checks shapes, NaN-freedom and the synonym / cross-lingual geometry.
 *
 * Run: `deno run -A tests/support/tiny_model_check.ts`
 */
import { env, pipeline } from "@huggingface/transformers";
import { TINY_MODEL_DEFAULT_DIM, writeTinyModel } from "./tiny_model.ts";

const FILES = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "onnx/model.onnx",
  "onnx/model_quantized.onnx",
];

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error("check failed: " + msg);
}

function cos(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s; // inputs are normalized
}

const root = await Deno.makeTempDir({ prefix: "tiny_model_check_" });
try {
  await writeTinyModel(`${root}/a`);
  await writeTinyModel(`${root}/b`);
  for (const f of FILES) {
    const [a, b] = [
      await Deno.readFile(`${root}/a/${f}`),
      await Deno.readFile(`${root}/b/${f}`),
    ];
    assert(
      a.length === b.length && a.every((x, i) => x === b[i]),
      `${f} differs between runs`,
    );
    console.log(`identical across runs: ${f} (${a.length} bytes)`);
  }

  env.allowRemoteModels = false;
  env.localModelPath = root;
  for (const dtype of ["fp32", "q8"] as const) {
    const p = await pipeline("feature-extraction", "a", { dtype });
    const texts = ["the database is down", "postgres outage", "你好 数据库"];
    const out = await p(texts, { pooling: "mean", normalize: true });
    assert(
      out.dims[0] === 3 && out.dims[1] === TINY_MODEL_DEFAULT_DIM,
      `dims ${out.dims}`,
    );
    const rows = out.tolist() as number[][];
    assert(rows.flat().every((x) => Number.isFinite(x)), "NaN in output");

    const embed = async (t: string) =>
      ((await p(t, { pooling: "mean", normalize: true }))
        .tolist() as number[][])[0];
    const [database, postgres, kitten, cat, neko, shujuku] = await Promise.all(
      ["database", "postgres", "kitten", "cat", "猫", "数据库"].map(embed),
    );
    const report = {
      "database~postgres": cos(database, postgres),
      "database~kitten": cos(database, kitten),
      "cat~猫": cos(cat, neko),
      "database~数据库": cos(database, shujuku),
      "database~'the database is down'": cos(database, rows[0]),
      "database~'postgres outage'": cos(database, rows[1]),
      "database~'你好 数据库'": cos(database, rows[2]),
      "kitten~'postgres outage'": cos(kitten, rows[1]),
    };
    console.log(`dtype ${dtype}: dims [${out.dims}]`);
    for (const [k, v] of Object.entries(report)) {
      console.log(`  ${k}: ${v.toFixed(4)}`);
    }
    assert(report["database~postgres"] > 0.9, "database/postgres not similar");
    assert(
      Math.abs(report["database~kitten"]) < 0.3,
      "database/kitten too similar",
    );
    assert(report["cat~猫"] > 0.9, "cat/猫 not similar");
    assert(report["database~数据库"] > 0.9, "database/数据库 not similar");
    assert(
      report["database~'postgres outage'"] >
        report["kitten~'postgres outage'"] + 0.3,
      "semantic ranking",
    );

    // Only-unknown text: zero vector; normalize yields NaN or zeros, the caller must cope.
    const unknown = (await p("€€€", { pooling: "mean", normalize: false }))
      .tolist() as number[][];
    console.log(
      `  unknown-only text max |x|: ${Math.max(...unknown[0].map(Math.abs))}`,
    );
    await p.dispose();
  }
  console.log("tiny model check OK");
} finally {
  await Deno.remove(root, { recursive: true });
}
