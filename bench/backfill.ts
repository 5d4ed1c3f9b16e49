/**
 * `deno task bench:backfill [--model DIR] [--transcripts N] [--turns N] [--huge MB]`: how fast `sage backfill`
 * imports a Claude Code history. Generates N transcripts (default 200) of M turns each (default 100) in Claude
 * Code's shape (tests/support/transcripts.ts: thinking, tool calls and their output, English and Chinese), spread
 * over ten projects, plus optionally one huge transcript; then runs `sage backfill` as a user would (a child
 * process, a fresh database) twice: the import, then the re-run that finds everything stored. Prints turns/s
 * (wall clock, spawn to exit, model load included) and peak resident memory; the last line is the JSON.
 */
import { parseArgs } from "node:util";
import { encodeProjectFolder } from "../lib/memory/transcript_files.ts";
import { text, thinking, toolUse, Transcript } from "../tests/support/transcripts.ts";
import { benchModel, childEnv, machine, residentMemory, round, sageArgs, startBench } from "./support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string" },
    transcripts: { type: "string" },
    turns: { type: "string" },
    huge: { type: "string" },
  },
});
const transcripts = Number(values.transcripts ?? 200);
const turnsEach = Number(values.turns ?? 100);
const hugeMb = Number(values.huge ?? 0);

const TOPICS = [
  ["the migration job", "迁移任务"],
  ["the release pipeline", "发布流水线"],
  ["the search ranking", "搜索排序"],
  ["the hook latency", "钩子延迟"],
  ["the export format", "导出格式"],
];

/**
 * One session: `turns` turns, every other one in Chinese, each with thinking, a tool call and its output. `n` makes
 * its text its own (the same text twice in a project is one memory).
 */
function session(id: string, n: number, cwd: string, turns: number, start: string, outputBytes = 1500): Transcript {
  const t = new Transcript(id, { cwd, start });
  for (let i = 0; i < turns; i++) {
    const [en, zh] = TOPICS[i % TOPICS.length];
    const prompt = i % 2
      ? `请检查${zh}第${i}步在第${n}次运行里为什么失败，并修好它。`
      : `Why does step ${i} of ${en} fail in run ${n}? Please fix it.`;
    t.queue(prompt);
    t.prompt(prompt);
    t.attachment("date", "Today's date is 2026-11-20.");
    t.assistant([
      thinking(`Step ${i}: look at the logs first.`),
      text(i % 2 ? `我先看一下第${i}步的日志。` : `Let me look at the logs of step ${i}.`),
      toolUse(`toolu_${id.slice(0, 8)}_${i}`, "Bash", { command: `deno task test --filter step${i}` }),
    ], "tool_use");
    t.toolResult(`toolu_${id.slice(0, 8)}_${i}`, `ok step ${i}\n`.repeat(Math.ceil(outputBytes / 12)));
    t.assistant([
      text(
        i % 2
          ? `第${i}步失败是因为${zh}的配置缺少一个字段；我补上了，测试现在通过。`
          : `Step ${i} of ${en} failed because its configuration lacked a field; I added it and the tests pass now.`,
      ),
    ], "end_turn");
  }
  return t;
}

const bench = await startBench();
try {
  const model = await benchModel(bench, values.model);
  // The history: ten projects (each a git checkout), sessions started at their root or in a subfolder.
  const claude = `${bench.root}/claude`;
  const projects = Array.from({ length: 10 }, (_, i) => `${bench.root}/work/project-${i}`);
  for (const p of projects) await Deno.mkdir(`${p}/.git`, { recursive: true });
  let bytes = 0;
  const write = async (t: Transcript) => {
    const dir = `${claude}/projects/${encodeProjectFolder(t.cwd)}`;
    await Deno.mkdir(dir, { recursive: true });
    const body = t.text();
    await Deno.writeTextFile(`${dir}/${t.sessionId}.jsonl`, body);
    bytes += body.length;
  };
  for (let i = 0; i < transcripts; i++) {
    const project = projects[i % projects.length];
    const cwd = i % 3 ? project : `${project}/src`;
    const id = `${crypto.randomUUID().slice(0, 8)}-0000-4000-a000-${String(i).padStart(12, "0")}`;
    await write(session(id, i, cwd, turnsEach, new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString()));
  }
  let hugeTurns = 0;
  if (hugeMb > 0) {
    hugeTurns = Math.ceil((hugeMb * 1024 * 1024) / 100_000);
    await write(
      session(`${crypto.randomUUID()}`, transcripts, projects[0], hugeTurns, "2026-06-01T00:00:00.000Z", 100_000),
    );
  }
  const total = transcripts * turnsEach + hugeTurns;

  const env = childEnv({
    DATABASE_URL: await bench.freshDatabase(),
    SAGE_EMBED_MODEL: model,
    SAGE_HOME: `${bench.root}/sage-home`,
    CLAUDE_CONFIG_DIR: claude,
  });
  const run = async () => {
    const t0 = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: sageArgs("backfill", "--json"),
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let peak = 0;
    const poll = setInterval(() => {
      const now = residentMemory(child.pid)?.peak_mib;
      if (now !== undefined && Number.isFinite(now)) peak = Math.max(peak, now);
    }, 100);
    const out = await child.output();
    clearInterval(poll);
    const seconds = (performance.now() - t0) / 1000;
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const summary = JSON.parse(new TextDecoder().decode(out.stdout));
    return { seconds: round(seconds), turns_per_s: round(summary.turns.found / seconds, 0), peak_mib: peak, summary };
  };
  console.error(
    `history: ${transcripts + (hugeMb ? 1 : 0)} transcripts, ${total} turns, ${round(bytes / 1024 / 1024, 1)} MiB`,
  );
  const first = await run();
  console.error(
    `import:  ${first.summary.turns.saved} turns saved in ${first.seconds} s: ${first.turns_per_s} turns/s, peak ${first.peak_mib} MiB`,
  );
  const second = await run();
  console.error(
    `re-run:  ${second.summary.turns.unchanged} unchanged in ${second.seconds} s: ${second.turns_per_s} turns/s, peak ${second.peak_mib} MiB`,
  );
  console.log(JSON.stringify({
    machine: await machine(),
    model,
    history: { transcripts, turns: total, mib: round(bytes / 1024 / 1024, 1), huge_mb: hugeMb },
    import: { ...first, summary: first.summary.turns },
    rerun: { ...second, summary: second.summary.turns },
  }));
} finally {
  await bench.close();
}
