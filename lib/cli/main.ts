/**
 * The command-line edge: finds the subcommand, parses its flags (node:util parseArgs), builds the config and
 * runs it. Commands load lazily, so `sage serve` pulls in nothing it does not use. Exit codes: 0 success,
 * 1 failure (the message says why), 2 bad usage, 3 `sage db status` when the private cluster is not running.
 */
import { parseArgs } from "node:util";
import { type GlobalFlags, loadConfig, sageHome } from "../config.ts";
import { describeError, SageError } from "../errors.ts";
import { configureLog } from "../log.ts";
import { VERSION } from "../version.ts";
import { loadLater } from "../modules.ts";
import type { CommandSpec, OptionSpec } from "./command.ts";

const loadApp = () => loadLater<typeof import("../app.ts")>(new URL("../app.ts", import.meta.url));

/** A command's module (lib/cli/<file>.ts), loaded when it runs. */
const commandModule = (file: string) => loadLater<{ command: CommandSpec }>(new URL(`./${file}.ts`, import.meta.url));

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: CommandSpec }> }> = {
  serve: { summary: "run the MCP server on stdio (the default)", load: () => commandModule("serve") },
  status: { summary: "show database, model and memory counts", load: () => commandModule("status") },
  search: { summary: "search memories", load: () => commandModule("search") },
  save: { summary: "save a memory", load: () => commandModule("save") },
  export: { summary: "export memories as JSONL or Markdown", load: () => commandModule("export") },
  import: { summary: "import memories from JSONL", load: () => commandModule("import") },
  view: { summary: "write a page to browse, search and prune memories; open it", load: () => commandModule("view") },
  delete: { summary: "delete memories by id", load: () => commandModule("delete") },
  migrate: { summary: "apply database migrations", load: () => commandModule("migrate") },
  reindex: { summary: "re-embed memories with the current model", load: () => commandModule("reindex") },
  backfill: {
    summary: "import Claude Code's past conversations from its transcripts",
    load: () => commandModule("backfill"),
  },
  doctor: {
    summary: "check database, pgvector, model and permissions; say what to fix",
    load: () => commandModule("doctor"),
  },
  db: { summary: "start, stop or inspect the private PostgreSQL cluster", load: () => commandModule("db") },
  hook: {
    summary: "handle a Claude Code hook event (reads its JSON on stdin)",
    load: () => commandModule("hook_event"),
  },
  hooks: { summary: "install or remove Sage's Claude Code hooks", load: () => commandModule("hooks_settings") },
  selftest: { summary: "check the model and keyword analysis (offline)", load: () => commandModule("selftest") },
};

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  "db-url": { type: "string", arg: "URL", help: "PostgreSQL URL (default: DATABASE_URL, else Sage's private cluster)" },
  "embed-model": {
    type: "string",
    arg: "DIR",
    help: "embedding model folder (default: SAGE_EMBED_MODEL, else the bundled model)",
  },
  home: { type: "string", arg: "DIR", help: "data directory (default: SAGE_HOME, else ~/.sage)" },
  project: {
    type: "string",
    arg: "PATH",
    help: "project (default: SAGE_PROJECT, else the git root of the working directory)",
  },
  session: { type: "string", arg: "ID", help: "session to save into (default: SAGE_SESSION)" },
  "log-level": {
    type: "string",
    arg: "LEVEL",
    help: "debug, info, warn, error or silent (default: SAGE_LOG_LEVEL, else info)",
  },
  help: { type: "boolean", short: "h", help: "show help" },
  version: { type: "boolean", short: "V", help: "show the version" },
};

export async function main(argv: string[]): Promise<number> {
  const name = findCommand(argv);
  if (name !== undefined && !COMMANDS[name]) {
    printError(`unknown command "${name}"`, "Run `sage --help` for the list of commands.");
    return 2;
  }
  const rest = name === undefined ? argv : argv.filter((_a, i) => i !== argv.indexOf(name));
  if (name === undefined && (rest.includes("--version") || rest.includes("-V"))) {
    console.log(`sage ${VERSION}`);
    return 0;
  }
  if (name === undefined && (rest.includes("--help") || rest.includes("-h"))) {
    console.log(mainHelp());
    return 0;
  }
  const { command } = await COMMANDS[name ?? "serve"].load();
  const options = { ...GLOBAL_OPTIONS, ...(command.options ?? {}) };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) },
        ]),
      ),
    });
  } catch (err) {
    if (command.failOpen) return failOpen((err as Error).message);
    printError((err as Error).message.replace(/^.*?: /, ""), `Run \`sage ${command.name} --help\` for its options.`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) {
    console.log(commandHelp(command));
    return 0;
  }
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const problem = parsed.positionals.length < min
      ? "missing argument"
      : `unexpected argument "${parsed.positionals[max]}"`;
    if (command.failOpen) return failOpen(problem);
    printError(problem, `Usage: sage ${command.usage}`);
    return 2;
  }
  let service: import("../memory/service.ts").MemoryService | undefined;
  try {
    // Only global flags the command keeps as they are (`hooks --project` is a scope switch, not a project).
    const globals = Object.fromEntries(
      Object.keys(GLOBAL_OPTIONS)
        .filter((k) => !command.options?.[k] || command.options[k].type === GLOBAL_OPTIONS[k].type)
        .map((k) => [k, values[k]]),
    ) as GlobalFlags;
    // The server logs what it does; a command the user typed only warns.
    const config = loadConfig(globals, undefined, command.name === "serve" ? "info" : "warn");
    configureLog({ level: config.logLevel, file: config.logFile, stderr: true });
    return await command.run({
      config,
      values,
      positionals: parsed.positionals,
      // Loaded on first use: `serve` and `hook` start without the service's module graph.
      service: async () => (service ??= (await loadApp()).createService(config)),
    });
  } catch (err) {
    // A hook must never stand in Claude Code's way: exit 2 from UserPromptSubmit would block the prompt, and
    // Claude Code may show a hook's stderr. The reason goes to the hooks log instead.
    if (command.failOpen) return failOpen(describeError(err));
    printError(describeError(err));
    return err instanceof SageError && err.code === "invalid_input" ? 2 : 1;
  } finally {
    await service?.close();
  }
}

/** For fail-open commands (hooks): nothing on stdout or stderr, exit 0, the reason in $SAGE_HOME/logs/hooks.log. */
function failOpen(reason: string): number {
  try {
    const dir = `${sageHome()}/logs`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.writeTextFileSync(`${dir}/hooks.log`, `${new Date().toISOString()} sage error: ${reason}\n`, { append: true });
  } catch {
    // nowhere to log: stay silent anyway
  }
  return 0;
}

/** The first argument that is neither a flag nor the value of a global flag that takes one. */
function findCommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return argv[i + 1];
    if (a.startsWith("-")) {
      const key = a.replace(/^-+/, "");
      if (!a.includes("=") && GLOBAL_OPTIONS[key]?.type === "string") i++;
      continue;
    }
    return a;
  }
  return undefined;
}

function printError(message: string, hint?: string): void {
  console.error(`sage: ${message}${hint ? `\n${hint}` : ""}`);
}

function optionLines(options: Record<string, OptionSpec>): string {
  return Object.entries(options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${k}${o.arg ? ` ${o.arg}` : ""}`;
    return `  ${flag.padEnd(30)} ${o.help}`;
  }).join("\n");
}

function mainHelp(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join("\n");
  return `sage ${VERSION}: long-term memory for Claude Code (MCP server over stdio)

Usage: sage [command] [options]

Commands:
${cmds}

Global options:
${optionLines(GLOBAL_OPTIONS)}

Register with Claude Code:  claude mcp add sage -- <path to sage> serve
Run \`sage <command> --help\` for a command's options.`;
}

function commandHelp(c: CommandSpec): string {
  return `Usage: sage ${c.usage}

${c.summary}${c.details ? `\n\n${c.details}` : ""}
${c.options ? `\nOptions:\n${optionLines(c.options)}\n` : ""}
Global options:
${optionLines(GLOBAL_OPTIONS)}`;
}
