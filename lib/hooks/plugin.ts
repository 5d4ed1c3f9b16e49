/**
 * Whether Claude Code runs Sage's plugin (plugin/ in this repository: its hooks/hooks.json runs Sage's hooks), read
 * from Claude Code's own files, as Claude Code 2.1 lays them out:
 * - `<claude dir>/plugins/installed_plugins.json`: `{"version": 2, "plugins": {"sage@sage": [{scope, installPath,
 *   projectPath?}, …]}}`, written by `claude plugin install`;
 * - `enabledPlugins` (`{"sage@sage": true | false}`) in the user settings (`<claude dir>/settings.json`), the project's
 *   `.claude/settings.json` and its `.claude/settings.local.json`; the most specific file that names the plugin wins,
 *   as in Claude Code (local over project over user).
 * The claude dir is `$CLAUDE_CONFIG_DIR`, else `~/.claude`. Any plugin named `sage` counts, whatever its marketplace.
 * Unreadable or foreign-shaped files count as "not there": this only informs `sage hooks status`.
 */

export interface PluginState {
  /** The plugin id, `sage@<marketplace>`. */
  id: string;
  installed: boolean;
  enabled: boolean;
  /** The settings file whose `enabledPlugins` decided `enabled`, if any names the plugin. */
  decidedBy?: string;
}

/** Sage's plugin as Claude Code sees it for `project`, or null when it is neither installed nor named in settings. */
export async function sagePluginState(claudeDir: string, project: string): Promise<PluginState | null> {
  const installed = Object.keys(objectAt(await readJson(`${claudeDir}/plugins/installed_plugins.json`), "plugins"))
    .filter(isSage);
  const settings = [
    `${claudeDir}/settings.json`,
    `${project}/.claude/settings.json`,
    `${project}/.claude/settings.local.json`,
  ];
  const named = new Set(installed);
  let decided: { id: string; enabled: boolean; file: string } | undefined;
  for (const file of settings) {
    for (const [id, value] of Object.entries(objectAt(await readJson(file), "enabledPlugins"))) {
      if (!isSage(id)) continue;
      named.add(id);
      decided = { id, enabled: value === true, file };
    }
  }
  if (!named.size) return null;
  const id = decided?.id ?? [...named][0];
  return { id, installed: installed.includes(id), enabled: decided?.enabled ?? false, decidedBy: decided?.file };
}

function isSage(id: string): boolean {
  return id.split("@")[0] === "sage";
}

function objectAt(value: unknown, key: string): Record<string, unknown> {
  const inner = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  return inner && typeof inner === "object" && !Array.isArray(inner) ? inner as Record<string, unknown> : {};
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}
