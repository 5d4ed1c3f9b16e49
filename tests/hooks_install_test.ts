/**
 * `sage hooks install | uninstall | status`, run as a process on settings files like the ones Claude Code users
 * have: other people's hooks for the same events and for others, other keys. Install adds exactly Sage's entries,
 * uninstall gives back the original JSON, and the installed command lines survive the shell Claude Code runs
 * them with (paths with spaces, quotes, `$`; Windows paths).
 */
import assert from "node:assert/strict";
import { addSageHooks, HOOK_EVENTS, hookCommand, isSageCommand, removeSageHooks } from "../lib/hooks/settings.ts";
import { REPO, type RunResult, runSage, tempDir } from "./support/harness.ts";

const ORIGINAL = {
  model: "opus",
  permissions: { allow: ["Bash(npm test:*)"], deny: ["Read(./.env)"] },
  env: { FOO: "1" },
  hooks: {
    Stop: [{ hooks: [{ type: "command", command: "afplay /System/Library/Sounds/Glass.aiff" }] }],
    UserPromptSubmit: [
      { hooks: [{ type: "command", command: "/usr/local/bin/prompt-guard", timeout: 5 }] },
      // Not Sage's, though they look close: another tool under a "sage" folder, a word ending in "sage".
      { hooks: [{ type: "command", command: "/opt/sage/bin/other-tool hook UserPromptSubmit" }] },
    ],
    PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "~/.claude/hooks/check-bash.sh" }] }],
    SessionStart: [{
      matcher: "startup",
      hooks: [
        { type: "command", command: "echo started" },
        { type: "command", command: "usage-report hook SessionStart" },
      ],
    }],
  },
  statusLine: { type: "command", command: "~/.claude/statusline.sh" },
};

async function hooks(args: string[], home: string, cwd?: string): Promise<RunResult> {
  return await runSage(["hooks", ...args], { env: { HOME: home }, cwd });
}

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

type Groups = { matcher?: string; hooks: { type: string; command: string; timeout?: number }[] }[];

/** The commands of one event's groups. */
function commands(settings: Record<string, unknown>, event: string): string[] {
  const groups = (settings.hooks as Record<string, Groups>)[event] ?? [];
  return groups.flatMap((g) => g.hooks.map((h) => h.command));
}

Deno.test("hooks install: adds exactly Sage's entries next to others', twice is once, uninstall restores the original", async () => {
  const home = await tempDir("hooks-install-");
  const path = `${home}/settings.json`;
  const original = JSON.stringify(ORIGINAL, null, 4) + "\n"; // the user's own formatting
  await Deno.writeTextFile(path, original);

  ok(await hooks(["install", "--settings", path], home), "install");
  const installed = await readJson(path);
  const { hooks: before, ...rest } = ORIGINAL;
  const { hooks: after, ...restAfter } = installed;
  assert.deepEqual(restAfter, rest, "other keys changed");
  const afterHooks = after as Record<string, Groups>;
  assert.deepEqual(
    Object.keys(afterHooks).sort(),
    [...new Set([...Object.keys(before), ...Object.keys(HOOK_EVENTS)])].sort(),
  );
  assert.deepEqual(afterHooks.PreToolUse, before.PreToolUse);
  for (const [event, spec] of Object.entries(HOOK_EVENTS)) {
    const theirs = (before as Record<string, Groups>)[event] ?? [];
    const groups = afterHooks[event];
    assert.deepEqual(groups.slice(0, theirs.length), theirs, `${event}: others' entries changed`);
    assert.equal(groups.length, theirs.length + 1, `${event}: not exactly one Sage group`);
    const sage = groups[theirs.length];
    assert.deepEqual(sage, {
      ...(spec.matcher ? { matcher: spec.matcher } : {}),
      hooks: [{ type: "command", command: `${REPO}/sage hook ${event}`, timeout: spec.timeout }],
    });
  }
  const status = await hooks(["status", "--settings", path], home);
  ok(status, "status");
  const listed = status.stdout.match(/^(.*): Sage hooks for (.*)\n$/);
  assert.ok(listed, status.stdout);
  assert.equal(listed[1], path);
  assert.deepEqual(listed[2].split(", ").sort(), Object.keys(HOOK_EVENTS).sort());

  const once = await Deno.readTextFile(path);
  const again = await hooks(["install", "--settings", path], home);
  ok(again, "install again");
  assert.match(again.stdout, /already installed; nothing changed/);
  assert.equal(await Deno.readTextFile(path), once, "a second install changed the file");

  ok(await hooks(["uninstall", "--settings", path], home), "uninstall");
  assert.deepEqual(await readJson(path), ORIGINAL);
  const twice = await hooks(["uninstall", "--settings", path], home);
  ok(twice, "uninstall again");
  assert.match(twice.stdout, /without Sage hooks; nothing changed/);
  const none = await hooks(["status", "--settings", path], home);
  assert.equal(none.stdout, `${path}: no Sage hooks\n`);
});

Deno.test("hooks install: an older Sage entry is replaced, not duplicated; an empty hooks object is left alone", async () => {
  const home = await tempDir("hooks-install-");
  const path = `${home}/settings.json`;
  const old = {
    hooks: {
      Stop: [
        {
          hooks: [{ type: "command", command: "afplay done.aiff" }, {
            type: "command",
            command: '"/old place/sage" hook Stop',
          }],
        },
      ],
      SessionEnd: [{
        hooks: [{ type: "command", command: "/old/run_sage_single.sh --quiet hook SessionEnd", timeout: 9 }],
      }],
    },
  };
  await Deno.writeTextFile(path, JSON.stringify(old));
  ok(await hooks(["install", "--settings", path], home), "install over an older one");
  const s = await readJson(path);
  assert.deepEqual(commands(s, "Stop"), ["afplay done.aiff", `${REPO}/sage hook Stop`]);
  assert.deepEqual(commands(s, "SessionEnd"), [`${REPO}/sage hook SessionEnd`]);
  ok(await hooks(["uninstall", "--settings", path], home), "uninstall");
  assert.deepEqual(await readJson(path), {
    hooks: { Stop: [{ hooks: [{ type: "command", command: "afplay done.aiff" }] }] },
  });

  // Nothing of Sage's in the file: uninstall must not touch it (it used to drop an empty "hooks").
  const mine = JSON.stringify({ hooks: {}, model: "sonnet" }, null, 2) + "\n";
  await Deno.writeTextFile(path, mine);
  ok(await hooks(["uninstall", "--settings", path], home), "uninstall with nothing to remove");
  assert.equal(await Deno.readTextFile(path), mine);
});

Deno.test("hooks install: --dry-run prints the change and writes nothing", async () => {
  const home = await tempDir("hooks-install-");
  const path = `${home}/settings.json`;
  const original = JSON.stringify(ORIGINAL);
  await Deno.writeTextFile(path, original);
  const mtime = (await Deno.stat(path)).mtime;
  const r = await hooks(["install", "--settings", path, "--dry-run"], home);
  ok(r, "install --dry-run");
  assert.ok(r.stderr.startsWith(`${path} would become:\n`), r.stderr);
  const shown = JSON.parse(r.stdout); // stdout is exactly the settings file it would write
  assert.deepEqual(commands(shown, "Stop"), ["afplay /System/Library/Sounds/Glass.aiff", `${REPO}/sage hook Stop`]);
  assert.equal(await Deno.readTextFile(path), original);
  assert.deepEqual((await Deno.stat(path)).mtime, mtime);

  const missing = `${home}/new/settings.json`;
  ok(await hooks(["install", "--settings", missing, "--dry-run"], home), "install --dry-run, no file");
  await assert.rejects(Deno.stat(missing), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(`${home}/new`), Deno.errors.NotFound);

  ok(await hooks(["install", "--settings", path], home), "install");
  const installed = await Deno.readTextFile(path);
  const u = await hooks(["uninstall", "--settings", path, "--dry-run"], home);
  ok(u, "uninstall --dry-run");
  assert.deepEqual(JSON.parse(u.stdout), ORIGINAL);
  assert.equal(await Deno.readTextFile(path), installed);
});

Deno.test("hooks install: --user is ~/.claude/settings.json; --local is the git root's .claude/settings.local.json", async () => {
  const home = await tempDir("hooks-install-");
  const project = `${home}/work/repo`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  await Deno.mkdir(`${project}/src/lib`, { recursive: true });

  ok(await hooks(["install"], home, `${project}/src/lib`), "install (default: --user)");
  ok(await hooks(["install", "--user"], home), "install --user");
  assert.deepEqual(commands(await readJson(`${home}/.claude/settings.json`), "Stop"), [`${REPO}/sage hook Stop`]);

  ok(await hooks(["install", "--local"], home, `${project}/src/lib`), "install --local");
  const local = `${project}/.claude/settings.local.json`;
  assert.deepEqual(commands(await readJson(local), "UserPromptSubmit"), [`${REPO}/sage hook UserPromptSubmit`]);
  await assert.rejects(Deno.stat(`${project}/src/lib/.claude`), Deno.errors.NotFound);

  ok(await hooks(["uninstall", "--local"], home, project), "uninstall --local");
  await assert.rejects(Deno.stat(local), Deno.errors.NotFound, "a file only Sage wrote is removed");
  ok(await hooks(["uninstall"], home), "uninstall --user");
  await assert.rejects(Deno.stat(`${home}/.claude/settings.json`), Deno.errors.NotFound);

  const both = await hooks(["install", "--user", "--local"], home, project);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /choose one of --user, --project, --local, --settings/);
});

Deno.test("hooks install: --project writes the git root's .claude/settings.json", async () => {
  const home = await tempDir("hooks-install-");
  const project = `${home}/repo`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  await Deno.mkdir(`${project}/src`, { recursive: true });
  ok(await hooks(["install", "--project"], home, `${project}/src`), "install --project");
  assert.deepEqual(commands(await readJson(`${project}/.claude/settings.json`), "Stop"), [`${REPO}/sage hook Stop`]);
  const status = await hooks(["status", "--project"], home, project);
  ok(status, "status --project");
  assert.match(status.stdout, /Sage hooks for SessionStart/);
});

Deno.test("hooks install: an invalid settings file is an error and is left unchanged", async () => {
  const home = await tempDir("hooks-install-");
  const cases = ['{ "hooks": { "Stop": [ }', "[1, 2]", '{"hooks": []}', '{"hooks": {"Stop": {"not": "a list"}}}'];
  for (const [i, text] of cases.entries()) {
    const path = `${home}/bad-${i}.json`;
    await Deno.writeTextFile(path, text);
    for (const action of ["install", "uninstall"]) {
      const r = await hooks([action, "--settings", path], home);
      if (action === "uninstall" && i >= 2) {
        // Nothing of Sage's to remove from a file whose "hooks" has an odd shape: left as it is.
        ok(r, `${action} on ${text}`);
      } else {
        assert.notEqual(r.code, 0, `${action} accepted ${text}: ${r.stdout}`);
        assert.match(r.stderr, /not valid JSON|not an object|not a list/, r.stderr);
        assert.equal(r.stdout, "");
      }
      assert.equal(await Deno.readTextFile(path), text, `${action} changed ${text}`);
    }
  }
  const leftovers = [...Deno.readDirSync(home)].filter((e) => e.name.includes(".tmp"));
  assert.deepEqual(leftovers, []);
});

/** Runs an installed command line with a shell, as Claude Code does; the stub records its argv and stdin. */
async function runWithShell(command: string, stdin: string): Promise<void> {
  const child = new Deno.Command("sh", { args: ["-c", command], stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  assert.equal(out.code, 0, `sh -c ${command}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("hooks install: paths with spaces, quotes and $ are quoted so the shell runs them", async () => {
  const home = await tempDir("hooks-install-");
  const log = `${home}/argv.txt`;
  for (const dir of [`${home}/My Tools`, `${home}/it's "odd" $HOME \`x\` dir`]) {
    await Deno.mkdir(dir, { recursive: true });
    const sage = `${dir}/sage`;
    // A stand-in for sage that records what the shell gave it.
    await Deno.writeTextFile(
      sage,
      `#!/bin/sh\nprintf '%s\\n' "$0" "$@" > '${log}'\ncat >> '${log}'\n`,
    );
    await Deno.chmod(sage, 0o755);
    const path = `${home}/settings.json`;
    ok(await hooks(["install", "--settings", path, "--command", sage], home), `install --command ${sage}`);
    const settings = await readJson(path);
    for (const event of ["Stop", "UserPromptSubmit"]) {
      const [command] = commands(settings, event);
      assert.ok(isSageCommand(command), `not recognised as Sage's: ${command}`);
      await runWithShell(command, '{"hook_event_name":"x"}');
      assert.equal(await Deno.readTextFile(log), `${sage}\nhook\n${event}\n{"hook_event_name":"x"}`);
    }
    ok(await hooks(["uninstall", "--settings", path], home), "uninstall");
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound, `Sage's entries for ${sage} were not all removed`);
  }
});

Deno.test("hooks install: Windows paths become forward-slash, quoted commands that bash splits right", async () => {
  const cases: [string[], string][] = [
    [["C:\\Program Files\\Sage\\sage.exe"], '"C:/Program Files/Sage/sage.exe" hook Stop'],
    [["C:\\tools\\sage.exe"], "C:/tools/sage.exe hook Stop"],
    [["D:\\Users\\Zoë Li\\sage\\run_sage_single.cmd"], '"D:/Users/Zoë Li/sage/run_sage_single.cmd" hook Stop'],
  ];
  for (const [exe, expected] of cases) {
    const command = hookCommand(exe, "Stop");
    assert.equal(command, expected);
    assert.ok(isSageCommand(command), command);
    // What bash (Git Bash runs Claude Code's hooks on Windows) makes of it: the program and two arguments.
    const out = await new Deno.Command("bash", {
      args: ["-c", 'eval "set -- $1"; printf "%s\\n" "$@"', "bash", command],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(out.stdout), `${exe[0].replaceAll("\\", "/")}\nhook\nStop\n`);
  }
  // Installing and removing with such a path touches nothing else.
  const settings = structuredClone(ORIGINAL);
  const added = addSageHooks(settings, ["C:\\Program Files\\Sage\\sage.exe"]);
  assert.ok(commands(added, "PreCompact").includes('"C:/Program Files/Sage/sage.exe" hook PreCompact'));
  assert.deepEqual(removeSageHooks(added), ORIGINAL);
  assert.deepEqual(settings, ORIGINAL, "addSageHooks changed its input");
});

Deno.test("hooks install: an explicit database and data folder go into the hook commands; a password stays out of shared settings", async () => {
  const home = await tempDir("hooks-db-");
  const path = `${home}/settings.json`;
  const url = "postgresql://sage@/memories?host=/var/run/sage";
  const r = await runSage(["hooks", "install", "--settings", path, "--db-url", url, "--home", `${home}/data dir`], {
    env: { HOME: home },
  });
  ok(r, "install with --db-url");
  for (const c of commands(await readJson(path), "Stop")) {
    assert.match(c, /--db-url "postgresql:\/\/sage@\/memories\?host=\/var\/run\/sage"/);
    assert.match(c, /--home ".*\/data dir" hook Stop$/);
  }
  // The commands are still recognised as Sage's: uninstall removes them.
  ok(await hooks(["uninstall", "--settings", path], home), "uninstall");
  assert.equal(await Deno.stat(path).then(() => true, () => false), false);

  const project = `${home}/repo`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  const secret = await runSage([
    "hooks",
    "install",
    "--project",
    "--db-url",
    "postgres://sage:s3cret@db.example.com/sage",
  ], {
    env: { HOME: home },
    cwd: project,
  });
  assert.equal(secret.code, 2, secret.stdout + secret.stderr);
  assert.match(secret.stderr, /holds a password/);
  assert.equal(await Deno.stat(`${project}/.claude/settings.json`).then(() => true, () => false), false);
});
