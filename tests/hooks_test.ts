/**
 * `sage hook <Event>` exactly as Claude Code runs it: a separate process, Claude Code-shaped JSON on stdin,
 * a real database, transcripts in Claude Code's JSONL shape (tests/support/transcripts.ts). Without a server
 * the hook works directly against the database; with a `sage serve` running it asks the server over its socket.
 */
import assert from "node:assert/strict";
import { parseTranscript } from "../lib/memory/transcript.ts";
import { estimateTokens } from "../lib/text/tokens.ts";
import {
  freshDatabase,
  type MemoryRow,
  memoryRows,
  newService,
  type RunResult,
  runSage,
  sql,
  tempDir,
} from "./support/harness.ts";
import { connectSage } from "./support/mcp_client.ts";
import {
  appendTurn,
  FIXTURE_DIR,
  fixtures,
  mainSession,
  MARK,
  notLoggedIn,
  SESSION_ID,
  text,
  toolUse,
  Transcript,
} from "./support/transcripts.ts";

/** One database, one SAGE_HOME, one git project with a subfolder Claude Code may be started in. */
interface Setup {
  url: string;
  home: string;
  project: string;
  cwd: string;
  env: Record<string, string>;
}

async function setup(): Promise<Setup> {
  const url = await freshDatabase();
  const home = await tempDir("hooks-");
  const project = `${home}/repo`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  await Deno.mkdir(`${project}/src/deep`, { recursive: true });
  return { url, home, project, cwd: `${project}/src/deep`, env: { DATABASE_URL: url, SAGE_HOME: home } };
}

/** Runs `sage hook <event>` with Claude Code's input for that event on stdin. */
async function hook(
  s: Setup,
  event: string,
  input: Record<string, unknown> | string,
  env: Record<string, string> = {},
): Promise<RunResult> {
  const stdin = typeof input === "string" ? input : JSON.stringify({ hook_event_name: event, cwd: s.cwd, ...input });
  return await runSage(["hook", event], { stdin, env: { ...s.env, ...env } });
}

/** Claude Code's Stop input for a session whose transcript is at `path`. */
function stop(path: string, session = SESSION_ID, extra: Record<string, unknown> = {}) {
  return { session_id: session, transcript_path: path, permission_mode: "default", stop_hook_active: false, ...extra };
}

function quiet(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, "", `${what} printed something:\n${r.stdout}`);
}

/** The JSON Claude Code reads from a context hook: exactly one object with hookSpecificOutput. */
function contextOf(r: RunResult, event: string): string {
  assert.equal(r.code, 0, `${event} exited ${r.code}\nstderr: ${r.stderr}`);
  assert.ok(r.stdout.endsWith("\n") && r.stdout.indexOf("\n") === r.stdout.length - 1, `not one line:\n${r.stdout}`);
  const value = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(value), ["hookSpecificOutput"]);
  assert.deepEqual(Object.keys(value.hookSpecificOutput).sort(), ["additionalContext", "hookEventName"]);
  assert.equal(value.hookSpecificOutput.hookEventName, event);
  assert.equal(typeof value.hookSpecificOutput.additionalContext, "string");
  return value.hookSpecificOutput.additionalContext;
}

async function hooksLog(s: Setup): Promise<string> {
  return await Deno.readTextFile(`${s.home}/logs/hooks.log`).catch(() => "");
}

/** The main fixture written where Claude Code would keep it, under the test's own folder. */
async function writeTranscript(s: Setup, content: string, name = `${SESSION_ID}.jsonl`): Promise<string> {
  const dir = `${s.home}/claude/projects/-repo`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, content);
  return path;
}

const PROMPTS = {
  ci: "The CI job fails on the migration step. Can you find out why?",
  index: "请用一个子代理检查所有迁移文件里有没有重复的索引名。",
  smoke: "Remember for the smoke test:",
  passed: "数据库迁移现在都通过了吗？",
};

// ---- fixtures ------------------------------------------------------------------------------------------------

Deno.test("hooks: the transcript fixtures are what tests/support/transcripts.ts builds", async () => {
  for (const [name, content] of Object.entries(fixtures())) {
    const file = await Deno.readTextFile(new URL(name, FIXTURE_DIR));
    assert.equal(file, content, `${name} is stale: run deno run -A tests/support/transcripts.ts`);
    for (const line of file.trimEnd().split("\n")) JSON.parse(line); // every line one JSON entry
  }
});

Deno.test("hooks: parsing keeps real prompts only, in order, with their uuid and time", () => {
  const { t, prompts } = mainSession();
  const { turns, end } = parseTranscript(new TextEncoder().encode(t.text()));
  assert.equal(end, new TextEncoder().encode(t.text()).length);
  assert.deepEqual(turns.map((x) => x.uuid), prompts);
  assert.equal(turns[0].prompt, PROMPTS.ci);
  assert.equal(turns[1].prompt, PROMPTS.index);
  assert.equal(turns[3].response, "", "an API error is not an answer");
  const prompt = t.entries.find((e) => e.uuid === prompts[0])!;
  assert.equal(turns[0].timestamp, prompt.timestamp);
});

// ---- capture -------------------------------------------------------------------------------------------------

Deno.test("hooks: Stop stores each answered turn once, as Claude Code's session, under the git root of cwd", async () => {
  const s = await setup();
  const path = await writeTranscript(s, await Deno.readTextFile(new URL("session.jsonl", FIXTURE_DIR)));
  quiet(await hook(s, "Stop", stop(path), { SAGE_LOG_LEVEL: "debug" }), "Stop");
  assert.match(await hooksLog(s), /hook done .*"event":"Stop","via":"direct"/);

  const stored = await memoryRows(s.url);
  const { t, prompts } = mainSession();
  // Turn 4 only ever got an API error: not a memory.
  const answered = [prompts[0], prompts[1], prompts[2], prompts[4]];
  assert.deepEqual(stored.map((r) => r.metadata.turn_uuid), answered);
  for (const [i, r] of stored.entries()) {
    const prompt = t.entries.find((e) => e.uuid === answered[i])!;
    assert.equal(r.kind, "conversation");
    assert.equal(r.project, s.project, "project = git root of the hook's cwd");
    assert.equal(r.session_id, SESSION_ID);
    assert.equal(r.created_at, prompt.timestamp, "created_at = when the prompt was sent");
    assert.equal(r.metadata.source, "claude-code");
    assert.equal(r.metadata.partial, undefined);
    assert.match(r.content, /^User: [^]*\n\nAssistant: /);
  }
  const sessions = await sql<{ id: string; project: string }>(s.url, "SELECT id, project FROM sage.sessions");
  assert.deepEqual(sessions, [{ id: SESSION_ID, project: s.project }]);

  const [ci, index, smoke, passed] = stored.map((r) => r.content);
  // Turn 1: text, one line per tool call, the first line of the failed tool's error; no thinking, no tool output.
  assert.ok(ci.startsWith(`User: ${PROMPTS.ci}\n\nAssistant: I'll run the migration tests first.\n`), ci);
  const lines = ci.split("\n");
  assert.ok(lines.includes("[Bash] deno task test --filter migrate"), ci);
  assert.ok(lines.includes('  ↳ error: error: relation "sage.memories" does not exist'), ci);
  assert.ok(lines.includes("[Read] /home/dev/work/sage/db/migrations/0002_capture.ts"), ci);
  assert.ok(lines.includes("[Edit] /home/dev/work/sage/db/migrate.ts"), ci);
  assert.ok(ci.endsWith("the migration tests pass now."), ci);
  assert.equal(lines.filter((l) => l.startsWith("[")).length, 3, "one line per tool call");
  assert.ok(!ci.includes("second line of the command"), "a tool line is the command's first line only");
  assert.ok(ci.length < 900, `turn 1 is ${ci.length} characters: tool output was dumped`);
  // Turn 2: Chinese kept as is; the subagent's answer, not its sidechain; not the slash command's answer.
  assert.equal(
    index,
    `User: ${PROMPTS.index}\n\nAssistant: 好的，我让一个子代理去检查迁移文件。\n[Task] 检查重复索引名\n` +
      "  ↳ 没有发现重复的索引名：memories_turn_key 和 memories_project_hash_key 各出现一次。\n" +
      "检查完成：所有迁移文件里没有重复的索引名。",
  );
  assert.equal(passed, `User: ${PROMPTS.passed}\n\nAssistant: 是的，数据库迁移的测试全部通过了。`);
  assert.ok(smoke.startsWith(`User: ${PROMPTS.smoke}`), smoke);
  const all = stored.map((r) => r.content).join("\n");
  for (
    const m of [
      MARK.thinking,
      MARK.toolOutput,
      MARK.editBody,
      MARK.sidechain,
      MARK.attachment,
      MARK.apiBlob,
      MARK.summary,
    ]
  ) {
    assert.ok(!all.includes(m), `${m} was stored`);
  }
  assert.ok(!all.includes(MARK.slashAnswer), "a slash command's answer was stored as part of the previous turn");
  assert.ok(!all.includes("Not logged in") && !all.includes(MARK.apiError), "an API error was stored");
  assert.ok(!all.includes("Which port does the staging database use?"), "an unanswered prompt was stored");
});

Deno.test("hooks: <private> text and secrets never reach the database; .sageignore turns capture and recall off", async () => {
  const s = await setup();
  const path = await writeTranscript(s, mainSession().t.text());
  quiet(await hook(s, "Stop", stop(path)), "Stop");
  const smoke = (await memoryRows(s.url)).find((r) => r.content.startsWith(`User: ${PROMPTS.smoke}`))!;
  assert.match(smoke.content, /postgres:\/\/deploy:\[REDACTED\]@db\.staging\.internal:5432\/app/);
  assert.match(smoke.content, /the API key is \[REDACTED api key\]/);
  assert.ok(smoke.content.includes("Noted: the smoke test will use the staging database"));
  // Every table of the schema, as text: the secrets are nowhere (content, metadata, keyword terms, sessions…).
  const tables = await sql<{ t: string }>(
    s.url,
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'sage' AND table_type = 'BASE TABLE'",
  );
  assert.ok(tables.some((t) => t.t === "memories") && tables.some((t) => t.t === "capture_progress"));
  for (const { t } of tables) {
    const [{ dump }] = await sql<{ dump: string | null }>(
      s.url,
      `SELECT string_agg(x::text, E'\\n') AS dump FROM sage.${t} x`,
    );
    for (const secret of [MARK.privateText, "98765", MARK.urlPassword, MARK.apiKey, "Zx9Yw8Vu7Ts6"]) {
      assert.ok(!(dump ?? "").includes(secret), `"${secret}" is stored in sage.${t}`);
    }
  }

  // A project that opted out: nothing captured, nothing recalled, no digest, even with relevant memories there.
  const other = `${s.home}/private-repo`;
  await Deno.mkdir(`${other}/.git`, { recursive: true });
  const saved = await runSage([
    "save",
    "--kind",
    "decision",
    "Deploys of the billing service go through the blue green switch",
  ], {
    env: { ...s.env, SAGE_SESSION: "earlier" },
    cwd: other,
  });
  assert.equal(saved.code, 0, saved.stderr);
  const before = (await memoryRows(s.url)).length;
  const ask = { session_id: "private-now", prompt: "How do deploys of the billing service work?", cwd: other };
  // Separate sessions: a memory is injected once per session (the ledger), and both hooks must show it here.
  const [open, openStart] = await Promise.all([
    hook(s, "UserPromptSubmit", ask),
    hook(s, "SessionStart", { session_id: "private-start", source: "startup", cwd: other }),
  ]);
  assert.match(contextOf(open, "UserPromptSubmit"), /blue green switch/, "control: recalled before opting out");
  assert.match(contextOf(openStart, "SessionStart"), /blue green switch/);

  await Deno.writeTextFile(`${other}/.sageignore`, "");
  await Deno.mkdir(`${other}/app`);
  const otherPath = await writeTranscript(s, mainSession("5f0c1d2e-opted-out").t.text(), "opted-out.jsonl");
  const [captured, asked, started] = await Promise.all([
    hook(s, "Stop", { ...stop(otherPath, "5f0c1d2e-opted-out"), cwd: `${other}/app` }),
    hook(s, "UserPromptSubmit", { ...ask, cwd: `${other}/app` }),
    hook(s, "SessionStart", { session_id: "private-now", source: "startup", cwd: `${other}/app` }),
  ]);
  quiet(captured, "Stop in an opted-out project");
  quiet(asked, "UserPromptSubmit in an opted-out project");
  quiet(started, "SessionStart in an opted-out project");
  assert.equal((await memoryRows(s.url)).length, before, "an opted-out project's turns were stored");
});

Deno.test("hooks: the same Stop ten times stores each turn once; a new turn is stored alone", async () => {
  const s = await setup();
  const { t } = mainSession();
  const path = await writeTranscript(s, t.text());
  // Four at once (Claude Code runs a user-level and a project-level copy in parallel), then six in a row.
  const burst = await Promise.all([1, 2, 3, 4].map(() => hook(s, "Stop", stop(path))));
  burst.forEach((r, i) => quiet(r, `Stop #${i + 1}`));
  for (let i = 5; i <= 10; i++) quiet(await hook(s, "Stop", stop(path)), `Stop #${i}`);
  const first = await memoryRows(s.url);
  assert.equal(first.length, 4);
  assert.equal(new Set(first.map((r) => r.metadata.turn_uuid)).size, 4);
  assert.equal((await hooksLog(s)).includes(" error:"), false, await hooksLog(s));

  const uuid = appendTurn(
    t,
    "Add a CHANGELOG entry for the migration fix.",
    "Added under Unreleased: migrations create the schema first.",
  );
  await Deno.writeTextFile(path, t.text());
  quiet(await hook(s, "Stop", stop(path)), "Stop after a new turn");
  const second = await memoryRows(s.url);
  assert.equal(second.length, 5);
  assert.deepEqual(second.slice(0, 4), first, "earlier turns were changed");
  assert.equal(second[4].metadata.turn_uuid, uuid);
  assert.equal(
    second[4].content,
    "User: Add a CHANGELOG entry for the migration fix.\n\nAssistant: Added under Unreleased: migrations create the schema first.",
  );
  quiet(await hook(s, "SessionEnd", { ...stop(path), reason: "prompt_input_exit" }), "SessionEnd");
  assert.deepEqual(await memoryRows(s.url), second, "SessionEnd after everything was captured changed something");
});

Deno.test("hooks: a half-written last line stores whole turns only; the rest once the line is complete", async () => {
  const s = await setup();
  const { t, prompts } = mainSession();
  const full = new TextEncoder().encode(t.text());
  // Cut inside the last answer's line, in the middle of a Chinese character (a UTF-8 sequence).
  const answer = t.entries.findIndex((e) => JSON.stringify(e).includes("是的，数据库迁移的测试全部通过了"));
  const lineStart = new TextEncoder().encode(t.text(0, answer)).length;
  const cut = lineStart + new TextEncoder().encode(t.text(answer, answer + 1)).indexOf(0xe7) + 1; // 是 = e6 98 af
  assert.ok(cut > lineStart + 1 && cut < full.length);
  const path = await writeTranscript(s, "");
  await Deno.writeFile(path, full.subarray(0, cut));

  quiet(await hook(s, "Stop", stop(path)), "Stop on a half-written transcript");
  const partial = await memoryRows(s.url);
  assert.deepEqual(partial.map((r) => r.metadata.turn_uuid), [prompts[0], prompts[1], prompts[2]]);
  assert.ok(partial.every((r) => r.metadata.partial === undefined));
  assert.ok(!partial.some((r) => r.content.includes(PROMPTS.passed)), "the cut-off turn was stored");

  await Deno.writeFile(path, full);
  quiet(await hook(s, "Stop", stop(path)), "Stop once the line is complete");
  const after = await memoryRows(s.url);
  assert.deepEqual(after.map((r) => r.metadata.turn_uuid), [prompts[0], prompts[1], prompts[2], prompts[4]]);
  assert.deepEqual(after.slice(0, 3), partial);
  assert.equal(after[3].content, `User: ${PROMPTS.passed}\n\nAssistant: 是的，数据库迁移的测试全部通过了。`);
});

Deno.test("hooks: PreCompact mid-answer stores the turn as partial; Stop later completes that same memory", async () => {
  const s = await setup();
  const { t, prompts } = mainSession();
  const final = t.entries.findIndex((e) => JSON.stringify(e).includes("Found it: migration 0002"));
  const path = await writeTranscript(s, t.text(0, final));
  quiet(await hook(s, "PreCompact", { ...stop(path), trigger: "auto", custom_instructions: "" }), "PreCompact");
  const [partial, ...none] = await memoryRows(s.url);
  assert.equal(none.length, 0);
  assert.equal(partial.metadata.turn_uuid, prompts[0]);
  assert.equal(partial.metadata.partial, true);
  assert.ok(partial.content.includes("[Edit] /home/dev/work/sage/db/migrate.ts"), partial.content);
  assert.ok(!partial.content.includes("Found it"));

  await Deno.writeTextFile(path, t.text());
  quiet(await hook(s, "Stop", stop(path)), "Stop");
  const after = await memoryRows(s.url);
  assert.equal(after.length, 4);
  const done = after.find((r) => r.metadata.turn_uuid === prompts[0])!;
  assert.equal(done.id, partial.id, "the partial memory was not updated in place");
  assert.ok(done.content.startsWith(partial.content), "the completed turn does not extend the partial one");
  assert.ok(done.content.length > partial.content.length && done.content.includes("Found it"), done.content);
  assert.equal(done.metadata.partial, undefined, "still marked partial");
  assert.equal(done.created_at, partial.created_at);
});

Deno.test("hooks: a /compact typed after an answer stores that answer whole; an automatic one mid-answer, partial", async () => {
  // Streamed answers carry no stop_reason, so only the event says whether the turn is over.
  const s = await setup();
  const t = new Transcript("compact-session");
  t.prompt("How do uploads retry when the network drops?");
  t.assistant([text("Let me look."), toolUse("toolu_01Read0001", "Read", { file_path: "/srv/upload.ts" })], null);
  t.toolResult("toolu_01Read0001", "export const RETRIES = 3;");
  t.assistant([text("Uploads retry three times with exponential backoff.")], null);
  const [manual, auto] = await Promise.all([
    writeTranscript(s, t.text(), "manual.jsonl"),
    writeTranscript(s, t.text(), "auto.jsonl"),
  ]);
  await Promise.all([
    hook(s, "PreCompact", { ...stop(manual, "compact-manual"), trigger: "manual", custom_instructions: "" }),
    // Same turn: another project, or it would be the same memory.
    hook({ ...s, cwd: s.home }, "PreCompact", {
      ...stop(auto, "compact-auto"),
      trigger: "auto",
      custom_instructions: "",
    }),
  ]).then((rs) => rs.forEach((r) => quiet(r, "PreCompact")));
  const bySession = Object.fromEntries((await memoryRows(s.url)).map((r) => [r.session_id, r]));
  assert.equal(bySession["compact-manual"].metadata.partial, undefined, "a finished answer was stored as partial");
  assert.equal(bySession["compact-auto"].metadata.partial, true);
  assert.ok(bySession["compact-manual"].content.endsWith("exponential backoff."));
});

Deno.test("hooks: Stop before Claude Code flushed the answer keeps the final text (last_assistant_message, re-read)", async () => {
  // Claude Code runs Stop before the answer's last entry is on disk (anthropics/claude-code#15812): the hook must
  // not lose the final text, with last_assistant_message (Claude Code ≥ 2.1) or without it (it reads again).
  const s = await setup();
  const { t, prompts } = mainSession();
  const finalIndex = t.entries.findIndex((e) => JSON.stringify(e).includes("Found it: migration 0002"));
  const finalText = "Found it: migration 0002 ran before the sage schema existed. I made the migrator create the " +
    "schema first; the migration tests pass now.";
  const next = t.entries.findIndex((e) => e.uuid === prompts[1]);

  // With last_assistant_message: stored complete at once, and not doubled once the entry is flushed.
  const a = await writeTranscript(s, t.text(0, finalIndex), "a.jsonl");
  quiet(await hook(s, "Stop", stop(a, "flush-a", { last_assistant_message: finalText })), "Stop (a)");
  const [early] = (await memoryRows(s.url)).filter((r) => r.session_id === "flush-a");
  assert.ok(early.content.endsWith(finalText), early.content);
  await Deno.writeTextFile(a, t.text(0, next + 1));
  quiet(await hook(s, "Stop", stop(a, "flush-a")), "Stop (a) again");
  const [again] = (await memoryRows(s.url)).filter((r) => r.session_id === "flush-a");
  assert.deepEqual(again, early, "the flushed final entry changed (or doubled) the stored turn");

  // Without it: stored as far as the file goes, then updated in place when the next event reads it again.
  const b = await writeTranscript(s, t.text(0, finalIndex), "b.jsonl");
  const other = { ...s, project: `${s.home}/repo-b`, cwd: `${s.home}/repo-b` };
  await Deno.mkdir(`${other.project}/.git`, { recursive: true });
  quiet(await hook(other, "Stop", stop(b, "flush-b")), "Stop (b)");
  const [before] = (await memoryRows(s.url)).filter((r) => r.session_id === "flush-b");
  assert.ok(!before.content.includes("Found it"));
  await Deno.writeTextFile(b, t.text());
  quiet(await hook(other, "Stop", stop(b, "flush-b")), "Stop (b) again");
  const after = (await memoryRows(s.url)).filter((r) => r.session_id === "flush-b");
  assert.equal(after.length, 4);
  assert.equal(after[0].id, before.id);
  assert.ok(after[0].content.endsWith(finalText), after[0].content);
});

Deno.test("hooks: a session that only ever got API errors stores nothing", async () => {
  const s = await setup();
  const path = await writeTranscript(s, notLoggedIn().text(), "not-logged-in.jsonl");
  quiet(
    await hook(s, "SessionEnd", { ...stop(path, "d2b43846-8a40-4f7e-aa0b-19d43fe9640f"), reason: "other" }),
    "SessionEnd",
  );
  assert.deepEqual(await memoryRows(s.url), []);
});

// ---- recall --------------------------------------------------------------------------------------------------

Deno.test("hooks: UserPromptSubmit adds relevant memories of other sessions, and nothing otherwise", async () => {
  const s = await setup();
  const path = await writeTranscript(s, mainSession().t.text());
  quiet(await hook(s, "Stop", stop(path)), "Stop");
  const saved = await runSage(
    ["save", "--kind", "preference", "Always continue the release checklist with the smoke tests before tagging"],
    { env: { ...s.env, SAGE_SESSION: "older" }, cwd: s.project },
  );
  assert.equal(saved.code, 0, saved.stderr);
  const stored = await memoryRows(s.url);
  const ci = stored.find((r) => r.content.startsWith(`User: ${PROMPTS.ci}`))!;
  const checklist = stored.find((r) => r.kind === "preference")!;

  const ask = (prompt: string, session = "new-session", env: Record<string, string> = {}) =>
    hook(s, "UserPromptSubmit", {
      session_id: session,
      prompt,
      prompt_id: crypto.randomUUID(),
      permission_mode: "default",
    }, env);
  const [relevant, own, unrelated, trivial, trivialLoose, topicLoose] = await Promise.all([
    ask("Why did the CI migration step fail, and what was changed in the migrator?"),
    ask("Why did the CI migration step fail, and what was changed in the migrator?", SESSION_ID),
    ask("How long should sourdough bread proof overnight in the fridge?"),
    ask("ok"),
    // A trivial prompt recalls nothing, even where a memory holds its word; a real one with the same word does.
    ask("continue", "another-session"),
    ask("continue the release checklist", "yet-another-session"),
  ]);
  const context = contextOf(relevant, "UserPromptSubmit");
  assert.ok(context.includes(`[memory:${ci.id}]`), context);
  assert.ok(context.includes(`${ci.created_at.slice(0, 10)} ${ci.created_at.slice(11, 16)} UTC`), "not dated");
  assert.ok(context.includes("migration 0002 ran before the sage schema existed"), context);
  assert.match(context, /^<memories source="sage"[^]*<\/memories>$/);
  assert.ok(context.length <= 8000, `${context.length} characters: over SAGE_HOOK_MAX_CHARS`);

  if (own.stdout) {
    const ownContext = contextOf(own, "UserPromptSubmit");
    for (const r of stored.filter((r) => r.session_id === SESSION_ID)) {
      assert.ok(!ownContext.includes(`[memory:${r.id}]`), `the session's own memory ${r.id} was added`);
    }
  } else quiet(own, "UserPromptSubmit in the session that made the memories");
  quiet(unrelated, "UserPromptSubmit with an unrelated prompt");
  quiet(trivial, "UserPromptSubmit with a trivial prompt");
  quiet(trivialLoose, "UserPromptSubmit with a trivial prompt and no threshold");
  assert.ok(contextOf(topicLoose, "UserPromptSubmit").includes(`[memory:${checklist.id}]`), "control failed");
});

Deno.test("hooks: SessionStart gives a digest within SAGE_HOOK_DIGEST_TOKENS; nothing for an empty project", async () => {
  const s = await setup();
  const kinds = ["decision", "preference", "task"];
  const topics = ["Use PostgreSQL with pgvector for every store", "Answer in short sentences", "Finish the README"];
  const lines = Array.from({ length: 15 }, (_, i) =>
    JSON.stringify({
      content: `${kinds[i % 3]} number ${i}: ${topics[i % 3]}, item ${i} of the list.`,
      kind: kinds[i % 3],
      project: s.project,
      session: "earlier",
      created_at: new Date(Date.UTC(2026, 10, 1, 9, i)).toISOString(),
    }));
  const imported = await runSage(["import", "-"], { env: s.env, stdin: lines.join("\n") + "\n" });
  assert.equal(imported.code, 0, imported.stderr);

  const start = (session: string) => ({ session_id: session, source: "startup" });
  const emptyProject = `${s.home}/empty`;
  await Deno.mkdir(`${emptyProject}/.git`, { recursive: true });
  // One session each: within one session, what a digest showed is not shown again.
  const [small, normal, empty] = await Promise.all([
    hook(s, "SessionStart", start("fresh-small"), { SAGE_HOOK_DIGEST_TOKENS: "150" }),
    hook(s, "SessionStart", start("fresh-normal")),
    hook(s, "SessionStart", { ...start("fresh-empty"), cwd: emptyProject }),
  ]);
  const smallText = contextOf(small, "SessionStart");
  const normalText = contextOf(normal, "SessionStart");
  assert.ok(estimateTokens(smallText) <= 150, `${estimateTokens(smallText)} tokens > 150:\n${smallText}`);
  assert.ok(estimateTokens(normalText) <= 600, `${estimateTokens(normalText)} tokens > 600`);
  assert.ok(normalText.length > smallText.length, "the budget made no difference");
  for (const section of ["Preferences:", "Decisions:", "Open tasks:"]) {
    assert.ok(normalText.includes(section), normalText);
  }
  // Newest first, dated, citable.
  assert.match(normalText, /Decisions:\n- \[memory:\d+\] 2026-11-01: decision number 12: Use PostgreSQL/);
  quiet(empty, "SessionStart in a project with no memories");
});

// ---- failing open --------------------------------------------------------------------------------------------

Deno.test("hooks: fail open: bad input, unknown event, no database, unreadable transcript → exit 0, silent, logged", async () => {
  const s = await setup();
  const dir = `${s.home}/a-directory.jsonl`;
  await Deno.mkdir(dir);
  const cases: [string, () => Promise<RunResult>, RegExp][] = [
    ["invalid JSON", () => hook(s, "UserPromptSubmit", '{"session_id": "x", "prompt": '), /hook failed.*JSON/],
    ["not an object", () => hook(s, "Stop", "[1, 2, 3]"), /hook failed.*not a JSON object/],
    [
      "unknown event",
      () => hook(s, "PreToolUse", { session_id: "x", tool_name: "Bash" }),
      /unknown hook event.*PreToolUse/,
    ],
    [
      "database unreachable (prompt)",
      () =>
        hook(s, "UserPromptSubmit", { session_id: "x", prompt: "Why did the CI migration fail yesterday?" }, {
          DATABASE_URL: "postgres://sage@127.0.0.1:1/nowhere",
        }),
      /hook failed.*"event":"UserPromptSubmit"/,
    ],
    [
      "database missing (start)",
      () =>
        hook(s, "SessionStart", { session_id: "x", source: "startup" }, {
          DATABASE_URL: `${s.url.replace(/\/t_/, "/missing_t_")}`,
        }),
      /hook failed.*"event":"SessionStart"/,
    ],
    ["transcript is a directory", () => hook(s, "Stop", stop(dir, "x")), /hook failed.*"event":"Stop"/],
    [
      "transcript missing",
      () => hook(s, "SessionEnd", { ...stop(`${s.home}/nope.jsonl`, "y"), reason: "clear" }),
      /nope\.jsonl/,
    ],
  ];
  for (const [what, run, logged] of cases) {
    const before = await hooksLog(s);
    const r = await run();
    quiet(r, what);
    assert.equal(r.stderr, "", `${what}: stderr is shown by Claude Code:\n${r.stderr}`);
    const added = (await hooksLog(s)).slice(before.length);
    assert.match(added, logged, `${what}: hooks.log got:\n${added}`);
  }
  // Nothing stored (no case may even have needed the schema: a transcript that is not a file is refused first).
  const stored = await memoryRows(s.url).catch((err) => /does not exist/.test(err.message) ? [] : Promise.reject(err));
  assert.deepEqual(stored, []);
});

Deno.test("hooks: fail open even when a Sage setting in the environment is invalid", async () => {
  // main.ts loads the configuration before `hook` runs and exits 2 on a bad value. For UserPromptSubmit, exit 2
  // makes Claude Code block the prompt and show stderr: one typo in the environment blocks every prompt.
  const s = await setup();
  const r = await hook(s, "UserPromptSubmit", { session_id: "x", prompt: "Why did the CI migration fail?" }, {
    SAGE_HOOK_MAX_CHARS: "lots",
  });
  quiet(r, "UserPromptSubmit with SAGE_HOOK_MAX_CHARS=lots");
  assert.equal(r.stderr, "");
});

// ---- the server path -----------------------------------------------------------------------------------------

async function waitForSocket(home: string, timeoutMs = 20_000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      for await (const e of Deno.readDir(`${home}/sockets`)) {
        if (/^hooks-.*\.sock$/.test(e.name)) return `${home}/sockets/${e.name}`;
      }
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no hook socket in ${home}/sockets after ${timeoutMs} ms`);
}

Deno.test("hooks: with sage serve running, hooks are answered by the server, with the same results", async () => {
  const s = await setup();
  const direct = await setup();
  const path = await writeTranscript(s, await Deno.readTextFile(new URL("session.jsonl", FIXTURE_DIR)));
  // A server pinned to another project (SAGE_PROJECT) must still file each window's turns under its own project.
  const client = await connectSage({ ...s.env, SAGE_PROJECT: "/pinned/elsewhere" });
  try {
    const socket = await waitForSocket(s.home);
    assert.equal((Deno.statSync(socket).mode ?? 0) & 0o777, 0o600);
    const debug = { SAGE_LOG_LEVEL: "debug" };
    const [viaServer, viaDirect] = await Promise.all([
      hook(s, "Stop", stop(path), debug),
      hook(direct, "Stop", stop(path), debug),
    ]);
    quiet(viaServer, "Stop via the server");
    quiet(viaDirect, "Stop without a server");
    assert.match(await hooksLog(s), /hook done .*"event":"Stop","via":"server"/);
    assert.match(await hooksLog(direct), /hook done .*"event":"Stop","via":"direct"/);
    const [served, alone] = [await memoryRows(s.url), await memoryRows(direct.url)];
    const shape = (r: MemoryRow, project: string) => ({ ...r, id: 0, updated_at: "", project: r.project === project });
    assert.deepEqual(served.map((r) => shape(r, s.project)), alone.map((r) => shape(r, direct.project)));
    assert.equal(served.length, 4);
    // The server has the model: its captures are embedded; the direct path stays keyword-only.
    const vectors = async (url: string) =>
      (await sql<{ n: number }>(url, "SELECT count(DISTINCT memory_id)::int AS n FROM sage.memory_vectors"))[0].n;
    assert.equal(await vectors(s.url), 4);
    assert.equal(await vectors(direct.url), 0);

    const ci = served.find((r) => r.content.startsWith(`User: ${PROMPTS.ci}`))!;
    const ask = {
      session_id: "new-session",
      prompt: "Why did the CI migration step fail, and what was changed in the migrator?",
    };
    const [recall, start, trivial, again] = await Promise.all([
      hook(s, "UserPromptSubmit", ask, debug),
      // Another session: within one, the digest and the prompt hook never show the same memory twice.
      hook(s, "SessionStart", { session_id: "resumed-session", source: "resume" }, debug),
      hook(s, "UserPromptSubmit", { ...ask, prompt: "ok" }, debug),
      hook(s, "Stop", stop(path), debug),
    ]);
    assert.ok(contextOf(recall, "UserPromptSubmit").includes(`[memory:${ci.id}]`));
    assert.ok(contextOf(start, "SessionStart").includes("Recent conversations:"));
    quiet(trivial, "a trivial prompt via the server");
    quiet(again, "Stop again via the server");
    assert.equal((await memoryRows(s.url)).length, 4);
    const log = await hooksLog(s);
    for (const event of ["UserPromptSubmit", "SessionStart"]) {
      assert.match(log, new RegExp(`hook done .*"event":"${event}","via":"server"`));
    }
    assert.doesNotMatch(log, /"via":"direct"|hook failed/, log);
  } finally {
    await client.close();
  }
  // The server removes its socket on the way out; hooks then work directly again.
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000 && [...Deno.readDirSync(`${s.home}/sockets`)].some((e) => e.name.endsWith(".sock"))) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = (await hooksLog(s)).length;
  quiet(await hook(s, "Stop", stop(path), { SAGE_LOG_LEVEL: "debug" }), "Stop after the server left");
  assert.match((await hooksLog(s)).slice(before), /"via":"direct"/);
});

// ---- found in review: partial flags, long prompts, the digest's balance -------------------------------------

Deno.test("hooks: a turn stored mid-way loses its partial flag when it completes with the same text", async () => {
  const t = await newService({ project: "/h/partial" });
  try {
    const turn = { uuid: "turn-1", timestamp: "2026-11-20T10:00:00Z", prompt: "Run the migration.", response: "Done." };
    const first = await t.service.saveTurns({
      project: "/h/partial",
      session: "s",
      turns: [{ ...turn, complete: false }],
    });
    assert.deepEqual(first, { saved: 1, updated: 0, unchanged: 0 });
    const again = await t.service.saveTurns({
      project: "/h/partial",
      session: "s",
      turns: [{ ...turn, complete: true }],
    });
    assert.deepEqual(again, { saved: 0, updated: 1, unchanged: 0 });
    const [row] = await sql<MemoryRow>(t.url, "SELECT metadata FROM sage.memories");
    assert.equal(row.metadata.partial, undefined);
    assert.equal(row.metadata.turn_uuid, "turn-1");
  } finally {
    await t.close();
  }
});

Deno.test("hooks: a prompt with a long pasted log still recalls the memory it is about, and is not echoed", async () => {
  const s = await setup();
  await runSage(["save", "--kind", "decision", "The nightly CI job runs the database migration before the tests."], {
    env: { ...s.env, SAGE_SESSION: "earlier" },
    cwd: s.project,
  });
  const log = Array.from({ length: 60 }, (_, i) => `2026-11-24T10:${String(i).padStart(2, "0")} worker ${i} ok`).join(
    "\n",
  );
  const prompt = `Why did the nightly CI migration fail?\n${log}`;
  const r = await hook(s, "UserPromptSubmit", { session_id: "now", prompt });
  const text = contextOf(r, "UserPromptSubmit");
  assert.match(text, /runs the database migration before the tests/);
  assert(text.length < prompt.length, "the prompt is not sent back whole");
});

Deno.test("hooks: the SessionStart digest shares its budget, so open tasks are not crowded out", async () => {
  const t = await newService({ project: "/h/digest" });
  try {
    const long = (i: number) => `Preference ${i}: ${"keep functions short and named for what they do, ".repeat(4)}`;
    for (let i = 0; i < 5; i++) await t.service.saveMany([{ content: long(i), kind: "preference", session: null }]);
    for (let i = 0; i < 5; i++) {
      await t.service.saveMany([{
        content: `Decision ${i}: ${"use postgres for everything durable, ".repeat(4)}`,
        kind: "decision",
        session: null,
      }]);
    }
    await t.service.saveMany([{ content: "Task: finish the hook latency benchmark.", kind: "task", session: null }]);
    const text = await t.service.digest({ project: "/h/digest", budget: 400 });
    assert.match(text, /Open tasks:\n- \[memory:\d+\] .*finish the hook latency benchmark/);
    assert.match(text, /Preferences:/);
    assert.match(text, /Decisions:/);
  } finally {
    await t.close();
  }
});
