/**
 * What each Claude Code hook event does, given the hook's JSON input and the memory service. Returns what the
 * hook must print on stdout: for SessionStart and UserPromptSubmit, Claude Code's JSON with
 * `hookSpecificOutput.additionalContext`; for the capture events, nothing.
 *
 * - SessionStart: a digest of the project (preferences, decisions, open tasks, …) within a small budget; after a
 *   compaction or /clear the session's injection ledger starts over.
 * - UserPromptSubmit: the memories relevant to the prompt, from other sessions, each once per session (the
 *   decision is lib/memory/recall.ts's); nothing otherwise.
 * - Stop, SubagentStop, PreCompact, SessionEnd: the transcript's new turns are stored, one memory per turn.
 *
 * A project opts out with a `.sageignore` file at its root: nothing is recalled or captured there.
 */
import type { Config } from "../config.ts";
import { findProjectRoot, normalizeProject, optedOut } from "../project.ts";
import type { MemoryService } from "../memory/service.ts";

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
  /** Largest block added to a prompt or a session start, in characters. */
  maxChars: number;
  /** SAGE_PROJECT, when the caller fixed the project (the container's run script does). */
  project?: string;
  /** SAGE_PATH_MAP "HOST=LOCAL": where the host's transcript folder is seen from here. */
  pathMap?: string;
}

/** Hook settings from the configuration; `project` (SAGE_PROJECT of the hook's own environment) wins. */
export function hookSettings(config: Config, project?: string): HookSettings {
  return {
    digestTokens: config.hookDigestTokens,
    maxChars: config.hookMaxChars,
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
  const session = typeof input.session_id === "string" && input.session_id.trim() ? input.session_id : undefined;
  if (event === "SessionStart") {
    const text = await service.digest({
      project,
      budget: settings.digestTokens,
      maxChars: settings.maxChars,
      session,
      // The context was compacted or cleared: what was injected before is gone from it.
      reset: input.source === "compact" || input.source === "clear",
    }) || await service.backfillHint({ project, session }); // nothing yet: offer `sage backfill`
    return text ? additionalContext(event, text) : "";
  }
  if (event === "UserPromptSubmit") {
    const r = await service.recall({
      prompt: typeof input.prompt === "string" ? input.prompt : "",
      project,
      session,
      maxChars: settings.maxChars,
    });
    return r.text ? additionalContext(event, r.text) : "";
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
