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
import { findProjectRoot, normalizeProject } from "../project.ts";
import type { MemoryService } from "../memory/service.ts";
import { queryTerms } from "../text/terms.ts";
import { parseTranscript, type Turn } from "./transcript.ts";

export interface HookInput {
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  hook_event_name?: string;
  prompt?: string;
  source?: string;
  trigger?: string;
  reason?: string;
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

/** True when the project has opted out (a `.sageignore` file at its root). */
export function optedOut(project: string): boolean {
  try {
    Deno.statSync(`${project}/.sageignore`);
    return true;
  } catch {
    return false;
  }
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
    const text = await service.digest({ project, budget: settings.digestTokens });
    return text ? additionalContext(event, text) : "";
  }
  if (event === "UserPromptSubmit") {
    const prompt = cleanText(input.prompt ?? "");
    if (trivial(prompt)) return "";
    const ctx = await service.recall({
      query: prompt,
      project,
      excludeSession: input.session_id,
      budget: settings.promptTokens,
      minScore: settings.minScore,
    });
    return ctx.text ? additionalContext(event, ctx.text) : "";
  }
  if (CAPTURE_EVENTS.has(event)) {
    await capture(service, input, project, settings, event);
    return "";
  }
  return "";
}

function additionalContext(event: string, text: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: text } });
}

/** Prompts that carry no topic ("ok", "continue", "yes please") recall nothing. */
function trivial(prompt: string): boolean {
  return queryTerms(prompt).length < 2 && prompt.trim().length < 12;
}

/** Largest transcript slice read at once; a longer backlog is caught up over the next events. */
const MAX_READ = 32 * 1024 * 1024;

/**
 * Reads the transcript from where the last capture stopped, stores whole turns, and moves the mark. The mark
 * stops before a turn still in progress (PreCompact, SessionEnd in the middle of an answer), so that turn is
 * read again and updated when it is complete.
 */
export async function capture(
  service: MemoryService,
  input: HookInput,
  project: string,
  settings: HookSettings,
  event: string,
): Promise<{ saved: number; updated: number; unchanged: number }> {
  const none = { saved: 0, updated: 0, unchanged: 0 };
  if (!input.session_id || !input.transcript_path) return none;
  const path = mapPath(input.transcript_path, settings.pathMap);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return none; // no transcript (yet): nothing to capture
  }
  try {
    const size = (await file.stat()).size;
    let offset = await service.captureOffset(input.session_id, input.transcript_path);
    if (offset > size) offset = 0; // the file was replaced
    const length = Math.min(size - offset, MAX_READ);
    if (length <= 0) return none;
    await file.seek(offset, Deno.SeekMode.Start);
    const bytes = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = await file.read(bytes.subarray(read));
      if (n === null) break;
      read += n;
    }
    const { turns, end } = parseTranscript(bytes.subarray(0, read), offset);
    // Stop means the answer is finished and SessionEnd that nothing more will come. PreCompact and SubagentStop
    // come in the middle of an answer: its turn is stored as it stands and read again later.
    const last = turns[turns.length - 1];
    if (last && (event === "Stop" || event === "SessionEnd")) last.complete = true;
    const worth = turns.filter((t) => t.response.trim()); // a prompt the API never answered is not a memory
    const result = worth.length
      ? await service.saveTurns({ project, session: input.session_id, turns: worth.map(cleanTurn) })
      : none;
    // Only a turn still in progress (always the last) is read again next time.
    const open = last && !last.complete ? last : undefined;
    await service.setCaptureOffset(input.session_id, input.transcript_path, open ? open.start : end);
    return result;
  } finally {
    file.close();
  }
}

const MAX_PROMPT = 8_000;
const MAX_RESPONSE = 24_000;

function cleanTurn(t: Turn): Turn {
  return { ...t, prompt: clip(cleanText(t.prompt), MAX_PROMPT), response: clip(cleanText(t.response), MAX_RESPONSE) };
}

/**
 * Transcripts hold whatever tools printed: undecodable bytes (U+FFFD), lone surrogates, NUL. Those are
 * rejected when a user types them; from a transcript they are repaired, so the rest of the turn is kept.
 */
export function cleanText(s: string): string {
  return s.toWellFormed().replaceAll("\u0000", "").replaceAll("\uFFFD", "?");
}

/** Long text keeps its beginning and end. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = Math.floor(max * 0.7);
  const tail = max - head - 40;
  return `${s.slice(0, head)}\n[… ${s.length - head - tail} characters omitted …]\n${s.slice(s.length - tail)}`;
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
