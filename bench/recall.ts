/**
 * `deno task bench:recall --data <file> --model <dir|none> [--details <file.jsonl>]`
 *
 * Auto-recall as Claude Code sees it: the "Auto-recall" protocol of ../shared/eval/README.md, black-box through
 * Sage's own commands (nothing here calls the memory service in-process).
 * 1. Every turn becomes a memory of its conversation's project (`/eval/<conversation>`), in one session per
 *    conversation-day, created at the turn's time, `{"turn": "<turn id>"}` in metadata, kind conversation, the
 *    same text as bench:retrieval; stored with `sage import`, mapped back (memory id → turn) from `sage export`.
 * 2. A real `sage serve` (its own SAGE_HOME, stdin held open as Claude Code holds it) is brought to the warm state
 *    hooks use: initialized, model ready, hook socket bound.
 * 3. Search ceiling: each question through the server's search_memory (hybrid, limit 5) in its project.
 * 4. New sessions: each question as `sage hook UserPromptSubmit` with a session of its own; the injected memories
 *    are the `[memory:ID]` of `additionalContext`. Hooks run one at a time, timed spawn to exit.
 * 5. One session per project: all its questions in file order under one session id; a repeat is a memory
 *    injected again in that session.
 * Prints a table per category and overall; the very last line of stdout is one JSON object (`hit_rate`,
 * `false_injection_rate`, `chars_max`, `one_session_repeats`, …). Progress goes to stderr. It builds a throwaway
 * cluster unless DATABASE_URL is set (then it uses that database, which must be empty).
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/index.d.ts"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { parseArgs } from "node:util";
import { loadConfig } from "../lib/config.ts";
import { hookSocketPath } from "../lib/hooks/socket.ts";
import { runCommand } from "../tests/support/process.ts";
import { childEnv, machine, REPO, round, runSage, sageArgs, startBench, stats, table } from "./support.ts";

// ---- the data ----------------------------------------------------------------------------------------------

export interface EvalTurn {
  id: string;
  speaker: string;
  text: string;
  time: string;
}
export interface EvalQuestion {
  conversation: string;
  question: string;
  evidence: string[];
  category: number | string;
}
export interface EvalFile {
  conversations: { id: string; turns: EvalTurn[] }[];
  questions: EvalQuestion[];
}

/** Checks an eval file's shape (../shared/eval/README.md); throws with what is wrong and where. */
export function checkEvalFile(value: unknown): EvalFile {
  const fail = (msg: string): never => {
    throw new Error(`not an eval file: ${msg}`);
  };
  const v = value as EvalFile;
  if (!v || !Array.isArray(v.conversations) || !Array.isArray(v.questions)) {
    fail('expected {"conversations": [...], "questions": [...]}');
  }
  if (!v.questions.length) fail("it has no questions");
  const turns = new Map<string, Set<string>>();
  for (const [i, c] of v.conversations.entries()) {
    if (typeof c?.id !== "string" || !c.id || !Array.isArray(c.turns)) fail(`conversation ${i} needs an id and turns`);
    if (turns.has(c.id)) fail(`conversation ${c.id} appears twice`);
    const ids = new Set<string>();
    for (const t of c.turns) {
      if (typeof t?.id !== "string" || typeof t.speaker !== "string" || typeof t.text !== "string") {
        fail(`conversation ${c.id}: every turn needs id, speaker and text`);
      }
      if (typeof t.time !== "string" || Number.isNaN(Date.parse(t.time))) {
        fail(`conversation ${c.id}, turn ${t.id}: time ${JSON.stringify(t.time)} is not an ISO time`);
      }
      if (ids.has(t.id)) fail(`conversation ${c.id}: turn ${t.id} appears twice`);
      ids.add(t.id);
    }
    turns.set(c.id, ids);
  }
  for (const [i, q] of v.questions.entries()) {
    if (typeof q?.question !== "string" || !q.question.trim()) fail(`question ${i} has no text`);
    const ids = turns.get(q.conversation);
    if (!ids) fail(`question ${i} names an unknown conversation ${JSON.stringify(q.conversation)}`);
    if (!Array.isArray(q.evidence)) fail(`question ${i} has no evidence list (use [] for none)`);
    for (const e of q.evidence) {
      if (!ids!.has(e)) fail(`question ${i}: evidence ${e} is not a turn of ${q.conversation}`);
    }
  }
  return v;
}

export const projectOf = (conversation: string) => `/eval/${conversation}`;
/** One session per conversation-day (UTC). */
export const sessionOf = (conversation: string, time: string) =>
  `eval:${conversation}:${new Date(time).toISOString().slice(0, 10)}`;

/** The `sage import` file: one session record per conversation-day, then one memory per turn. */
export function importLines(data: EvalFile): string[] {
  const sessions = new Map<string, { id: string; project: string; created_at: string; updated_at: string }>();
  const memories: string[] = [];
  for (const c of data.conversations) {
    for (const t of c.turns) {
      const id = sessionOf(c.id, t.time);
      const s = sessions.get(id);
      if (!s) sessions.set(id, { id, project: projectOf(c.id), created_at: t.time, updated_at: t.time });
      else if (Date.parse(t.time) > Date.parse(s.updated_at)) s.updated_at = t.time;
      else if (Date.parse(t.time) < Date.parse(s.created_at)) s.created_at = t.time;
      memories.push(JSON.stringify({
        type: "memory",
        project: projectOf(c.id),
        session: id,
        kind: "conversation",
        content: `${t.speaker}: ${t.text}`, // as bench:retrieval stores it
        metadata: { turn: t.id },
        created_at: t.time,
      }));
    }
  }
  return [...[...sessions.values()].map((s) => JSON.stringify({ type: "session", name: null, ...s })), ...memories];
}

/** Memory id → turn id, from `sage export` JSONL. */
export function turnMap(exportJsonl: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const line of exportJsonl.split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.type === "memory" && typeof r.metadata?.turn === "string") map.set(r.id, r.metadata.turn);
  }
  return map;
}

/** What a UserPromptSubmit hook put in front of Claude: the memory ids cited in additionalContext, and its size. */
export function injected(hookStdout: string): { ids: number[]; chars: number } {
  if (!hookStdout.trim()) return { ids: [], chars: 0 };
  const context = JSON.parse(hookStdout)?.hookSpecificOutput?.additionalContext;
  if (typeof context !== "string") throw new Error(`hook printed no additionalContext: ${hookStdout.slice(0, 300)}`);
  const ids = [...context.matchAll(/\[memory:(\d+)\]/g)].map((m) => Number(m[1]));
  return { ids, chars: [...context].length }; // code points, as a reader counts characters
}

// ---- scoring -----------------------------------------------------------------------------------------------

/** One question's outcome in all three passes. */
export interface Outcome {
  category: string;
  evidence: string[];
  /** New session: turns injected, characters, hook time. */
  turns: string[];
  chars: number;
  ms: number;
  /** Search's top 5 held an evidence turn. */
  top5: boolean;
  /** One session per project: memories injected, and how many of them were injected earlier in that session. */
  sessionInjections: number;
  sessionRepeats: number;
}

export const isHit = (o: Outcome) => o.turns.some((t) => o.evidence.includes(t));

/** The figures of a set of questions; a rate over no questions is null, never a division by zero. */
export function summarize(outcomes: Outcome[]) {
  const answerable = outcomes.filter((o) => o.evidence.length > 0);
  const none = outcomes.filter((o) => o.evidence.length === 0);
  const injecting = outcomes.filter((o) => o.chars > 0);
  const hits = answerable.filter(isHit).length;
  const falseInjections = none.filter((o) => o.turns.length > 0).length;
  const top5 = answerable.filter((o) => o.top5).length;
  const ratio = (a: number, b: number) => (b ? round(a / b, 4) : null);
  const ms = outcomes.length ? stats(outcomes.map((o) => o.ms)) : null;
  return {
    questions: outcomes.length,
    answerable: answerable.length,
    none: none.length,
    hits,
    hit_rate: ratio(hits, answerable.length),
    false_injections: falseInjections,
    false_injection_rate: ratio(falseInjections, none.length),
    injected_share: ratio(injecting.length, outcomes.length),
    /** Over the prompts that got something. */
    chars_mean: injecting.length ? round(injecting.reduce((s, o) => s + o.chars, 0) / injecting.length, 1) : 0,
    chars_max: Math.max(0, ...outcomes.map((o) => o.chars)),
    search_top5_hits: top5,
    search_top5: ratio(top5, answerable.length),
    one_session_repeats: outcomes.reduce((s, o) => s + o.sessionRepeats, 0),
    one_session_injections: outcomes.reduce((s, o) => s + o.sessionInjections, 0),
    hook_ms: ms ? { p50: round(ms.median, 1), p95: round(ms.p95, 1) } : null,
  };
}

type Summary = ReturnType<typeof summarize>;

function row(name: string, s: Summary): (string | number)[] {
  const rate = (r: number | null, a: number, b: number) => (r === null ? "–" : `${r.toFixed(2)} (${a}/${b})`);
  return [
    name,
    s.questions,
    rate(s.hit_rate, s.hits, s.answerable),
    rate(s.false_injection_rate, s.false_injections, s.none),
    rate(s.search_top5, s.search_top5_hits, s.answerable),
    `${Math.round(s.chars_mean)} / ${s.chars_max}`,
    `${s.one_session_repeats} / ${s.one_session_injections}`,
    s.hook_ms ? `${Math.round(s.hook_ms.p50)} / ${Math.round(s.hook_ms.p95)}` : "–",
  ];
}

export function report(overall: Summary, categories: Record<string, Summary>): string {
  const rows = [
    [
      "category",
      "questions",
      "hit rate",
      "false injection",
      "search top-5",
      "chars mean / max",
      "repeats / injections (1 session)",
      "hook ms p50 / p95",
    ],
    ...Object.entries(categories).map(([k, s]) => row(k, s)),
    row("all", overall),
  ];
  return table(rows);
}

// ---- running it --------------------------------------------------------------------------------------------

const NO_MODEL = "/nonexistent/no-model"; // `--model none`: Sage carries on keyword-only

function usage(msg: string): never {
  console.error(`bench:recall: ${msg}`);
  console.error("usage: deno task bench:recall --data <eval file> --model <model dir | none> [--details <out.jsonl>]");
  Deno.exit(2);
}

async function readArgs() {
  const { values } = (() => {
    try {
      return parseArgs({
        args: Deno.args,
        options: { data: { type: "string" }, model: { type: "string" }, details: { type: "string" } },
      });
    } catch (err) {
      return usage((err as Error).message);
    }
  })();
  if (!values.data) usage("--data is required");
  if (!values.model) usage("--model is required (a model folder, or none for keyword-only)");
  let data: EvalFile;
  try {
    data = checkEvalFile(JSON.parse(await Deno.readTextFile(values.data)));
  } catch (err) {
    usage(`cannot use --data ${values.data}: ${(err as Error).message}`);
  }
  let model: string | null = null;
  if (values.model !== "none") {
    model = await Deno.realPath(values.model).catch(() => usage(`--model ${values.model} does not exist`));
    for (const need of ["config.json", "tokenizer.json", "onnx"]) {
      await Deno.stat(`${model}/${need}`).catch(() =>
        usage(`--model ${values.model} is not a model folder (no ${need}); give a transformers.js model or none`)
      );
    }
  }
  return { dataPath: values.data, data, model, details: values.details };
}

async function commit(): Promise<string> {
  const git = (args: string[]) =>
    new Deno.Command("git", { args: ["-C", REPO, ...args], stdout: "piped", stderr: "null" }).output()
      .then((o) => new TextDecoder().decode(o.stdout).trim()).catch(() => "");
  const head = await git(["rev-parse", "--short", "HEAD"]);
  const dirty = await git(["status", "--porcelain", "--untracked-files=no", "--", "lib", "main.ts"]);
  return head ? `${head}${dirty ? " (lib/ modified)" : ""}` : "unknown";
}

async function main() {
  const { dataPath, data, model, details } = await readArgs();
  const progress = (s: string) => console.error(`bench:recall: ${s}`);
  const started = await machine();
  const external = Deno.env.get("DATABASE_URL");
  const bench = external ? null : await startBench();
  const root = bench?.root ?? await Deno.makeTempDir({ prefix: "sage-recall-" });
  let server: Client | null = null;
  try {
    const url = external ?? await bench!.freshDatabase();
    const home = `${root}/sage-home`;
    const env = childEnv({ DATABASE_URL: url, SAGE_HOME: home, SAGE_EMBED_MODEL: model ?? NO_MODEL });
    // Hooks log only to $SAGE_HOME/logs/hooks.log; at warn, any line there means a hook went wrong.
    const hookEnv = { ...env, SAGE_LOG_LEVEL: "warn" };
    const hookLog = `${home}/logs/hooks.log`;

    // 1. Store the turns with `sage import`, map memory ids back to turns with `sage export`.
    const turnCount = data.conversations.reduce((n, c) => n + c.turns.length, 0);
    const file = `${root}/turns.jsonl`;
    await Deno.writeTextFile(file, importLines(data).join("\n") + "\n");
    let t0 = performance.now();
    const imported = JSON.parse((await runSage(env, ["import", file, "--json"])).stdout);
    progress(
      `imported ${imported.imported} of ${turnCount} turns in ${imported.sessions} sessions in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s (${model ?? "keyword-only"})`,
    );
    const exported = `${root}/export.jsonl`;
    await runSage(env, ["export", "--all-projects", "--output", exported]);
    const turnOf = turnMap(await Deno.readTextFile(exported));
    if (turnOf.size !== turnCount) {
      throw new Error(`the database holds ${turnOf.size} turns, not ${turnCount} (duplicates merged, or not empty)`);
    }

    // 2. A warm server, as Claude Code keeps one: initialized, model ready, hook socket bound.
    t0 = performance.now();
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: sageArgs("serve"),
      env: { ...env, SAGE_LOG_LEVEL: "warn" },
      cwd: root,
      stderr: "inherit",
    });
    server = new Client({ name: "bench-recall", version: "1" });
    await server.connect(transport); // initialize + initialized: the server warms up after it
    let serverGone = false; // a hook with no server to ask works alone, keyword-only: not what we measure
    server.onclose = () => serverGone = true;
    const socket = hookSocketPath(loadConfig({ "db-url": url, home }, {}));
    let status: Record<string, unknown> = {};
    for (let waited = 0;; waited += 200) {
      const r = await server.callTool({ name: "get_status", arguments: {} });
      status = (r.structuredContent ?? {}) as Record<string, unknown>;
      const state = (status.model as { state?: string } | undefined)?.state;
      const bound = await Deno.stat(socket).then(() => true, () => false);
      if (model && state === "failed") {
        throw new Error(`the server could not load ${model}: ${(status.model as { error?: string }).error}`);
      }
      if (bound && (model ? state === "ready" : state !== "loading")) break;
      if (waited > 120_000) throw new Error(`the server is not warm after 2 minutes (model ${state}, socket ${bound})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const modelStatus = status.model as { name?: string; dtype?: string };
    progress(
      `server warm in ${Math.round(performance.now() - t0)} ms (model ${modelStatus.name ?? "none"}, ${
        modelStatus.dtype ?? "-"
      })`,
    );

    // 3. Search's ceiling: an evidence turn in its top 5, through the running server.
    const top5: boolean[] = [];
    for (const q of data.questions) {
      const r = await server.callTool({
        name: "search_memory",
        arguments: { query: q.question, project: projectOf(q.conversation), limit: 5, mode: "hybrid" },
      });
      if (r.isError) throw new Error(`search failed: ${JSON.stringify(r.content)}`);
      const hits = (r.structuredContent as { hits: { id: number }[] }).hits;
      top5.push(hits.some((h) => q.evidence.includes(turnOf.get(h.id) ?? "")));
    }
    progress(`searched ${data.questions.length} questions`);

    // 4 and 5. The hook, as Claude Code runs it.
    await Deno.mkdir(`${root}/transcripts`, { recursive: true });
    let problems = 0;
    const hook = async (session: string, conversation: string, prompt: string) => {
      if (serverGone || !(await Deno.stat(socket).then(() => true, () => false))) {
        throw new Error("the server exited or its hook socket is gone");
      }
      const transcript = `${root}/transcripts/${session.replace(/[^\w.-]/g, "_")}.jsonl`;
      await Deno.writeTextFile(transcript, "", { append: true });
      const input = JSON.stringify({
        session_id: session,
        transcript_path: transcript,
        cwd: root,
        hook_event_name: "UserPromptSubmit",
        prompt,
      });
      const logBefore = await Deno.stat(hookLog).then((s) => s.size, () => 0);
      const start = performance.now();
      const out = await runCommand(Deno.execPath(), sageArgs("hook", "UserPromptSubmit"), {
        env: { ...hookEnv, SAGE_PROJECT: projectOf(conversation) },
        cwd: root,
        stdin: input,
      });
      const ms = performance.now() - start;
      if (out.code !== 0) throw new Error(`sage hook exited ${out.code}: ${out.stderr}`);
      const logAfter = await Deno.stat(hookLog).then((s) => s.size, () => 0);
      if (logAfter > logBefore) {
        problems++;
        const text = new TextDecoder().decode((await Deno.readFile(hookLog)).subarray(logBefore));
        progress(`hook logged a problem for "${prompt.slice(0, 60)}": ${text.trim().slice(0, 500)}`);
      }
      return { ...injected(out.stdout), ms };
    };
    const turnsOf = (ids: number[]) =>
      ids.map((id) => {
        const t = turnOf.get(id);
        if (t === undefined) throw new Error(`the hook injected memory ${id}, which is not an imported turn`);
        return t;
      });
    await hook("bench-warmup", data.questions[0].conversation, data.questions[0].question); // OS caches; not counted

    const outcomes: Outcome[] = [];
    for (const [i, q] of data.questions.entries()) {
      const r = await hook(`bench-q${i + 1}`, q.conversation, q.question);
      outcomes.push({
        category: String(q.category),
        evidence: q.evidence,
        turns: turnsOf(r.ids),
        chars: r.chars,
        ms: r.ms,
        top5: top5[i],
        sessionInjections: 0,
        sessionRepeats: 0,
      });
      if ((i + 1) % 100 === 0) progress(`new sessions: ${i + 1}/${data.questions.length}`);
    }
    const sessionTurns: string[][] = data.questions.map(() => []);
    for (const c of data.conversations) {
      const seen = new Set<number>();
      for (const [i, q] of data.questions.entries()) {
        if (q.conversation !== c.id) continue;
        const r = await hook(`bench-one-${c.id}`, q.conversation, q.question);
        outcomes[i].sessionInjections = r.ids.length;
        outcomes[i].sessionRepeats = r.ids.filter((id) => seen.has(id)).length;
        sessionTurns[i] = turnsOf(r.ids);
        for (const id of r.ids) seen.add(id);
      }
      progress(`one session: ${c.id} done`);
    }

    // Report.
    const overall = summarize(outcomes);
    const byCategory = new Map<string, Outcome[]>();
    for (const o of outcomes) byCategory.set(o.category, [...(byCategory.get(o.category) ?? []), o]);
    const categories = Object.fromEntries(
      [...byCategory.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, summarize(v)]),
    );
    if (details) {
      await Deno.writeTextFile(
        details,
        data.questions.map((q, i) =>
          JSON.stringify({ ...q, ...outcomes[i], hit: isHit(outcomes[i]), one_session_turns: sessionTurns[i] })
        ).join("\n") + "\n",
      );
    }
    const rev = await commit();
    console.log(`data: ${dataPath}\nmodel: ${model ?? "none (keyword-only)"} (${modelStatus.dtype ?? "-"})`);
    console.log(
      `sage: ${rev}; ${turnCount} turns, ${data.questions.length} questions; load ${started.load_average_at_start}\n`,
    );
    console.log(report(overall, categories));
    console.log(
      "\nhit rate: an evidence turn injected (answerable questions); false injection: anything injected for a question" +
        " without evidence;\nsearch top-5: an evidence turn in search_memory's top 5 (hybrid); chars: additionalContext" +
        " of prompts that got one;\nrepeats: memories injected again within one session per project (all its questions" +
        " in file order); hook ms: spawn to exit.",
    );
    if (problems) console.log(`\nWARNING: ${problems} hook calls logged a problem (see stderr); figures are suspect.`);
    console.log(JSON.stringify({
      data: dataPath,
      model,
      dtype: modelStatus.dtype ?? null,
      sage: rev,
      ...overall,
      hook_problems: problems,
      categories,
      machine: started,
    }));
    if (problems) Deno.exitCode = 1;
  } finally {
    await server?.close().catch(() => {});
    await bench?.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`bench:recall failed: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
