/**
 * Automatic capture of Claude Code conversations: a transcript's new turns become memories, one per turn
 * (metadata.turn_uuid), read from where the last capture stopped. Idempotent: a turn already stored is left alone,
 * or updated in place when it grew.
 */
import { captureOffset, setCaptureOffset } from "../db/repos/capture.ts";
import { turnsByUuid } from "../db/repos/memories.ts";
import { log } from "../log.ts";
import { normalizeProject } from "../project.ts";
import { cleanText, clipMiddle } from "../text/clean.ts";
import { sanitize } from "../text/privacy.ts";
import type { Core } from "./core.ts";
import { updateMemoryById } from "./edit.ts";
import { contentHash, conversationContent, type SaveInput, saveMany } from "./save.ts";
import { parseTranscript, type Turn } from "./transcript.ts";
import { checkSessionId } from "./validate.ts";

export interface TurnInput {
  uuid: string;
  timestamp: string;
  prompt: string;
  response: string;
  complete: boolean;
}

export interface CaptureCounts {
  saved: number;
  updated: number;
  unchanged: number;
}

/** Stores Claude Code turns in one batch; a turn already stored is left alone, or updated when it grew. */
export async function saveTurns(
  core: Core,
  input: { project: string; session: string; turns: TurnInput[]; dryRun?: boolean },
): Promise<CaptureCounts> {
  const project = normalizeProject(input.project);
  const session = checkSessionId(input.session);
  const max = core.config.maxContentChars;
  const stored = await core.db((db) => turnsByUuid(db, project, input.turns.map((t) => t.uuid)));
  const fresh: SaveInput[] = [];
  const result = { saved: 0, updated: 0, unchanged: 0 };
  for (const t of input.turns) {
    const content = conversationContent(t.prompt, t.response).slice(0, max);
    const metadata = { source: "claude-code", turn_uuid: t.uuid, ...(t.complete ? {} : { partial: true }) };
    const have = stored.get(t.uuid);
    if (!have) {
      fresh.push({ content, kind: "conversation", project, session, created_at: t.timestamp, metadata });
    } else if (have.hash !== contentHash(sanitize(content).text.trim())) {
      if (!input.dryRun) await updateMemoryById(core, { id: have.id, content, metadata });
      result.updated++;
    } else if (have.partial === t.complete) {
      // Finished with the same text: only the flag goes.
      if (!input.dryRun) await updateMemoryById(core, { id: have.id, metadata });
      result.updated++;
    } else result.unchanged++;
  }
  if (input.dryRun) return { ...result, saved: fresh.length }; // counts only: nothing is written
  for (const r of await saveMany(core, fresh)) r.duplicate ? result.unchanged++ : result.saved++;
  return result;
}

export interface CaptureRequest {
  project: string;
  session: string;
  /** The transcript's path as Claude Code gave it: the key its progress is kept under. */
  transcript: string;
  /** Where to read it from here (the same, unless the container sees the host's folder elsewhere). */
  readPath: string;
  /** The hook event: Stop, SubagentStop, PreCompact or SessionEnd. */
  event: string;
  /** PreCompact: manual or auto. */
  trigger?: string;
  /** Stop: the answer that just ended, as Claude Code handed it over (the transcript may lag). */
  lastAssistantMessage?: string;
}

/** Largest transcript slice read at once; a longer backlog is caught up over the next events. */
const MAX_READ = 32 * 1024 * 1024;
const MAX_PROMPT = 8_000;
const MAX_RESPONSE = 24_000;

/**
 * Reads the transcript from where the last capture stopped, stores whole turns, and moves the mark to the start of
 * the last turn read, so that turn is always read again next time and updated in place if it grew: Claude Code runs
 * Stop before it has flushed the answer's final entry to the transcript (anthropics/claude-code#15812, #74340),
 * PreCompact and SubagentStop come in the middle of an answer, and a line may still be half-written.
 */
export async function captureTranscript(core: Core, req: CaptureRequest): Promise<CaptureCounts> {
  const none = { saved: 0, updated: 0, unchanged: 0 };
  let file: Deno.FsFile;
  try {
    file = await Deno.open(req.readPath);
  } catch (err) {
    // Said in the log: a wrong path (SAGE_PATH_MAP, a moved ~/.claude) would otherwise capture nothing, silently.
    log.warn("transcript not readable; nothing captured", {
      event: req.event,
      path: req.readPath,
      error: (err as Error).message,
    });
    return none;
  }
  try {
    const size = (await file.stat()).size;
    let offset = await core.db((db) => captureOffset(db, req.session, req.transcript));
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
    if (last && req.event === "Stop") {
      // The final answer as Claude Code handed it to us, when the transcript does not have it yet.
      const final = typeof req.lastAssistantMessage === "string" ? req.lastAssistantMessage.trim() : "";
      if (final && !last.response.includes(final)) last.response = last.response ? `${last.response}\n${final}` : final;
    }
    // Stop means the answer is finished and SessionEnd that nothing more will come; so does a /compact the user
    // typed (PreCompact "manual": Claude Code is idle then). An automatic PreCompact and SubagentStop come in the
    // middle of an answer: its turn is stored as it stands (partial) and completed later.
    const finished = req.event === "Stop" || (req.event === "PreCompact" && req.trigger === "manual");
    if (last && (req.event === "SessionEnd" || (finished && !unfinished))) last.complete = true;
    let worth = turns.filter((t) => t.response.trim()); // a prompt the API never answered is not a memory
    // Stop with the last turn cut off: whole turns only; the rest is stored when its lines are complete.
    if (req.event === "Stop" && last && !last.complete) worth = worth.filter((t) => t !== last);
    const result = worth.length
      ? await saveTurns(core, { project: req.project, session: req.session, turns: worth.map(cleanTurn) })
      : none;
    // The last turn is read again next time (unless it alone fills a whole MAX_READ slice: then move on).
    const next = last && !(last.start === offset && read >= MAX_READ) ? last.start : end;
    await core.db((db) => setCaptureOffset(db, req.session, req.transcript, next));
    return result;
  } finally {
    file.close();
  }
}

/** A turn's text repaired (transcripts hold whatever tools printed) and clipped, as it is stored. */
export function cleanTurn(t: Turn): Turn {
  return {
    ...t,
    prompt: clipMiddle(cleanText(t.prompt), MAX_PROMPT),
    response: clipMiddle(cleanText(t.response), MAX_RESPONSE),
  };
}
