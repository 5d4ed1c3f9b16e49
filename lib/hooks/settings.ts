/**
 * Sage's entries in Claude Code's settings JSON (`hooks` → event → matcher groups → commands).
 *
 * Install merges one group per event whose command is `"<sage>" hook <Event>`; uninstall removes exactly the
 * commands that are Sage's (`… sage hook <Event>`, also via the container's run script) and nothing else,
 * dropping only the groups and keys that Sage's removal left empty. Both are idempotent. Paths are written
 * double-quoted with forward slashes: that works for spaces, and for Windows, where Claude Code runs hooks
 * with bash.
 */
import { invalid, SageError } from "../errors.ts";

/** The events Sage listens to, with how long Claude Code should wait for each (seconds). */
export const HOOK_EVENTS: Record<string, { timeout: number; matcher?: string }> = {
  SessionStart: { timeout: 15, matcher: "startup|resume|clear|compact" },
  UserPromptSubmit: { timeout: 10 },
  Stop: { timeout: 60 },
  SubagentStop: { timeout: 60 },
  PreCompact: { timeout: 120 },
  SessionEnd: { timeout: 60 },
};

interface HookCommand {
  type: string;
  command?: string;
  timeout?: number;
  [k: string]: unknown;
}
interface MatcherGroup {
  matcher?: string;
  hooks?: HookCommand[];
  [k: string]: unknown;
}
export type Settings = Record<string, unknown> & { hooks?: Record<string, MatcherGroup[]> };

/** A command line for the shell Claude Code runs hooks with. */
export function hookCommand(executable: string[], event: string): string {
  return [...executable.map(shellQuote), "hook", event].join(" ");
}

function shellQuote(arg: string): string {
  const path = /^[A-Za-z]:\\/.test(arg) ? arg.replace(/\\/g, "/") : arg;
  if (/^[\w@%+=:,./-]+$/.test(path)) return path;
  return `"${path.replace(/(["\\$`])/g, "\\$1")}"`;
}

const SAGE_COMMAND =
  /(^|[\s"'/\\])(sage|sage\.exe|sage\.cmd|run_sage_single\.sh|run_sage_single\.ps1|run_sage_single\.cmd)["']?(\s+[^\s]+)*?\s+hook\s+([A-Za-z]+)\s*$/;

/** True for a command Sage installed (any path, any event). */
export function isSageCommand(command: unknown): boolean {
  return typeof command === "string" && SAGE_COMMAND.test(command.trim());
}

/** Settings with Sage's hooks added (replacing any older Sage entries). `executable`: how to run sage. */
export function addSageHooks(settings: Settings, executable: string[]): Settings {
  const next = removeSageHooks(structuredClone(settings));
  const hooks = (next.hooks ??= {});
  if (typeof hooks !== "object" || Array.isArray(hooks)) throw invalid('"hooks" in the settings file is not an object');
  for (const [event, spec] of Object.entries(HOOK_EVENTS)) {
    const groups = hooks[event] ??= [];
    if (!Array.isArray(groups)) throw invalid(`"hooks.${event}" in the settings file is not a list`);
    const group: MatcherGroup = {
      ...(spec.matcher ? { matcher: spec.matcher } : {}),
      hooks: [{ type: "command", command: hookCommand(executable, event), timeout: spec.timeout }],
    };
    groups.push(group);
  }
  return next;
}

/** Settings without Sage's hooks; everything else untouched. */
export function removeSageHooks(settings: Settings): Settings {
  const next = structuredClone(settings);
  const hooks = next.hooks;
  if (!hooks || typeof hooks !== "object" || Array.isArray(hooks)) return next;
  let removed = false;
  for (const event of Object.keys(hooks)) {
    const groups = hooks[event];
    if (!Array.isArray(groups)) continue;
    const kept: MatcherGroup[] = [];
    for (const group of groups) {
      if (!group || !Array.isArray(group.hooks)) {
        kept.push(group);
        continue;
      }
      const others = group.hooks.filter((h) => !isSageCommand(h?.command));
      removed ||= others.length < group.hooks.length;
      if (others.length === group.hooks.length) kept.push(group);
      else if (others.length) kept.push({ ...group, hooks: others });
    }
    if (kept.length) hooks[event] = kept;
    else if (groups.length) delete hooks[event]; // only Sage's were there
  }
  // Only a "hooks" that Sage's removal emptied goes: a user's own `"hooks": {}` stays (uninstall on a file
  // without Sage's hooks used to rewrite it without that key).
  if (removed && !Object.keys(hooks).length) delete next.hooks;
  return next;
}

/** Reads a settings file; a missing file is empty settings, a broken one an error that changes nothing. */
export async function readSettings(path: string): Promise<Settings | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new SageError("unavailable", `cannot read ${path}: ${(err as Error).message}`);
  }
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
    return value;
  } catch (err) {
    throw invalid(
      `${path} is not valid JSON (${(err as Error).message}); nothing was changed`,
      "Fix or remove it, then try again.",
    );
  }
}

/** Writes atomically (temp file + rename), so a crash never leaves half a settings file. */
export async function writeSettings(path: string, settings: Settings): Promise<void> {
  const dir = path.replace(/[\\/][^\\/]*$/, "");
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.sage-${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(settings, null, 2) + "\n");
  await Deno.rename(tmp, path);
}
