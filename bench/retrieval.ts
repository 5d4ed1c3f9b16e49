/**
 * `deno task bench:retrieval --data <file> [--model <dir>] [--mode hybrid|keyword|vector] [--limit N]`
 *
 * The protocol of ../shared/eval/README.md, through Sage's own import and search path (real database, real
 * embedder): every turn of a conversation becomes one memory (project = /eval/<conversation id>, created_at = the
 * turn's time, the turn id in metadata), then each question is asked within its conversation's project.
 * Prints recall@5, recall@10 and MRR overall and per category; the very last line of stdout is one JSON object
 * with the overall figures under "recall@5", "recall@10", "mrr" (per category under "categories").
 * Questions with empty evidence (off-topic: the conversation never discussed it) have no recall or MRR: they are
 * left out of every figure and only counted ("off_topic_questions"); a category of only those is not listed.
 * It builds a throwaway database unless DATABASE_URL is set (then it uses that database as is).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../lib/config.ts";
import { createService } from "../lib/app.ts";
import { projectOf } from "./recall.ts";
import { round, startBench, table } from "./support.ts";

interface EvalFile {
  conversations: { id: string; turns: { id: string; speaker: string; text: string; time: string }[] }[];
  questions: { conversation: string; question: string; evidence: string[]; category: number | string }[];
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string" },
    model: { type: "string" },
    mode: { type: "string", default: "hybrid" },
    limit: { type: "string", default: "50" },
    verbose: { type: "boolean", default: false },
  },
});
if (!values.data) {
  console.error("usage: deno task bench:retrieval --data <file> [--model <dir>] [--mode hybrid|keyword|vector]");
  Deno.exit(2);
}
const mode = values.mode!;
if (!["hybrid", "keyword", "vector"].includes(mode)) {
  console.error(`--mode must be hybrid, keyword or vector, got ${mode}`);
  Deno.exit(2);
}
const data = JSON.parse(await Deno.readTextFile(values.data)) as EvalFile;
const modelPath = values.model ?? Deno.env.get("SAGE_EMBED_MODEL");
if (mode !== "keyword" && !modelPath) {
  console.error("vector and hybrid modes need a model: --model <dir> or SAGE_EMBED_MODEL");
  Deno.exit(2);
}

const external = Deno.env.get("DATABASE_URL");
const bench = external ? null : await startBench();
const url = external ?? await bench!.freshDatabase();
const config = { ...loadConfig({ "db-url": url }, {}), modelPath, logLevel: "warn" as const };
const service = createService(config);
const limit = Number(values.limit);

try {
  // 1. Store every turn through Sage's import path (batched embedding, one project per conversation).
  const t0 = performance.now();
  const lines = data.conversations.flatMap((c) =>
    c.turns.map((t) =>
      JSON.stringify({
        project: projectOf(c.id),
        kind: "conversation",
        content: `${t.speaker}: ${t.text}`,
        created_at: t.time,
        metadata: { turn_id: t.id },
      })
    )
  );
  const stats = await service.importLines(lines);
  const importSecs = (performance.now() - t0) / 1000;
  console.error(
    `stored ${stats.imported} turns (${stats.duplicates} duplicates) in ${importSecs.toFixed(1)} s` +
      (modelPath ? ` with ${modelPath}` : " (keyword only)"),
  );

  // 2. Ask every question within its conversation.
  type Score = { r5: number; r10: number; rr: number };
  const byCategory = new Map<string, Score[]>();
  const latencies: number[] = [];
  const offTopic = data.questions.filter((q) => q.evidence.length === 0).length;
  for (const q of data.questions) {
    if (q.evidence.length === 0) continue;
    const t = performance.now();
    const result = await service.search({ query: q.question, project: projectOf(q.conversation), limit, mode });
    latencies.push(performance.now() - t);
    const ranked = result.hits.map((h) => String(h.metadata.turn_id));
    const evidence = new Set(q.evidence);
    const found = (k: number) => ranked.slice(0, k).filter((id) => evidence.has(id)).length / evidence.size;
    const first = ranked.findIndex((id) => evidence.has(id));
    const score = { r5: found(5), r10: found(10), rr: first >= 0 ? 1 / (first + 1) : 0 };
    if (values.verbose && score.r10 === 0) {
      console.error(
        `miss [${q.category}] ${q.question} → want ${q.evidence.join(",")}, got ${ranked.slice(0, 5).join(",")}`,
      );
    }
    const key = String(q.category);
    if (!byCategory.has(key)) byCategory.set(key, []);
    byCategory.get(key)!.push(score);
  }

  // Means over no questions (a file of only off-topic ones) are null, never NaN.
  const mean = (scores: Score[], f: (x: Score) => number) =>
    scores.length ? round(scores.reduce((s, x) => s + f(x), 0) / scores.length, 4) : null;
  const summarize = (scores: Score[]) => ({
    questions: scores.length,
    "recall@5": mean(scores, (x) => x.r5),
    "recall@10": mean(scores, (x) => x.r10),
    mrr: mean(scores, (x) => x.rr),
  });
  const all = [...byCategory.values()].flat();
  const overall = summarize(all);
  const categories = Object.fromEntries([...byCategory.entries()].sort().map(([k, v]) => [k, summarize(v)]));
  const rows: (string | number)[][] = [["category", "questions", "recall@5", "recall@10", "MRR"]];
  for (const [k, v] of Object.entries(categories)) {
    rows.push([k, v.questions, v["recall@5"] ?? "–", v["recall@10"] ?? "–", v.mrr ?? "–"]);
  }
  rows.push(["all", overall.questions, overall["recall@5"] ?? "–", overall["recall@10"] ?? "–", overall.mrr ?? "–"]);
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`data: ${values.data}\nmode: ${mode}\nmodel: ${modelPath ?? "none"}\n`);
  console.log(table(rows));
  if (offTopic) {
    console.log(`\n${offTopic} questions with empty evidence (off-topic) are left out of recall and MRR.`);
  }
  if (sorted.length) console.log(`\nsearch latency: median ${round(sorted[Math.floor(sorted.length / 2)])} ms`);
  console.log(JSON.stringify({
    ...overall,
    off_topic_questions: offTopic,
    mode,
    model: modelPath ?? null,
    data: values.data,
    categories,
  }));
} finally {
  await service.close();
  await bench?.close();
}
