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
import { log } from "../log.ts";
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
      query: focus(prompt),
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

/** Largest transcript slice read at once; a longer backlog is caught up over the next events. */
const MAX_READ = 32 * 1024 * 1024;

/**
 * Reads the transcript from where the last capture stopped, stores whole turns, and moves the mark to the start
 * of the last turn read, so that turn is always read again next time and updated in place if it grew:
 * Claude Code runs Stop before it has flushed the answer's final entry to the transcript
 * (anthropics/claude-code#15812, #74340), PreCompact and SubagentStop come in the middle of an answer, and a
 * line may still be half-written.
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
  } catch (err) {
    // Said in the log: a wrong path (SAGE_PATH_MAP, a moved ~/.claude) would otherwise capture nothing, silently.
    log.warn("transcript not readable; nothing captured", { event, path, error: (err as Error).message });
    return none;
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
    // More follows what was parsed: a half-written last line (Claude Code still writing, or it crashed), or a
    // backlog longer than MAX_READ. The last turn may not be whole then.
    const unfinished = end < size;
    const last = turns[turns.length - 1];
    if (last && event === "Stop") {
      // The final answer as Claude Code handed it to us, when the transcript does not have it yet.
      const final = typeof input.last_assistant_message === "string" ? input.last_assistant_message.trim() : "";
      if (final && !last.response.includes(final)) last.response = last.response ? `${last.response}\n${final}` : final;
    }
    // Stop means the answer is finished and SessionEnd that nothing more will come; so does a /compact the user
    // typed (PreCompact "manual": Claude Code is idle then). An automatic PreCompact and SubagentStop come in the
    // middle of an answer: its turn is stored as it stands (partial) and completed later.
    const finished = event === "Stop" || (event === "PreCompact" && input.trigger === "manual");
    if (last && (event === "SessionEnd" || (finished && !unfinished))) last.complete = true;
    let worth = turns.filter((t) => t.response.trim()); // a prompt the API never answered is not a memory
    // Stop with the last turn cut off: whole turns only; the rest is stored when its lines are complete.
    if (event === "Stop" && last && !last.complete) worth = worth.filter((t) => t !== last);
    const result = worth.length
      ? await service.saveTurns({ project, session: input.session_id, turns: worth.map(cleanTurn) })
      : none;
    // The last turn is read again next time (unless it alone fills a whole MAX_READ slice: then move on).
    const next = last && !(last.start === offset && read >= MAX_READ) ? last.start : end;
    await service.setCaptureOffset(input.session_id, input.transcript_path, next);
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
