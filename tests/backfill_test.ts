/**
 * `sage backfill` as a user runs it: a separate process over a Claude Code folder of real-shaped transcripts
 * (tests/support/transcripts.ts), a real database, and the real `sage hook` to check that backfill and the hooks
 * store the same turns, once.
 */
import assert from "node:assert/strict";
import { encodeProjectFolder } from "../lib/memory/transcript_files.ts";
import { freshDatabase, type MemoryRow, memoryRows, type RunResult, runSage, sql, tempDir } from "./support/harness.ts";
import {
  appendTurn,
  mainSession,
  MARK,
  SESSION_ID,
  text,
  thinking,
  toolUse,
  Transcript,
} from "./support/transcripts.ts";

/** A database, a SAGE_HOME, and a Claude Code folder (CLAUDE_CONFIG_DIR) whose projects/ holds the transcripts. */
interface World {
  url: string;
  home: string;
  claude: string;
  env: Record<string, string>;
}

async function world(url?: string): Promise<World> {
  const home = await tempDir("backfill-");
  const claude = `${home}/claude`;
  await Deno.mkdir(`${claude}/projects`, { recursive: true });
  url ??= await freshDatabase();
  return { url, home, claude, env: { DATABASE_URL: url, SAGE_HOME: home, CLAUDE_CONFIG_DIR: claude } };
}

/** A git repository (a `.git` folder) with a subfolder Claude Code may have been started in. */
async function repo(w: World, name: string): Promise<string> {
  const path = `${w.home}/${name}`;
  await Deno.mkdir(`${path}/.git`, { recursive: true });
  await Deno.mkdir(`${path}/src/deep`, { recursive: true });
  return path;
}

/** The transcript as recorded in `cwd`. */
function at<T extends Transcript>(t: T, cwd: string): T {
  for (const e of t.entries) if ("cwd" in e) e.cwd = cwd;
  return t;
}

/** The transcript written where Claude Code keeps it, as recorded in `cwd`. */
async function place(w: World, t: Transcript, cwd: string, body?: string): Promise<string> {
  at(t, cwd);
  const dir = `${w.claude}/projects/${encodeProjectFolder(cwd)}`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${t.sessionId}.jsonl`;
  await Deno.writeTextFile(path, body ?? t.text());
  return path;
}

interface Stats {
  transcripts: Record<string, number>;
  turns: { found: number; saved: number; updated: number; unchanged: number; failed: number };
  projects: Record<string, number>;
}

async function backfill(w: World, args: string[] = [], env: Record<string, string> = {}): Promise<Stats> {
  const r = await runSage(["backfill", "--json", ...args], { env: { ...w.env, ...env } });
  assert.equal(r.code, 0, `backfill exited ${r.code}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, /^backfill: \d+\/\d+ transcripts, \d+ turns, \d+ turns\/s$/m, "no progress line on stderr");
  return JSON.parse(r.stdout);
}

async function stopHook(w: World, path: string, session: string, cwd: string): Promise<void> {
  const input = { hook_event_name: "Stop", session_id: session, transcript_path: path, cwd, stop_hook_active: false };
  const r = await runSage(["hook", "Stop"], { env: w.env, stdin: JSON.stringify(input) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  const log = await Deno.readTextFile(`${w.home}/logs/hooks.log`).catch(() => "");
  assert.ok(!log.includes("error"), log);
}

/** A Chinese session: three answered turns, a /compact between the second and the third. */
function chineseSession(id: string, start?: string): { t: Transcript; uuids: string[] } {
  const t = new Transcript(id, { start });
  const uuids = [
    appendTurn(
      t,
      "部署脚本在预发布环境里失败了，帮我看看原因。",
      "原因是环境变量 DATABASE_URL 没有设置，我已经在部署配置里补上了。",
    ),
    appendTurn(t, "把这个修复写进变更日志。", "已经在变更日志的未发布部分加了一条。"),
  ];
  t.compaction(`This session is being continued from a previous conversation. Summary: ${MARK.summary}`);
  uuids.push(appendTurn(t, "现在预发布环境的部署通过了吗？", "通过了，部署在两分钟内完成。"));
  t.tail("现在预发布环境的部署通过了吗？");
  return { t, uuids };
}

/** A subagent's own transcript, as Claude Code keeps it beside the session: sidechain entries only. */
function subagentTranscript(sessionId: string): string {
  const t = new Transcript(sessionId);
  t.sidechainPrompt(`Find every CREATE INDEX. ${MARK.sidechain}`);
  t.assistant([text(`Found two. ${MARK.sidechain}`)], "end_turn", { sidechain: true });
  return t.text();
}

const ANSWERED = (prompts: string[]) => [prompts[0], prompts[1], prompts[2], prompts[4]]; // turn 4: an API error

Deno.test("backfill: every transcript as the Stop hook stores it; twice changes nothing; hooks later add nothing twice", async () => {
  const w = await world();
  const alpha = await repo(w, "alpha");
  const beta = await repo(w, "beta");
  // English and Chinese, tools, a subagent inline, a slash command, <private>, an API error; started in a subfolder.
  const { t: main, prompts } = mainSession();
  const mainPath = await place(w, main, `${alpha}/src/deep`);
  // Chinese, a /compact, and lines that are no entries: damaged JSON, null, a number, a list.
  const zh = chineseSession("7d1c2b3a-0000-4000-a000-00000000beta");
  at(zh.t, beta);
  const cut = zh.t.entries.findIndex((e) => e.uuid === zh.uuids[1]);
  const zhBody = zh.t.text(0, cut) + '{"type":"user","message":{"role":\n' + "null\n42\n[1,2]\n\n" + zh.t.text(cut);
  const zhPath = await place(w, zh.t, beta, zhBody);
  const agentDir = `${w.claude}/projects/${encodeProjectFolder(beta)}/${zh.t.sessionId}/subagents`;
  await Deno.mkdir(agentDir, { recursive: true });
  await Deno.writeTextFile(`${agentDir}/agent-a1b2c3d4.jsonl`, subagentTranscript(zh.t.sessionId));
  await Deno.writeTextFile(`${w.claude}/projects/${encodeProjectFolder(beta)}/empty.jsonl`, "");

  const first = await backfill(w);
  assert.deepEqual(first.transcripts, {
    found: 4,
    read: 3,
    skipped: 1,
    subagent: 1,
    opted_out: 0,
    other_project: 0,
    older: 0,
    unreadable: 0,
  });
  assert.deepEqual(first.turns, { found: 7, saved: 7, updated: 0, unchanged: 0, failed: 0 });
  assert.deepEqual(first.projects, { [alpha]: 4, [beta]: 3 });

  const stored = await memoryRows(w.url);
  const ofAlpha = stored.filter((r) => r.project === alpha);
  assert.deepEqual(ofAlpha.map((r) => r.metadata.turn_uuid), ANSWERED(prompts), "project = git root of the cwd");
  assert.ok(ofAlpha.every((r) => r.session_id === SESSION_ID && r.kind === "conversation"));
  const ofBeta = stored.filter((r) => r.project === beta);
  assert.deepEqual(ofBeta.map((r) => r.metadata.turn_uuid), zh.uuids);
  assert.ok(ofBeta.every((r) => r.session_id === zh.t.sessionId && r.metadata.partial === undefined));
  assert.equal(ofBeta[2].content, "User: 现在预发布环境的部署通过了吗？\n\nAssistant: 通过了，部署在两分钟内完成。");
  const all = stored.map((r) => r.content).join("\n");
  for (const m of [MARK.thinking, MARK.toolOutput, MARK.sidechain, MARK.summary, MARK.privateText, MARK.apiKey]) {
    assert.ok(!all.includes(m), `${m} was stored`);
  }

  // Twice: nothing changes, not even updated_at.
  const second = await backfill(w);
  assert.deepEqual(second.turns, { found: 7, saved: 0, updated: 0, unchanged: 7, failed: 0 });
  assert.deepEqual(await memoryRows(w.url), stored);

  // The Stop hook on the same transcripts stores exactly what backfill stored…
  const hooked = await world();
  await stopHook(hooked, mainPath, SESSION_ID, `${alpha}/src/deep`);
  await stopHook(hooked, zhPath, zh.t.sessionId, beta);
  const byHook = await memoryRows(hooked.url);
  const same = (r: MemoryRow) => ({ ...r, id: 0, updated_at: "" });
  assert.deepEqual(byHook.map(same), stored.map(same), "backfill and the Stop hook disagree");
  // …then backfill after the hook adds nothing,
  const after = await backfill({ ...hooked, claude: w.claude, env: { ...hooked.env, CLAUDE_CONFIG_DIR: w.claude } });
  assert.deepEqual(after.turns, { found: 7, saved: 0, updated: 0, unchanged: 7, failed: 0 });
  assert.deepEqual(await memoryRows(hooked.url), byHook);
  // …and the hook after backfill stores only a turn that is new.
  await stopHook(w, mainPath, SESSION_ID, `${alpha}/src/deep`);
  assert.deepEqual(await memoryRows(w.url), stored);
  const uuid = appendTurn(main, "Add a CHANGELOG entry for the fix.", "Added under Unreleased.");
  await place(w, main, `${alpha}/src/deep`);
  await stopHook(w, mainPath, SESSION_ID, `${alpha}/src/deep`);
  const grown = await memoryRows(w.url);
  assert.equal(grown.length, 8);
  assert.deepEqual(grown.slice(0, 7), stored);
  assert.equal(grown[7].metadata.turn_uuid, uuid);
});

Deno.test("backfill: .sageignore, <private> and secrets, --project, --since, --dry-run, the default folder", async () => {
  const w = await world();
  const alpha = await repo(w, "alpha");
  const beta = await repo(w, "beta");
  const quiet = await repo(w, "quiet");
  await Deno.writeTextFile(`${quiet}/.sageignore`, "");
  await place(w, mainSession().t, alpha);
  await place(w, chineseSession("0c0c0c0c-0000-4000-a000-0000000quiet").t, `${quiet}/src`);
  // beta: one transcript untouched since January, one whose first turn comes just before --since.
  const old = chineseSession("1a1a1a1a-0000-4000-a000-000000000old", "2026-01-10T09:00:00.000Z");
  const oldPath = await place(w, old.t, beta);
  await Deno.utime(oldPath, new Date("2026-01-10T10:00:00Z"), new Date("2026-01-10T10:00:00Z"));
  const mixed = new Transcript("2b2b2b2b-0000-4000-a000-0000000mixed", { start: "2026-05-31T23:59:57.000Z" });
  const before = appendTurn(mixed, "Which branch do we release from?", "From main, after the tag.");
  const since = appendTurn(mixed, "And hotfixes?", "From the release branch, then merged back.");
  await place(w, mixed, beta);
  const since2 = new Date(Date.parse(mixed.entries.find((e) => e.uuid === since)!.timestamp as string) - 500);

  // --dry-run: the counts, nothing written (no memory, no session).
  const dry = await backfill(w, ["--dry-run"]);
  assert.deepEqual(dry.turns, { found: 9, saved: 9, updated: 0, unchanged: 0, failed: 0 });
  assert.equal(dry.transcripts.opted_out, 1, ".sageignore in the project the transcript was recorded in");
  const [{ n }] = await sql<{ n: number }>(
    w.url,
    "SELECT (SELECT count(*) FROM sage.memories) + (SELECT count(*) FROM sage.sessions) AS n",
  );
  assert.equal(Number(n), 0, "a dry run wrote something");

  // --project (a folder in beta: beta), --since: only beta's turns from then on; the January transcript is not read.
  const onlyBeta = await backfill(w, ["--project", `${beta}/src/deep`, "--since", since2.toISOString()]);
  assert.deepEqual(onlyBeta.turns, { found: 1, saved: 1, updated: 0, unchanged: 0, failed: 0 });
  assert.equal(onlyBeta.transcripts.other_project, 2);
  assert.equal(onlyBeta.transcripts.older, 1);
  assert.deepEqual((await memoryRows(w.url)).map((r) => r.metadata.turn_uuid), [since]);

  // Everything, found through $HOME/.claude when CLAUDE_CONFIG_DIR is not set.
  await Deno.rename(w.claude, `${w.home}/.claude`);
  const all = await backfill(w, [], { CLAUDE_CONFIG_DIR: "", HOME: w.home });
  assert.deepEqual(all.turns, { found: 9, saved: 8, updated: 0, unchanged: 1, failed: 0 });
  assert.deepEqual(Object.keys(all.projects).sort(), [alpha, beta]);
  const stored = await memoryRows(w.url);
  assert.ok(stored.some((r) => r.metadata.turn_uuid === before));
  assert.ok(!stored.some((r) => r.project === quiet || r.session_id?.endsWith("quiet")), "an opted-out project's turn");
  // <private> text and secrets: nowhere in any table.
  const tables = await sql<{ t: string }>(
    w.url,
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'sage' AND table_type = 'BASE TABLE'",
  );
  for (const { t } of tables) {
    const [{ dump }] = await sql<{ dump: string | null }>(
      w.url,
      `SELECT string_agg(x::text, E'\\n') AS dump FROM sage.${t} x`,
    );
    for (const secret of [MARK.privateText, "98765", MARK.urlPassword, MARK.apiKey]) {
      assert.ok(!(dump ?? "").includes(secret), `"${secret}" is stored in sage.${t}`);
    }
  }
  const smoke = stored.find((r) => r.content.includes("Remember for the smoke test"))!;
  assert.match(smoke.content, /postgres:\/\/deploy:\[REDACTED\]@db\.staging\.internal/);
});

Deno.test("backfill: a huge transcript is read in slices, a line longer than a slice skipped, the rest kept", async () => {
  const w = await world();
  const alpha = await repo(w, "alpha");
  const t = new Transcript("9e9e9e9e-0000-4000-a000-00000000huge");
  const filler = "x".repeat(100) + "\n";
  const turn = (i: number, output: string) => {
    t.queue(`Question ${i}`);
    const uuid = t.prompt(`Question ${i}: what does step ${i} of the pipeline do?`);
    t.assistant(
      [thinking(MARK.thinking), toolUse(`toolu_${i}`, "Read", { file_path: `/logs/step${i}.log` })],
      "tool_use",
    );
    t.toolResult(`toolu_${i}`, output);
    t.assistant([text(`Step ${i} builds the artefacts of stage ${i}.`)], "end_turn");
    return uuid;
  };
  const first = Array.from({ length: 150 }, (_, i) => turn(i, filler.repeat(1000))); // ~100 KB each
  const giant = turn(150, "y".repeat(33 * 1024 * 1024)); // one line longer than a 32 MB slice
  const last = Array.from({ length: 150 }, (_, i) => turn(151 + i, filler.repeat(1000)));
  const path = await place(w, t, alpha);
  try {
    const size = (await Deno.stat(path)).size;
    assert.ok(size > 60 * 1024 * 1024, `only ${size} bytes`);
    const stats = await backfill(w);
    const stored = await memoryRows(w.url);
    const uuids = new Set(stored.map((r) => r.metadata.turn_uuid));
    for (const u of [...first, ...last]) assert.ok(uuids.has(u), `turn ${u} is missing`);
    assert.equal(stored.length, stats.turns.saved);
    assert.ok(stored.length === 300 || (stored.length === 301 && uuids.has(giant)), `${stored.length} turns stored`);
    assert.equal(stored.find((r) => r.metadata.turn_uuid === last[149])!.metadata.partial, undefined);
    assert.ok(!stored.some((r) => r.content.includes("yyyy") || r.content.includes("xxxx")), "tool output stored");
    const again = await backfill(w);
    assert.equal(again.turns.saved + again.turns.updated, 0, "a second run changed something");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("backfill: a bad folder or flag is a clear error, exit 2, and nothing is stored", async () => {
  const w = await world();
  await place(w, mainSession().t, await repo(w, "alpha"));
  const file = `${w.home}/not-a-folder`;
  await Deno.writeTextFile(file, "");
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["backfill", `${w.home}/nowhere`], {}, /nowhere does not exist\n.*~\/\.claude\/projects/],
    [["backfill", file], {}, /not-a-folder is not a folder/],
    [["backfill"], { CLAUDE_CONFIG_DIR: `${w.home}/no-claude` }, /no-claude\/projects does not exist/],
    [["backfill", "--since", "last tuesday"], {}, /since must be an ISO 8601 date/],
    [["backfill", "--project", "alpha"], {}, /project must be an absolute path/],
    [["backfill", "a", "b"], {}, /unexpected argument "b"/],
  ];
  for (const [args, env, pattern] of cases) {
    const r: RunResult = await runSage(args, { env: { ...w.env, ...env } });
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, "");
  }
  const [{ migrated }] = await sql<{ migrated: boolean }>(
    w.url,
    "SELECT to_regclass('sage.memories') IS NOT NULL AS migrated",
  );
  if (migrated) assert.deepEqual(await memoryRows(w.url), []);
});

Deno.test("backfill: SessionStart and status offer it when Claude Code kept transcripts of a project with no memories", async () => {
  const w = await world();
  const alpha = await repo(w, "alpha");
  const { t } = mainSession();
  await place(w, t, `${alpha}/src`);
  // A project whose name begins like alpha's (the folder names share a prefix) and an unrelated one.
  await place(w, chineseSession("3c3c3c3c-0000-4000-a000-00000000alp2").t, await repo(w, "alpha-old"));
  const start = (session: string, cwd = alpha) =>
    runSage(["hook", "SessionStart"], {
      env: w.env,
      stdin: JSON.stringify({ hook_event_name: "SessionStart", session_id: session, source: "startup", cwd }),
    });
  const offered = await start("4d4d4d4d-0000-4000-a000-00000current");
  assert.equal(offered.code, 0, offered.stderr);
  const context = JSON.parse(offered.stdout).hookSpecificOutput.additionalContext as string;
  assert.match(context, /no memories of this project yet, but Claude Code kept 1 conversation transcript of it/);
  assert.ok(context.includes(`sage backfill --project ${alpha}`), context);
  assert.ok(context.includes(`run_sage_single.sh backfill --project ${alpha}`), context);
  // The session's own transcript is not an earlier conversation.
  const own = await start(SESSION_ID);
  assert.deepEqual([own.code, own.stdout], [0, ""]);

  const status = await runSage(["status", "--json"], { env: w.env, cwd: `${alpha}/src/deep` });
  assert.equal(status.code, 0, status.stderr);
  assert.match(JSON.parse(status.stdout).backfill, /sage backfill --project/);
  const plain = await runSage(["status"], { env: w.env, cwd: alpha });
  assert.match(plain.stdout, /Claude Code kept 1 conversation transcript/);

  // Once imported: the digest, no more offer.
  await backfill(w, ["--project", alpha]);
  const digest = await start("4d4d4d4d-0000-4000-a000-00000current");
  const after = JSON.parse(digest.stdout).hookSpecificOutput.additionalContext as string;
  assert.match(after, /Recent conversations/);
  assert.ok(!after.includes("sage backfill"), after);
  const statusAfter = await runSage(["status", "--json"], { env: w.env, cwd: alpha });
  assert.equal(JSON.parse(statusAfter.stdout).backfill, undefined);
});

Deno.test("backfill: a transcript that records no folder goes to the project its folder's name stands for", async () => {
  const w = await world();
  // Claude Code's folder names are lossy (`_`, `.`, `-` and `/` all become `-`): the existing path is found.
  const gamma = await repo(w, "gamma_v1.2-x");
  const t = new Transcript("5e5e5e5e-0000-4000-a000-0000000nocwd");
  const uuid = appendTurn(t, "What is the release branch called?", "release/2026.11, cut every Monday.");
  for (const e of t.entries) delete e.cwd;
  const dir = `${w.claude}/projects/${encodeProjectFolder(`${gamma}/src`)}`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/${t.sessionId}.jsonl`, t.text());
  const stats = await backfill(w);
  assert.deepEqual(stats.projects, { [gamma]: 1 });
  assert.deepEqual((await memoryRows(w.url)).map((r) => [r.project, r.metadata.turn_uuid]), [[gamma, uuid]]);
});
