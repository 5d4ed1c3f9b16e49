/**
 * What each Claude Code hook event does, given the hook's JSON input and the memory service. Returns what the
 * hook must print on stdout: for SessionStart and UserPromptSubmit, Claude Code's JSON with
 * `hookSpecificOutput.additionalContext`; for the capture events, nothing.
 *
 * - SessionStart: a digest of the project (preferences, decisions, open tasks, …) within a small budget.
 * - UserPromptSubmit: memories relevant enough to the prompt (score ≥ SAGE_HOOK_MIN_SCORE), from other
 *   sessions, within a budget; nothing otherwise. Trivial prompts ("ok", "continue") are skipped.
 * - Stop, SubagentStop, PreCompact, SessionEnd: the transcript's new turns are stored, one memory per turn.
 *
 * A project opts out with a `.sageignore` file at its root: nothing is recalled or captured there.
 */
import type { Config } from "../config.ts";
import { findProjectRoot, normalizeProject, optedOut } from "../project.ts";
import type { MemoryService } from "../memory/service.ts";
import { cleanText } from "../text/clean.ts";
import { queryTerms } from "../text/terms.ts";

export interface HookInput {
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  hook_event_name?: string;
  prompt?: string;
  source?: string;
  trigger?: string;
  reason?: string;
  /** Stop: the text of the answer that just ended (Claude Code may not have flushed it to the transcript yet). */
  last_assistant_message?: string;
}

export interface HookSettings {
  /** Token budget of the SessionStart digest. */
  digestTokens: number;
  /** Token budget of the memories added to a prompt. */
  promptTokens: number;
  /** Least score a memory needs to be added to a prompt. */
  minScore: number;
  /** SAGE_PROJECT, when the caller fixed the project (the container's run script does). */
  project?: string;
  /** SAGE_PATH_MAP "HOST=LOCAL": where the host's transcript folder is seen from here. */
  pathMap?: string;
}

/** Hook settings from the configuration; `project` (SAGE_PROJECT of the hook's own environment) wins. */
export function hookSettings(config: Config, project?: string): HookSettings {
  return {
    digestTokens: config.hookDigestTokens,
    promptTokens: config.hookPromptTokens,
    minScore: config.hookMinScore,
    project: project ?? config.project,
    pathMap: config.pathMap,
  };
}

export const CAPTURE_EVENTS = new Set(["Stop", "SubagentStop", "PreCompact", "SessionEnd"]);
export const KNOWN_EVENTS = new Set(["SessionStart", "UserPromptSubmit", ...CAPTURE_EVENTS]);

/** Parses the hook's stdin. */
export function parseHookInput(raw: string): HookInput {
  const value = JSON.parse(raw);
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("hook input is not a JSON object");
  return value as HookInput;
}

/** The project a hook acts on: SAGE_PROJECT if set, else the git root of the hook's working directory. */
export function hookProject(input: HookInput, settings: HookSettings): string {
  if (settings.project) return normalizeProject(settings.project);
  return findProjectRoot(input.cwd ?? Deno.cwd());
}

export async function handleHook(
  service: MemoryService,
  event: string,
  input: HookInput,
  settings: HookSettings,
): Promise<string> {
  const project = hookProject(input, settings);
  if (optedOut(project)) return "";
  if (event === "SessionStart") {
    const text = await service.digest({ project, budget: settings.digestTokens }) ||
      await service.backfillHint({ project, session: input.session_id }); // nothing yet: offer `sage backfill`
    return text ? additionalContext(event, text) : "";
  }
  if (event === "UserPromptSubmit") {
    const prompt = cleanText(input.prompt ?? "");
    if (trivial(prompt)) return "";
    const ctx = await service.recall({
      query: focus(prompt),
      project,
      excludeSession: input.session_id,
      budget: settings.promptTokens,
      minScore: settings.minScore,
    });
    return ctx.text ? additionalContext(event, ctx.text) : "";
  }
  if (CAPTURE_EVENTS.has(event) && input.session_id && input.transcript_path) {
    await service.captureTranscript({
      project,
      session: input.session_id,
      transcript: input.transcript_path,
      readPath: mapPath(input.transcript_path, settings.pathMap),
      event,
      trigger: input.trigger,
      lastAssistantMessage: input.last_assistant_message,
    });
  }
  return "";
}

function additionalContext(event: string, text: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: text } });
}

/**
 * What a prompt is about, for recall: its prose. Pasted code blocks and log lines (mostly digits and symbols)
 * would otherwise bury the question in terms no memory holds. Falls back to the prompt when nothing is left.
 */
export function focus(prompt: string): string {
  const prose = prompt
    .replace(/```[\s\S]*?(```|$)/g, " ")
    .split("\n")
    .filter((line) => {
      const t = line.trim();
      if (!t) return false;
      const letters = t.match(/[\p{L}]/gu)?.length ?? 0;
      return letters / t.length >= 0.5;
    })
    .join("\n")
    .slice(0, 1_500)
    .trim();
  return prose || prompt.slice(0, 1_500);
}

/** Prompts that carry no topic ("ok", "continue", "yes please") recall nothing. */
function trivial(prompt: string): boolean {
  return queryTerms(prompt).length < 2 && prompt.trim().length < 12;
}

/** "HOST=LOCAL": rewrites a host path prefix (the run script mounts the host's ~/.claude elsewhere). */
export function mapPath(path: string, map?: string): string {
  if (!map) return path;
  const i = map.indexOf("=");
  if (i <= 0) return path;
  const host = map.slice(0, i).replace(/\\/g, "/").replace(/\/+$/, "");
  const local = map.slice(i + 1).replace(/\/+$/, "");
  const p = path.replace(/\\/g, "/");
  return p.toLowerCase().startsWith(host.toLowerCase() + "/") ? local + p.slice(host.length) : path;
}
