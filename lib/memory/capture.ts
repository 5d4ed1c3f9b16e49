/**
 * Automatic capture of Claude Code conversations: a transcript's new turns become memories, one per turn
 * (metadata.turn_uuid), read from where the last capture stopped. Idempotent: a turn already stored is left alone,
 * or updated in place when it grew.
 */
import { captureOffset, setCaptureOffset } from "../db/repos/capture.ts";
import { turnsByUuid } from "../db/repos/memories.ts";
import { invalid, SageError } from "../errors.ts";
import { log } from "../log.ts";
import { normalizeProject } from "../project.ts";
import { cleanText, clipMiddle } from "../text/clean.ts";
import { sanitize } from "../text/privacy.ts";
import type { Core } from "./core.ts";
import { updateMemoryById } from "./edit.ts";
import type { MemoryDraft } from "../types.ts";
import { contentHash, conversationContent, makeDraft, storeDrafts } from "./save.ts";
import { TranscriptParser, type Turn } from "./transcript.ts";
import { readSlice } from "./transcript_files.ts";
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

/**
 * Stores Claude Code turns in one batch; a turn already stored is left alone, or updated when it grew. A turn that
 * cannot be stored (nothing left once <private> text is removed, its text already another memory's) is skipped
 * and logged: one such turn must not hold back the others, or the capture, for good.
 */
export async function saveTurns(
  core: Core,
  input: { project: string; session: string; turns: TurnInput[]; dryRun?: boolean },
): Promise<CaptureCounts> {
  const project = normalizeProject(input.project);
  const session = checkSessionId(input.session);
  const dryRun = input.dryRun === true;
  const max = core.config.maxContentChars;
  // A uuid twice in one batch (a hand-edited or hostile transcript): the later turn wins.
  const turns = [...new Map(input.turns.map((t) => [t.uuid, t])).values()];
  const stored = await core.db((db) => turnsByUuid(db, project, turns.map((t) => t.uuid)));
  const fresh: MemoryDraft[] = [];
  const result = { saved: 0, updated: 0, unchanged: 0 };
  for (const t of turns) {
    const content = conversationContent(t.prompt, t.response).slice(0, max);
    const metadata = { source: "claude-code", turn_uuid: t.uuid, ...(t.complete ? {} : { partial: true }) };
    const have = stored.get(t.uuid);
    try {
      if (!have) {
        const input = { content, kind: "conversation", project, session, created_at: t.timestamp, metadata };
        fresh.push(await makeDraft(core, input));
      } else if (have.hash !== contentHash(sanitize(content).text.trim())) {
        if (!dryRun) await updateMemoryById(core, { id: have.id, project, content, metadata });
        result.updated++;
      } else if (have.partial === t.complete) {
        // Finished with the same text: only the flag goes.
        if (!dryRun) await updateMemoryById(core, { id: have.id, project, metadata });
        result.updated++;
      } else result.unchanged++;
    } catch (err) {
      if (!(err instanceof SageError) || !["invalid_input", "conflict"].includes(err.code)) throw err;
      log.info("turn not stored", { turn: t.uuid, reason: err.message });
      result.unchanged++;
    }
  }
  if (dryRun) return { ...result, saved: fresh.length }; // counts only: nothing is written
  for (const r of await storeDrafts(core, fresh)) r.duplicate ? result.unchanged++ : result.saved++;
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

/**
 * Bytes read and parsed at once, and turns stored per statement: small enough that a search sent to the server
 * meanwhile waits only milliseconds (bench:capture: p95 under 60 ms during a 50 MB capture, 2 cores).
 */
const SLICE_BYTES = 256 * 1024;
const TURNS_PER_BATCH = 4;
/**
 * Time one event may spend capturing: under the 50 s a hook waits for the server and Claude Code's 60 s Stop
 * timeout. What is left is captured by the next event, from where this one stopped.
 */
const BUDGET_MS = 40_000;
const MAX_PROMPT = 8_000;
const MAX_RESPONSE = 24_000;

/**
 * Reads the transcript from where the last capture stopped, stores whole turns, and moves the mark to the start of
 * the last turn read, so that turn is always read again next time and updated in place if it grew: Claude Code runs
 * Stop before it has flushed the answer's final entry to the transcript (anthropics/claude-code#15812, #74340),
 * PreCompact and SubagentStop come in the middle of an answer, and a line may still be half-written.
 *
 * The file is read in slices of SLICE_BYTES and stored TURNS_PER_BATCH turns at a time, yielding in between, so a
 * 50 MB backlog never holds up a search the server is asked meanwhile; the mark moves after every slice. Only a
 * regular file is read (a FIFO or a device would block or never end).
 */
export async function captureTranscript(core: Core, req: CaptureRequest): Promise<CaptureCounts> {
  const total = { saved: 0, updated: 0, unchanged: 0 };
  const file = await openTranscript(req);
  if (!file) return total;
  const deadline = Date.now() + BUDGET_MS;
  const store = async (turns: Turn[]) => {
    const worth = turns.filter((t) => t.response.trim()); // a prompt the API never answered is not a memory
    for (let i = 0; i < worth.length; i += TURNS_PER_BATCH) {
      const batch = worth.slice(i, i + TURNS_PER_BATCH).map(cleanTurn);
      const r = await saveTurns(core, { project: req.project, session: req.session, turns: batch });
      total.saved += r.saved, total.updated += r.updated, total.unchanged += r.unchanged;
      await pause();
    }
  };
  try {
    const size = (await file.stat()).size;
    let offset = await core.db((db) => captureOffset(db, req.session, req.transcript));
    if (offset > size) offset = 0; // the file was replaced
    const parser = new TranscriptParser(offset);
    let pos = offset;
    while (pos < size) {
      if (Date.now() > deadline) {
        log.info("capture paused; the next event goes on", { event: req.event, done: pos, size });
        return total;
      }
      const bytes = await readSlice(file, pos, Math.min(SLICE_BYTES, size - pos));
      if (!bytes.length) break; // truncated meanwhile
      pos += bytes.length;
      await store(parser.feed(bytes)); // turns a later prompt closed: complete
      const mark = parser.openStart ?? parser.end;
      if (pos < size) await core.db((db) => setCaptureOffset(db, req.session, req.transcript, mark));
      await pause();
    }
    const [last] = parser.finish();
    // More follows what was parsed: a half-written last line (Claude Code still writing, or it crashed).
    const unfinished = parser.end < size;
    if (last) {
      finishLast(last, req, unfinished);
      // Stop with the last turn cut off: whole turns only; the rest is stored when its lines are complete.
      if (!(req.event === "Stop" && !last.complete)) await store([last]);
    }
    // The last turn is read again next time.
    await core.db((db) => setCaptureOffset(db, req.session, req.transcript, last ? last.start : parser.end));
    return total;
  } finally {
    file.close();
  }
}

/**
 * The last turn read: Stop's final answer as Claude Code handed it over, when the transcript does not have it yet.
 * Stop means the answer is finished and SessionEnd that nothing more will come; so does a /compact the user typed
 * (PreCompact "manual": Claude Code is idle then). An automatic PreCompact and SubagentStop come in the middle of
 * an answer: its turn is stored as it stands (partial) and completed later.
 */
function finishLast(last: Turn, req: CaptureRequest, unfinished: boolean): void {
  if (req.event === "Stop") {
    const final = typeof req.lastAssistantMessage === "string" ? req.lastAssistantMessage.trim() : "";
    if (final && !last.response.includes(final)) last.response = last.response ? `${last.response}\n${final}` : final;
  }
  const finished = req.event === "Stop" || (req.event === "PreCompact" && req.trigger === "manual");
  if (req.event === "SessionEnd" || (finished && !unfinished)) last.complete = true;
}

/** The transcript opened for reading; null when it is missing; an error when it is not a regular file. */
async function openTranscript(req: CaptureRequest): Promise<Deno.FsFile | null> {
  const notRegular = () =>
    invalid(`the transcript ${req.readPath} is not a regular file; nothing captured`, "Only files are read.");
  try {
    // Checked before opening: opening a FIFO waits for a writer, forever.
    if (!(await Deno.stat(req.readPath)).isFile) throw notRegular();
    const file = await Deno.open(req.readPath);
    if (!(await file.stat()).isFile) { // replaced between the two looks
      file.close();
      throw notRegular();
    }
    return file;
  } catch (err) {
    if (err instanceof SageError) throw err;
    // Said in the log: a wrong path (SAGE_PATH_MAP, a moved ~/.claude) would otherwise capture nothing, silently.
    log.warn("transcript not readable; nothing captured", {
      event: req.event,
      path: req.readPath,
      error: (err as Error).message,
    });
    return null;
  }
}

/** Lets whatever else the process has to do (a search, a ping) run. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A turn's text repaired (transcripts hold whatever tools printed) and clipped, as it is stored. */
export function cleanTurn(t: Turn): Turn {
  return {
    ...t,
    prompt: clipMiddle(cleanText(t.prompt), MAX_PROMPT),
    response: clipMiddle(cleanText(t.response), MAX_RESPONSE),
  };
}
