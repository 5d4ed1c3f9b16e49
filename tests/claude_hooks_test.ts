/**
 * Sage's hooks as the real Claude Code CLI runs them. There is no account on CI machines, so `claude -p` ends with
 * "Not logged in"; before that it runs SessionStart and UserPromptSubmit hooks, and SessionEnd on the way out, and
 * its debug log records each command, its exit status and the JSON it printed. That proves the entries `sage hooks
 * install` writes are the ones Claude Code reads, and that what Sage prints is what Claude Code accepts.
 */
import assert from "node:assert/strict";
import { assertRegistersConnected, claude, freshDatabase, MODEL, REPO, runSage, tempDir } from "./support/harness.ts";

const DECISION = "We decided to keep the memory store in PostgreSQL with pgvector, because vectors and keyword " +
  "search then live in one database.";
const NOTE = "Note on the memory store database: PostgreSQL runs with pgvector 0.8, and the decision to use it is " +
  "recorded in docs/adr/0001.";

Deno.test("Claude Code runs the installed hooks: SessionStart and UserPromptSubmit bring memories once, SessionEnd runs", async () => {
  const home = await tempDir("claude-hooks-");
  const project = `${home}/project`;
  await Deno.mkdir(project);
  const git = await new Deno.Command("git", { args: ["init", "-q", project], stdout: "null", stderr: "null" }).output()
    .catch(() => null);
  if (!git?.success) await Deno.mkdir(`${project}/.git`);
  const sage = { DATABASE_URL: await freshDatabase(), SAGE_HOME: `${home}/sage`, SAGE_EMBED_MODEL: MODEL };
  const env: Record<string, string> = {
    ...sage,
    HOME: home,
    PATH: `${REPO}/.tools/bin:${Deno.env.get("PATH")}`,
    SAGE_LOG_LEVEL: "debug",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
  };

  // A memory from an earlier session in this project.
  const saved = await runSage(["save", "--kind", "decision", "--json", DECISION], {
    env: { ...sage, SAGE_SESSION: "old" },
    cwd: project,
  });
  assert.equal(saved.code, 0, saved.stderr);
  const id = JSON.parse(saved.stdout).id;
  const note = await runSage(["save", "--kind", "note", "--json", NOTE], {
    env: { ...sage, SAGE_SESSION: "old" },
    cwd: project,
  });
  assert.equal(note.code, 0, note.stderr);
  const noteId = JSON.parse(note.stdout).id;

  const install = await runSage(["hooks", "install", "--user"], { env: { HOME: home } });
  assert.equal(install.code, 0, install.stderr);
  const settings = JSON.parse(await Deno.readTextFile(`${home}/.claude/settings.json`));
  const installed = (event: string): string => settings.hooks[event][0].hooks[0].command;
  assert.equal(installed("UserPromptSubmit"), `${REPO}/sage hook UserPromptSubmit`);

  // The MCP server next to the hooks, in the same HOME.
  await assertRegistersConnected(env, project);

  const debugLog = `${home}/claude-debug.log`;
  const run = await claude(
    ["-p", "Which database did we decide to use for the memory store, and why?", "--debug-file", debugLog],
    env,
    project,
  );
  const log = await Deno.readTextFile(debugLog);
  assert.match(run.stdout + run.stderr, /Not logged in/, "expected the no-account run this test is built on");

  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  for (const event of ["SessionStart", "UserPromptSubmit", "SessionEnd"]) {
    const ran = new RegExp(`${event}(:\\w+)? \\[${esc(installed(event))}\\] (finished|completed) with status 0`);
    assert.match(log, ran, `Claude Code did not run Sage's ${event} hook with status 0`);
  }
  assert.doesNotMatch(log, /sage hook \w+\] (finished|completed) with status [^0]/);

  // What Claude Code parsed from each hook's stdout.
  const parsed = [...log.matchAll(/Hooks: Parsed initial response: (\{.*\})$/gm)].map((m) => JSON.parse(m[1]));
  const contextOf = (event: string): string => {
    const answer = parsed.find((p) => p.hookSpecificOutput?.hookEventName === event);
    assert.ok(answer, `no ${event} answer in the debug log`);
    return answer.hookSpecificOutput.additionalContext;
  };
  // The digest at session start lists the decision; the prompt then brings the note, and not the decision again
  // (once per session, across hook processes).
  assert.ok(contextOf("SessionStart").includes(`[memory:${id}]`));
  const prompt = contextOf("UserPromptSubmit");
  assert.ok(prompt.includes(NOTE), prompt);
  assert.ok(prompt.includes(`[memory:${noteId}]`), prompt);
  assert.ok(!prompt.includes(`[memory:${id}]`), `the decision was injected twice in one session:\n${prompt}`);
  assert.match(log, /Hook UserPromptSubmit \([^)]*sage hook UserPromptSubmit\) provided additionalContext/);

  // Sage's own log: each hook was handled (by the MCP server Claude Code started, or directly) and none failed.
  const hooksLog = await Deno.readTextFile(`${home}/sage/logs/hooks.log`);
  for (const event of ["SessionStart", "UserPromptSubmit", "SessionEnd"]) {
    assert.match(hooksLog, new RegExp(`hook done .*"event":"${event}","via":"(server|direct)"`), hooksLog);
  }
  assert.doesNotMatch(hooksLog, /hook failed/, hooksLog);
});
