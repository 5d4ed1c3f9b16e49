/**
 * `sage hooks install | uninstall | status`: Sage's entries in Claude Code's settings (lib/hooks/settings.ts).
 */
import { invalid } from "../errors.ts";
import { exists } from "../files.ts";
import {
  addSageHooks,
  HOOK_EVENTS,
  isSageCommand,
  readSettings,
  removeSageHooks,
  type Settings,
  writeSettings,
} from "../hooks/settings.ts";
import { type PluginState, sagePluginState } from "../hooks/plugin.ts";
import { findProjectRoot, normalizeProject } from "../project.ts";
import { type CommandContext, type CommandSpec, note, out } from "./command.ts";

export const command: CommandSpec = {
  name: "hooks",
  summary: "Install or remove Sage's Claude Code hooks (automatic capture and recall), or show where they are.",
  usage: "hooks <install | uninstall | status> [--user | --project | --local | --settings FILE] [--dry-run]",
  details: [
    "--user (default) writes ~/.claude/settings.json: every project. --project writes <project>/.claude/settings.json",
    "(shared with the team), --local <project>/.claude/settings.local.json (just you). Other hooks in the file are",
    "kept; uninstall removes exactly Sage's entries. The hooks run this sage (or --command, e.g. run_sage_single.sh),",
    "with the --db-url / DATABASE_URL and --home / SAGE_HOME given here, since hooks do not see the MCP server's",
    "environment.",
  ].join("\n"),
  options: {
    user: { type: "boolean", help: "~/.claude/settings.json (default)" },
    project: { type: "boolean", help: "<project>/.claude/settings.json" },
    local: { type: "boolean", help: "<project>/.claude/settings.local.json" },
    settings: { type: "string", arg: "FILE", help: "this settings file instead" },
    command: { type: "string", arg: "PATH", help: "program the hooks run (default: this sage)" },
    "dry-run": { type: "boolean", help: "print the change, write nothing" },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const action = ctx.positionals[0];
    if (!["install", "uninstall", "status"].includes(action)) {
      throw invalid(`unknown action "${action}"; use install, uninstall or status`);
    }
    const path = settingsPath(ctx);
    const before = await readSettings(path);
    const { plugin, claude } = await pluginState(ctx);
    const active = plugin?.installed && plugin.enabled;
    if (action === "status") {
      const installed = Object.entries(before?.hooks ?? {}).filter(([, groups]) =>
        Array.isArray(groups) && groups.some((g) => g?.hooks?.some((h) => isSageCommand(h?.command)))
      ).map(([event]) => event);
      out(installed.length ? `${path}: Sage hooks for ${installed.join(", ")}` : `${path}: no Sage hooks`);
      if (plugin) out(describePlugin(plugin));
      if (installed.length && active) note(duplicateWarning(path, before!, claude));
      return 0;
    }
    const base: Settings = before ?? {};
    const after = action === "install" ? addSageHooks(base, hookExecutable(ctx)) : removeSageHooks(base);
    const same = JSON.stringify(after) === JSON.stringify(base);
    if (ctx.values["dry-run"]) {
      // The settings as they would be on stdout (redirectable to a file), the explanation on stderr.
      note(same ? `${path}: nothing to change` : `${path} would become:`);
      if (!same) out(JSON.stringify(after, null, 2));
      return 0;
    }
    if (same && before !== null) {
      out(`${path}: already ${action === "install" ? "installed" : "without Sage hooks"}; nothing changed`);
      return 0;
    }
    if (action === "uninstall" && before === null) {
      out(`${path} does not exist; nothing to remove`);
      return 0;
    }
    if (action === "uninstall" && !Object.keys(after).length) await Deno.remove(path);
    else await writeSettings(path, after);
    out(
      action === "install"
        ? `installed Sage hooks (${Object.keys(HOOK_EVENTS).join(", ")}) in ${path}`
        : `removed Sage hooks from ${path}`,
    );
    if (action === "install" && active) note(duplicateWarning(path, after, claude));
    return 0;
  },
};

function settingsPath(ctx: CommandContext): string {
  const chosen = ["user", "project", "local", "settings"].filter((k) => ctx.values[k] !== undefined);
  if (chosen.length > 1) {
    throw invalid(
      `choose one of --user, --project, --local, --settings (got ${chosen.map((c) => `--${c}`).join(", ")})`,
    );
  }
  if (ctx.values.settings) return ctx.values.settings as string;
  if (ctx.values.project || ctx.values.local) {
    const root = ctx.config.project ? normalizeProject(ctx.config.project) : findProjectRoot(ctx.config.cwd);
    return `${root}/.claude/${ctx.values.local ? "settings.local.json" : "settings.json"}`;
  }
  return `${claudeDir()}/settings.json`;
}

/** Claude Code's own folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. */
function claudeDir(): string {
  const dir = Deno.env.get("CLAUDE_CONFIG_DIR");
  if (dir) return dir.replace(/[\\/]+$/, "");
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) throw invalid("cannot find your home directory; use --settings FILE");
  return `${home.replace(/[\\/]+$/, "")}/.claude`;
}

/**
 * Sage's Claude Code plugin (which runs the same hooks from its own hooks.json) and Claude Code's folder. With
 * `--settings FILE` in a folder that holds Claude Code's plugin registry (run_sage_single.sh names the mounted
 * ~/.claude that way), that folder is Claude Code's. Never fails: it only adds a line to what the command says.
 */
async function pluginState(ctx: CommandContext): Promise<{ plugin: PluginState | null; claude?: string }> {
  try {
    const folder = (ctx.values.settings as string | undefined)?.replace(/[\\/][^\\/]*$/, "");
    const claude = folder && await exists(`${folder}/plugins`) ? folder : claudeDir();
    const project = ctx.config.project ? normalizeProject(ctx.config.project) : findProjectRoot(ctx.config.cwd);
    return { plugin: await sagePluginState(claude, project), claude };
  } catch {
    return { plugin: null };
  }
}

function describePlugin(plugin: PluginState): string {
  const state = `${plugin.installed ? "installed" : "not installed"}, ${plugin.enabled ? "enabled" : "disabled"}`;
  return `Claude Code plugin ${plugin.id}: ${state}${plugin.decidedBy ? ` (${plugin.decidedBy})` : ""}` +
    (plugin.installed && plugin.enabled ? "; it runs Sage's hooks itself" : "");
}

/** The plugin and this settings file both run Sage's hooks: how to remove the manual ones, with the right scope. */
function duplicateWarning(path: string, settings: Settings, claude?: string): string {
  const flag = path === `${claude}/settings.json`
    ? ""
    : path.endsWith("/.claude/settings.local.json")
    ? " --local"
    : path.endsWith("/.claude/settings.json")
    ? " --project"
    : ` --settings ${path}`;
  const viaScript = JSON.stringify(settings.hooks ?? {}).includes("run_sage_single");
  return `warning: Sage's hooks are installed twice, by the Claude Code plugin and in ${path}, so Claude Code runs ` +
    `each of them twice. Keep the plugin and remove the others: ` +
    `${viaScript ? "run_sage_single.sh" : "sage"} hooks uninstall${flag}`;
}

/**
 * The command line hooks run. Claude Code gives hooks its own environment, not the `-e DATABASE_URL=…` given to
 * `claude mcp add`; a database or data directory chosen explicitly is therefore written into the command, so
 * hooks reach the same memories (and the same server) as the MCP server.
 */
function hookExecutable(ctx: CommandContext): string[] {
  const exe = [ctx.values.command as string ?? sageExecutable()];
  const url = ctx.config.dbUrl;
  if (url) {
    if (ctx.values.project && /\/\/[^/@:]+:[^@/]+@/.test(url)) {
      throw invalid(
        "the database URL holds a password, and --project settings are shared (usually committed)",
        "Use --user or --local, or start Claude Code with DATABASE_URL in its environment and install without it.",
      );
    }
    exe.push("--db-url", url);
  }
  const home = (ctx.values.home as string | undefined) ?? Deno.env.get("SAGE_HOME");
  if (home) exe.push("--home", home);
  return exe;
}

/** How hooks should run this Sage: the compiled binary itself, or the checkout's ./sage launcher. */
function sageExecutable(): string {
  const exe = Deno.execPath();
  const name = exe.split(/[\\/]/).pop()!.toLowerCase();
  if (!/^deno(\.exe)?$/.test(name)) return exe; // compiled: this binary is sage
  return decodeURIComponent(new URL("../../sage", import.meta.url).pathname);
}
