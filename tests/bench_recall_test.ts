/**
 * The parts of `bench:recall` whose mistakes would silently skew its numbers: the turns go in through the real
 * `sage import` and come back through `sage export` mapped to the right turn ids, one session per conversation-day;
 * the injected ids are read from a hook's output; an off-topic question is never counted as answerable; and
 * bench:retrieval runs end to end on a small file.
 */
import assert from "node:assert/strict";
import {
  checkEvalFile,
  type EvalFile,
  importLines,
  injected,
  type Outcome,
  summarize,
  turnMap,
} from "../bench/recall.ts";
import { freshDatabase, REPO, runSage, sageEnv, tempDir } from "./support/harness.ts";
import { runCommand } from "./support/process.ts";

const DATA: EvalFile = {
  conversations: [{
    id: "c1",
    turns: [
      { id: "D1:1", speaker: "Ann", text: "We moved the database to port 5433.", time: "2026-03-01T23:50:00Z" },
      { id: "D1:2", speaker: "Bo", text: "Then update the staging config too.", time: "2026-03-01T23:55:00Z" },
      // The next UTC day: a session of its own, even though it is minutes later.
      { id: "D2:1", speaker: "Ann", text: "Staging now reads port 5433.", time: "2026-03-02T00:05:00+00:00" },
    ],
  }],
  questions: [
    { conversation: "c1", question: "Which port does the database use?", evidence: ["D1:1"], category: "fact" },
    { conversation: "c1", question: "What is the cafeteria menu?", evidence: [], category: "none" },
  ],
};

Deno.test({
  name: "bench:recall: turns go in with sage import and map back to their turn ids from sage export",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await tempDir("recall");
    const env = { DATABASE_URL: await freshDatabase(), SAGE_HOME: `${dir}/home` };
    await Deno.writeTextFile(`${dir}/turns.jsonl`, importLines(checkEvalFile(DATA)).join("\n") + "\n");
    const imported = await runSage(["import", `${dir}/turns.jsonl`, "--json"], { env });
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(JSON.parse(imported.stdout), { read: 5, sessions: 2, imported: 3, duplicates: 0, remapped: 0 });
    const exported = await runSage(["export", "--all-projects"], { env });
    assert.equal(exported.code, 0, exported.stderr);

    const map = turnMap(exported.stdout);
    const memories = exported.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.type === "memory");
    assert.equal(map.size, 3);
    for (const m of memories) {
      const turn = DATA.conversations[0].turns.find((t) => t.id === map.get(m.id))!;
      assert.equal(m.content, `${turn.speaker}: ${turn.text}`);
      assert.equal(Date.parse(m.created_at), Date.parse(turn.time));
      assert.equal(m.project, "/eval/c1");
      assert.equal(m.kind, "conversation");
    }
    const sessionOf = (turn: string) => memories.find((m) => map.get(m.id) === turn).session;
    assert.equal(sessionOf("D1:1"), sessionOf("D1:2"));
    assert.notEqual(sessionOf("D1:1"), sessionOf("D2:1"));
  },
});

Deno.test("bench:recall: injected ids and characters come from additionalContext; no output is nothing", () => {
  const context =
    "<memories>\nCite one as [memory:ID].\n[memory:12] · 2026-03-01\nA\n[memory:7] · x\n中文\n</memories>";
  const stdout = JSON.stringify({
    hookSpecificOutput: { hookEventName: "UserPromptSubmit", additionalContext: context },
  });
  assert.deepEqual(injected(stdout), { ids: [12, 7], chars: context.length });
  assert.deepEqual(injected(""), { ids: [], chars: 0 });
  assert.throws(() => injected('{"other": 1}'), /no additionalContext/);
});

Deno.test("bench:recall: off-topic questions count apart, and a rate over no questions is null", () => {
  const outcome = (evidence: string[], turns: string[]): Outcome => ({
    category: "x",
    evidence,
    turns,
    chars: turns.length * 100,
    ms: 50,
    top5: evidence.length > 0,
    sessionInjections: turns.length,
    sessionRepeats: 0,
  });
  const s = summarize([outcome(["D1:1"], ["D1:2", "D1:1"]), outcome(["D1:1"], []), outcome([], ["D2:1"])]);
  assert.equal(s.hit_rate, 0.5);
  assert.equal(s.false_injection_rate, 1);
  assert.equal(s.search_top5, 1);
  assert.equal(s.chars_mean, 150);
  assert.equal(summarize([outcome(["D1:1"], [])]).false_injection_rate, null);
  assert.equal(summarize([outcome([], [])]).hit_rate, null);
  assert.throws(() => checkEvalFile({ ...DATA, questions: [{ ...DATA.questions[0], evidence: ["D9:9"] }] }), /D9:9/);
});

Deno.test("bench:retrieval: a small eval file end to end (keyword mode, this suite's database)", async () => {
  const dir = await tempDir("retrieval");
  await Deno.writeTextFile(`${dir}/data.json`, JSON.stringify(DATA));
  const r = await runCommand(
    Deno.execPath(),
    [
      "run",
      "--quiet",
      "--allow-all",
      "--config",
      `${REPO}/deno.json`,
      `${REPO}/bench/retrieval.ts`,
      "--data",
      `${dir}/data.json`,
      "--mode",
      "keyword",
    ],
    { env: sageEnv({ DATABASE_URL: await freshDatabase() }), cwd: dir },
  );
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(summary.questions, 1);
  assert.equal(summary.off_topic_questions, 1);
  assert.equal(summary["recall@5"], 1);
});
