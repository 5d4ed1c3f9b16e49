/**
 * The Claude Code plugin (plugin/, listed by .claude-plugin/marketplace.json), with the real Claude Code CLI in a
 * throwaway HOME, offline, on the local runtime (this checkout's ./sage and the test database; the container runtime
 * is checked by `deno task test:container`):
 * - the checkout validates, installs as a marketplace, and `claude plugin details` lists the hooks and commands;
 * - `claude mcp list` shows the plugin's server Connected; with `claude -p` (no account) the plugin's SessionStart and
 *   UserPromptSubmit hooks run with status 0 and bring a memory saved earlier; the session lists the commands and the
 *   tools they name;
 * - `sage hooks status` sees the plugin next to hooks installed by hand, and warns about the duplicates;
 * - installed from a git repository (as from GitHub, here over loopback HTTP), Claude Code runs its copy of the plugin
 *   folder, which holds what the plugin runs and nothing of the checkout (no node_modules, no .tools);
 * - the launcher fails open in hooks and says why in the server.
 */
import assert from "node:assert/strict";
import { exists } from "../lib/files.ts";
import { HOOK_EVENTS } from "../lib/hooks/settings.ts";
import { VERSION } from "../lib/version.ts";
import { runCommand } from "./support/process.ts";
import { claude, freshDatabase, MODEL, REPO, type RunResult, runSage, tempDir } from "./support/harness.ts";

const PLUGIN = `${REPO}/plugin`;
const LAUNCHER = `${PLUGIN}/scripts/sage-plugin`;
const COMMANDS = ["forget", "recall", "save", "status"];
const SERVER = "plugin:sage:sage";
const TOOL_PREFIX = "mcp__plugin_sage_sage__";
const DECISION = "We decided to ship Sage as a Claude Code plugin, because one install then brings the server, " +
  "the hooks and the commands.";

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}

/** A fresh HOME with a git project in it, and the environment Claude Code runs in: the local runtime, our database. */
async function userSetup(prefix: string) {
  const home = await tempDir(prefix);
  const project = `${home}/project`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  const sage = { DATABASE_URL: await freshDatabase(), SAGE_HOME: `${home}/sage`, SAGE_EMBED_MODEL: MODEL };
  const env: Record<string, string> = {
    ...sage,
    HOME: home,
    PATH: `${REPO}/.tools/bin:${Deno.env.get("PATH")}`,
    SAGE_RUNTIME: "local",
    SAGE_BIN: `${REPO}/sage`,
    SAGE_LOG_LEVEL: "debug",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
  };
  return { home, project, sage, env };
}

/** The `claude mcp list` line of the plugin's server. */
async function serverLine(env: Record<string, string>, cwd: string): Promise<string> {
  const list = await claude(["mcp", "list"], env, cwd);
  ok(list, "claude mcp list");
  const line = list.stdout.split("\n").find((l) => l.startsWith(`${SERVER}:`));
  assert.ok(line, `${SERVER} missing from claude mcp list:\n${list.stdout}`);
  assert.match(line, /Connected/, line);
  assert.doesNotMatch(line, /Failed|✗/, line);
  return line;
}

function assertDetails(details: RunResult): void {
  ok(details, "claude plugin details sage");
  const hooks = details.stdout.match(/Hooks \(6\)\s+(.*)/)?.[1] ?? "";
  for (const event of Object.keys(HOOK_EVENTS)) assert.match(hooks, new RegExp(`\\b${event}\\b`), details.stdout);
  const skills = details.stdout.match(/Skills \(\d+\)\s+(.*)/)?.[1] ?? "";
  for (const name of COMMANDS) assert.match(skills, new RegExp(`\\b${name}\\b`), details.stdout);
  assert.match(details.stdout, /MCP servers \(1\)\s+sage\b/, details.stdout);
}

/** The tools a command may use without asking (its `allowed-tools`). */
async function allowedTools(name: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${PLUGIN}/commands/${name}.md`);
  const line = text.match(/^allowed-tools:\s*(.*)$/m)?.[1] ?? "";
  return line.split(",").map((t) => t.trim()).filter(Boolean);
}

Deno.test("plugin files: one version, hooks.json is HOOK_EVENTS, the run script is the checkout's", async () => {
  const plugin = await readJson(`${PLUGIN}/.claude-plugin/plugin.json`);
  assert.equal(plugin.name, "sage");
  assert.equal(plugin.version, VERSION, "plugin.json's version must be lib/version.ts VERSION");
  for (const key of ["description", "author", "homepage", "license"]) assert.ok(plugin[key], `plugin.json: ${key}`);
  // The repository is named in one place for the images (scripts/image.env); the plugin says the same.
  const source = (await Deno.readTextFile(`${REPO}/scripts/image.env`)).match(/^SAGE_SOURCE=(.+)$/m)?.[1];
  assert.equal(plugin.homepage, source);
  assert.equal(plugin.repository, source);
  const market = await readJson(`${REPO}/.claude-plugin/marketplace.json`);
  assert.deepEqual(market.plugins.map((p: { name: string; source: string }) => [p.name, p.source]), [[
    "sage",
    "./plugin",
  ]]);

  // The hooks the plugin installs are the ones `sage hooks install` writes: same events, matchers and timeouts.
  const { hooks } = await readJson(`${PLUGIN}/hooks/hooks.json`);
  assert.deepEqual(Object.keys(hooks), Object.keys(HOOK_EVENTS));
  for (const [event, spec] of Object.entries(HOOK_EVENTS)) {
    assert.deepEqual(hooks[event], [{
      ...(spec.matcher ? { matcher: spec.matcher } : {}),
      hooks: [{
        type: "command",
        command: `"\${CLAUDE_PLUGIN_ROOT}/scripts/sage-plugin" hook ${event}`,
        timeout: spec.timeout,
      }],
    }], event);
  }
  const mcp = await readJson(`${PLUGIN}/.mcp.json`);
  assert.equal(mcp.mcpServers.sage.command, "${CLAUDE_PLUGIN_ROOT}/scripts/sage-plugin");
  for (const name of ["SAGE_IMAGE", "SAGE_CONTAINER_CLI", "SAGE_VOLUME", "DATABASE_URL", "SAGE_RUNTIME", "SAGE_BIN"]) {
    assert.equal(mcp.mcpServers.sage.env[name], `\${${name}:-}`, name);
  }

  // A symlink in the repository, so the copy Claude Code makes of the plugin folder holds the same script.
  assert.equal(
    await Deno.realPath(`${PLUGIN}/scripts/run_sage_single.sh`),
    await Deno.realPath(`${REPO}/run_sage_single.sh`),
  );
  assert.ok(Deno.lstatSync(`${PLUGIN}/scripts/run_sage_single.sh`).isSymlink);

  for (const name of COMMANDS) {
    for (const tool of await allowedTools(name)) assert.ok(tool.startsWith(TOOL_PREFIX), `${name}: ${tool}`);
  }
  // Deleting always goes through Claude Code's own permission prompt too.
  assert.ok(!(await allowedTools("forget")).some((t) => t.endsWith("delete_memory")));
});

Deno.test("plugin launcher: hooks fail open (exit 0, nothing on stdout), the server says what is wrong", async () => {
  const home = await tempDir("plugin-launcher-");
  const env = (extra: Record<string, string>) => ({
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    ...extra,
  });
  const cases: [string, Record<string, string>, RegExp][] = [
    ["no local sage", { SAGE_RUNTIME: "local", SAGE_BIN: `${home}/missing/sage` }, /no .*missing\/sage to run/],
    ["an unknown runtime", { SAGE_RUNTIME: "cloud" }, /SAGE_RUNTIME="cloud"/],
    ["no container engine", { SAGE_CONTAINER_CLI: `${home}/missing/docker` }, /missing\/docker: no such command/],
  ];
  for (const [what, extra, reason] of cases) {
    const hook = await runCommand(LAUNCHER, ["hook", "UserPromptSubmit"], {
      env: env(extra),
      cwd: home,
      stdin: JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "hello", session_id: "s", cwd: home }),
    });
    assert.equal(hook.code, 0, `${what}: ${hook.stderr}`);
    assert.equal(hook.stdout, "", what);
    assert.match(hook.stderr, reason, what);
    const serve = await runCommand(LAUNCHER, ["serve"], { env: env(extra), cwd: home });
    assert.notEqual(serve.code, 0, what);
    assert.equal(serve.stdout, "", what);
    assert.match(serve.stderr, reason, what);
  }
});

Deno.test("Claude Code plugin from this checkout: validate, install, details, server Connected, hooks run, hooks status", async () => {
  const { home, project, sage, env } = await userSetup("plugin-path-");

  for (const dir of [REPO, PLUGIN]) {
    const v = await claude(["plugin", "validate", dir], env, project);
    ok(v, `claude plugin validate ${dir}`);
    assert.match(v.stdout, /Validation passed/, v.stdout);
  }
  const add = await claude(["plugin", "marketplace", "add", REPO], env, project);
  ok(add, "claude plugin marketplace add");
  assert.match(add.stdout, /Successfully added marketplace: sage/, add.stdout);
  const install = await claude(["plugin", "install", "sage@sage"], env, project);
  ok(install, "claude plugin install");
  assert.match(install.stdout, /Successfully installed plugin: sage@sage/, install.stdout);
  assertDetails(await claude(["plugin", "details", "sage"], env, project));

  // A memory from an earlier session, which the prompt hook must bring back (a note: the session-start digest lists
  // decisions, and what it showed is not shown again in the same session).
  const saved = await runSage(["save", "--kind", "note", "--json", DECISION], {
    env: { ...sage, SAGE_SESSION: "old" },
    cwd: project,
  });
  ok(saved, "sage save");
  const id = JSON.parse(saved.stdout).id;

  const line = await serverLine(env, project);
  assert.ok(line.includes(`${PLUGIN}/scripts/sage-plugin serve`), line); // a path marketplace runs in place

  const debugLog = `${home}/claude-debug.log`;
  const run = await claude(
    [
      "-p",
      "Why did we ship Sage as a Claude Code plugin?",
      "--debug-file",
      debugLog,
      "--output-format",
      "stream-json",
      "--verbose",
    ],
    env,
    project,
  );
  assert.match(run.stdout + run.stderr, /Not logged in/, "expected the no-account run this test is built on");
  const log = await Deno.readTextFile(debugLog);
  for (const event of ["SessionStart", "UserPromptSubmit"]) {
    const ran = new RegExp(
      `${event}(:\\w+)? \\[[^\\]]*sage-plugin"? hook ${event}\\] .*(finished|completed) with status 0`,
    );
    assert.match(log, ran, `Claude Code did not run the plugin's ${event} hook with status 0`);
  }
  assert.doesNotMatch(log, /sage-plugin"? hook \w+\] .*(finished|completed) with status [^0]/);
  const prompt = [...log.matchAll(/Hooks: Parsed initial response: (\{.*\})$/gm)].map((m) => JSON.parse(m[1]))
    .find((p) => p.hookSpecificOutput?.hookEventName === "UserPromptSubmit")?.hookSpecificOutput?.additionalContext;
  assert.ok(prompt?.includes(DECISION) && prompt.includes(`[memory:${id}]`), `UserPromptSubmit context: ${prompt}`);
  const hooksLog = await Deno.readTextFile(`${sage.SAGE_HOME}/logs/hooks.log`);
  for (const event of ["SessionStart", "UserPromptSubmit"]) {
    assert.match(hooksLog, new RegExp(`hook done .*"event":"${event}"`), hooksLog);
  }
  assert.doesNotMatch(hooksLog, /hook failed/, hooksLog);
  // DATABASE_URL reached the server and every hook: none of them made a private cluster instead.
  assert.equal(await exists(`${sage.SAGE_HOME}/pgdata`), false);

  // The session Claude Code set up: the server connected, the commands and every tool they name.
  const init = run.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .find((m) => m.type === "system" && m.subtype === "init");
  assert.ok(init, `no init message in:\n${run.stdout.slice(0, 2000)}`);
  assert.deepEqual(init.mcp_servers.find((s: { name: string }) => s.name === SERVER)?.status, "connected");
  for (const name of COMMANDS) assert.ok(init.slash_commands.includes(`sage:${name}`), `/sage:${name} missing`);
  for (const name of COMMANDS) {
    for (const tool of await allowedTools(name)) assert.ok(init.tools.includes(tool), `${name} names ${tool}`);
  }
  for (const tool of ["search_memory", "get_context", "save_memory", "delete_memory", "get_status"]) {
    assert.ok(init.tools.includes(`${TOOL_PREFIX}${tool}`), tool);
  }

  // Hooks installed by hand as well: `sage hooks status` sees both and says how to remove the manual ones.
  const hooks = (args: string[]) => runSage(["hooks", ...args], { env: { HOME: home }, cwd: project });
  let status = await hooks(["status"]);
  ok(status, "sage hooks status");
  assert.match(status.stdout, /no Sage hooks/);
  assert.match(status.stdout, /Claude Code plugin sage@sage: installed, enabled/);
  assert.equal(status.stderr, "");
  const manual = await hooks(["install"]);
  ok(manual, "sage hooks install");
  assert.match(manual.stderr, /installed twice.*sage hooks uninstall$/m);
  status = await hooks(["status"]);
  assert.match(status.stdout, /Sage hooks for SessionStart/);
  assert.match(status.stderr, /installed twice, by the Claude Code plugin and in .*settings\.json/);
  assert.match(status.stderr, /sage hooks uninstall$/m);
  ok(await hooks(["uninstall"]), "sage hooks uninstall");
  status = await hooks(["status"]);
  assert.match(status.stdout, /no Sage hooks/);
  assert.equal(status.stderr, "");
  // A disabled plugin runs no hooks: hooks installed by hand are then the only ones.
  ok(await claude(["plugin", "disable", "sage@sage"], env, project), "claude plugin disable");
  ok(await hooks(["install", "--local"]), "sage hooks install --local");
  status = await hooks(["status", "--local"]);
  assert.match(status.stdout, /Claude Code plugin sage@sage: installed, disabled/);
  assert.equal(status.stderr, "");
  // Enabled for this project only: the duplicate is reported with the scope to uninstall from.
  ok(await claude(["plugin", "enable", "sage@sage", "--scope", "local"], env, project), "claude plugin enable");
  status = await hooks(["status", "--local"]);
  assert.match(status.stdout, /installed, enabled \(.*settings\.local\.json\)/);
  assert.match(status.stderr, /sage hooks uninstall --local$/m);
});

Deno.test("Claude Code plugin from a git repository: Claude Code runs its copy of the plugin folder", async () => {
  const { home, project, env } = await userSetup("plugin-git-");
  // What a clone of this repository holds, from the working tree: the marketplace, the plugin (symlinks kept), the
  // script it links to, and node_modules and .tools, which must not reach the copy.
  const src = `${home}/src`;
  await Deno.mkdir(`${src}/node_modules/some-package`, { recursive: true });
  await Deno.writeTextFile(`${src}/node_modules/some-package/index.js`, "");
  await Deno.symlink(`${REPO}/.tools`, `${src}/.tools`);
  for (const path of [".claude-plugin", "plugin", "run_sage_single.sh"]) {
    ok(await runCommand("cp", ["-a", `${REPO}/${path}`, `${src}/${path}`], { env, cwd: REPO }), `cp ${path}`);
  }
  const git = (args: string[], cwd = src) => runCommand("git", ["-c", "safe.directory=*", ...args], { env, cwd });
  ok(await git(["init", "-q"]), "git init");
  ok(await git(["add", "-A", "-f", "."]), "git add");
  ok(await git(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "sage"]), "git commit");
  ok(await git(["clone", "-q", "--bare", src, `${home}/served/sage.git`], home), "git clone --bare");

  await using server = serveGit(`${home}/served`, env);
  const add = await claude(["plugin", "marketplace", "add", `${server.url}/sage.git`], env, project);
  ok(add, "claude plugin marketplace add <git url>");
  ok(await claude(["plugin", "install", "sage@sage"], env, project), "claude plugin install");

  const copy = `${home}/.claude/plugins/cache/sage/sage/${VERSION}`;
  const installed = await readJson(`${home}/.claude/plugins/installed_plugins.json`);
  assert.equal(installed.plugins["sage@sage"][0].installPath, copy);
  // The plugin folder alone (Claude Code adds marker files of its own, such as .in_use).
  const names = [...Deno.readDirSync(copy)].map((e) => e.name);
  for (const name of [".claude-plugin", ".mcp.json", "commands", "hooks", "scripts", "skills"]) {
    assert.ok(names.includes(name), `${name} missing from the copy: ${names}`);
  }
  for (const name of ["node_modules", ".tools", ".git", "plugin", "lib"]) {
    assert.ok(!names.includes(name), `${name} should not be in the copy: ${names}`);
  }
  const script = `${copy}/scripts/run_sage_single.sh`;
  assert.ok(Deno.lstatSync(script).isFile, "the copy holds the run script itself, not a link out of the folder");
  assert.equal(await Deno.readTextFile(script), await Deno.readTextFile(`${REPO}/run_sage_single.sh`));
  assertDetails(await claude(["plugin", "details", "sage"], env, project));

  const line = await serverLine(env, project);
  assert.ok(line.includes(`${copy}/scripts/sage-plugin serve`), line);
});

/** A git server on loopback (git's smart HTTP protocol through `git http-backend`), like GitHub for `git clone`. */
function serveGit(root: string, env: Record<string, string>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const child = new Deno.Command("git", {
      args: ["http-backend"],
      env: {
        ...env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "safe.directory",
        GIT_CONFIG_VALUE_0: "*",
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers.get("content-type") ?? "",
        HTTP_CONTENT_ENCODING: req.headers.get("content-encoding") ?? "",
        GIT_PROTOCOL: req.headers.get("git-protocol") ?? "",
        REMOTE_ADDR: "127.0.0.1",
      },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const body = new Uint8Array(await req.arrayBuffer());
    const w = child.stdin.getWriter();
    await w.write(body);
    await w.close();
    const out = (await child.output()).stdout;
    // CGI: header lines, a blank line, the body (latin1 keeps one character per byte, so offsets match).
    const blank = new TextDecoder("latin1").decode(out).match(/\r?\n\r?\n/);
    const end = blank?.index ?? out.length;
    const headers = new Headers();
    let status = 200;
    for (const h of new TextDecoder().decode(out.subarray(0, end)).split(/\r?\n/)) {
      const [name, ...rest] = h.split(":");
      if (name.toLowerCase() === "status") status = parseInt(rest.join(":"));
      else if (name) headers.set(name, rest.join(":").trim());
    }
    return new Response(out.subarray(end + (blank?.[0].length ?? 0)), { status, headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
