/**
 * Claude Code transcripts (JSONL, one entry per line) → conversation turns.
 *
 * A turn starts at a real user prompt and holds everything the assistant said and did until the next one.
 * Kept: the prompt, the assistant's text, a one-line summary per tool call, the first line of tool errors and
 * of subagent (Task) answers. Dropped: thinking, tool inputs and outputs in full, sidechain entries (a
 * subagent's own transcript), meta entries, slash-command echoes and compaction summaries.
 *
 * Entries are read from a byte offset, so a long session is parsed incrementally; a half-written last line is
 * left for next time. A transcript is outside input: a line that is not JSON, or JSON that is not an entry (null, a
 * number, fields of the wrong type), is skipped, never allowed to stop the capture.
 */
import { cleanText } from "../text/clean.ts";
import { isRealDate } from "./validate.ts";

export interface Turn {
  /** uuid of the user entry that opened the turn: the turn's identity across hook runs. */
  uuid: string;
  /** When the prompt was sent (ISO). */
  timestamp: string;
  prompt: string;
  /** What the assistant said and did, in order. */
  response: string;
  /** Byte offset of the turn's first line in the file. */
  start: number;
  /** The assistant ended the turn (its last message has stop_reason end_turn, or a new prompt followed). */
  complete: boolean;
}

export interface ParseResult {
  turns: Turn[];
  /** Byte offset just after the last complete line read. */
  end: number;
}

interface Entry {
  type?: string;
  uuid?: string;
  timestamp?: string;
  isSidechain?: boolean;
  isMeta?: boolean;
  isCompactSummary?: boolean;
  /** Set on the assistant entry Claude Code writes when the API call failed ("Not logged in", overload…). */
  isApiErrorMessage?: boolean;
  message?: { role?: string; content?: unknown; stop_reason?: string | null };
}

interface Block {
  type: string;
  text: string;
  name?: string;
  id?: string;
  input?: Record<string, unknown>;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}

const MAX_TOOL_LINE = 160;
const MAX_SUBAGENT_ANSWER = 600;

/** Parses `bytes` (the file from `offset` on) into turns. */
export function parseTranscript(bytes: Uint8Array, offset = 0): ParseResult {
  const parser = new TranscriptParser(offset);
  const turns = parser.feed(bytes);
  turns.push(...parser.finish());
  return { turns, end: parser.end };
}

type OpenTurn = Turn & { parts: string[]; taskIds: Set<string>; lastStop?: string | null };

/**
 * The same, fed slice by slice (a line may span slices): `feed` returns the turns a later prompt has closed, so a
 * long transcript is read in bounded steps without reading anything twice; `finish` returns the turn still open.
 */
export class TranscriptParser {
  /** Byte offset just after the last complete line read. */
  end: number;
  #pending: Uint8Array[] = [];
  #current: OpenTurn | null = null;
  readonly #dec = new TextDecoder();

  constructor(offset = 0) {
    this.end = offset;
  }

  /** Where the turn still open started (a later capture reads from there), or null when none is open. */
  get openStart(): number | null {
    return this.#current?.start ?? null;
  }

  feed(chunk: Uint8Array): Turn[] {
    const out: Turn[] = [];
    let bytes = chunk;
    if (this.#pending.length) {
      // A long line goes on: its pieces are kept apart until its end comes (joining them at every slice would
      // copy a 30 MB line over and over).
      if (chunk.indexOf(10) < 0) {
        this.#pending.push(chunk.slice());
        return out;
      }
      const parts = [...this.#pending, chunk];
      bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) bytes.set(p, o), o += p.length;
      this.#pending = [];
    }
    let pos = 0;
    while (pos < bytes.length) {
      const nl = bytes.indexOf(10, pos);
      if (nl < 0) break; // a line still being written, or going on in the next slice
      const lineStart = this.end;
      const line = this.#dec.decode(bytes.subarray(pos, nl)).trim();
      this.end += nl + 1 - pos;
      pos = nl + 1;
      if (line) this.#entry(line, lineStart, out);
    }
    if (pos < bytes.length) this.#pending = [bytes.slice(pos)];
    return out;
  }

  finish(): Turn[] {
    const out: Turn[] = [];
    this.#close(out);
    return out;
  }

  #close(out: Turn[]): void {
    const current = this.#current;
    if (!current) return;
    const { parts, taskIds: _t, lastStop, ...turn } = current;
    turn.response = parts.join("\n").replace(/\n{3,}/g, "\n\n").trim();
    turn.complete = turn.complete || lastStop === "end_turn";
    out.push(turn);
    this.#current = null;
  }

  #entry(line: string, lineStart: number, out: Turn[]): void {
    let entry: Entry | null;
    try {
      entry = entryOf(JSON.parse(line));
    } catch {
      return; // a damaged line must not stop the capture
    }
    if (!entry || entry.isSidechain || !entry.message) return;
    const current = this.#current;
    if (entry.type === "user") {
      // A slash command ends the turn before it: what the assistant says next answers the command (its isMeta
      // expansion), not the previous prompt. Without this, the command's output was appended to the previous
      // turn whenever both were read in one pass (a PreCompact, a Stop that re-reads the last turn, a backlog).
      if (current && isCommandEcho(entry)) {
        current.complete = true;
        this.#close(out);
        return;
      }
      const prompt = promptText(entry);
      if (prompt !== null) {
        if (current) current.complete = true; // a new prompt ends the previous turn
        this.#close(out);
        this.#current = {
          uuid: entry.uuid ?? `offset-${lineStart}`,
          timestamp: entry.timestamp ?? new Date().toISOString(),
          prompt,
          response: "",
          start: lineStart,
          complete: false,
          parts: [],
          taskIds: new Set(),
        };
      } else if (current) {
        addToolResults(entry, current.parts, current.taskIds);
      }
    } else if (entry.type === "assistant" && current && !entry.isApiErrorMessage) {
      for (const b of asBlocks(entry.message.content)) {
        if (b.type === "text" && b.text.trim()) current.parts.push(b.text.trim());
        else if (b.type === "tool_use") {
          current.parts.push(toolLine(b));
          if (b.name === "Task" || b.name === "Agent") current.taskIds.add(b.id ?? "");
        }
      }
      current.lastStop = entry.message.stop_reason ?? current.lastStop;
    }
  }
}

/** The text of a real prompt, or null for tool results, meta entries, command echoes and summaries. */
function promptText(entry: Entry): string | null {
  if (entry.isMeta || entry.isCompactSummary) return null;
  const content = entry.message?.content;
  let text: string;
  if (typeof content === "string") text = content;
  else {
    const blocks = asBlocks(content);
    if (blocks.some((b) => b.type === "tool_result")) return null;
    text = blocks.filter((b) => b.type === "text").map((b) => b.text ?? "").join("\n");
  }
  text = text.trim();
  if (!text) return null;
  // Slash commands and their output are recorded as user entries; they are not what the user asked.
  if (COMMAND_ECHO.test(text)) return null;
  if (/^\[Request interrupted by user/.test(text)) return null;
  return text;
}

const COMMAND_ECHO = /^<(command-name|command-message|local-command-stdout|local-command-stderr)>/;

/** `/command` as Claude Code records it (`<command-message>…<command-name>/x</command-name>`). */
function isCommandEcho(entry: Entry): boolean {
  const content = entry.message?.content;
  const text = typeof content === "string"
    ? content
    : asBlocks(content).filter((b) => b.type === "text").map((b) => b.text ?? "").join("\n");
  return /^<(command-name|command-message)>/.test(text.trim());
}

function addToolResults(entry: Entry, parts: string[], taskIds: Set<string>): void {
  for (const b of asBlocks(entry.message?.content)) {
    if (b.type !== "tool_result") continue;
    const text = resultText(b.content);
    if (b.is_error) parts.push(`  ↳ error: ${firstLine(text, MAX_TOOL_LINE)}`);
    else if (b.tool_use_id && taskIds.has(b.tool_use_id)) parts.push(`  ↳ ${clip(text.trim(), MAX_SUBAGENT_ANSWER)}`);
  }
}

const TOOL_KEYS = ["command", "file_path", "path", "pattern", "url", "query", "description", "prompt", "notebook_path"];

/** "[Bash] npm test", "[Edit] lib/x.ts": the tool and the one argument that says what it did. */
function toolLine(b: Block): string {
  const input = b.input ?? {};
  const key = TOOL_KEYS.find((k) => typeof input[k] === "string" && (input[k] as string).trim());
  const detail = key ? String(input[key]) : JSON.stringify(input);
  return `[${b.name ?? "tool"}] ${firstLine(detail, MAX_TOOL_LINE)}`;
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  return asBlocks(content).filter((b) => b.type === "text").map((b) => b.text ?? "").join("\n");
}

/** The entry's fields Sage reads, each of the type it expects (a field of another type counts as absent). */
function entryOf(value: unknown): Entry | null {
  if (!isObject(value)) return null;
  const m = value.message;
  const time = value.timestamp;
  return {
    type: str(value.type),
    // The turn's identity goes to the database as text and JSON: no NUL, no lone surrogate.
    uuid: cleanText(str(value.uuid)) || undefined,
    timestamp: typeof time === "string" && isRealDate(time) && !Number.isNaN(Date.parse(time)) ? time : undefined,
    isSidechain: Boolean(value.isSidechain),
    isMeta: Boolean(value.isMeta),
    isCompactSummary: Boolean(value.isCompactSummary),
    isApiErrorMessage: Boolean(value.isApiErrorMessage),
    message: isObject(m)
      ? { role: str(m.role), content: m.content, stop_reason: typeof m.stop_reason === "string" ? m.stop_reason : null }
      : undefined,
  };
}

function asBlocks(content: unknown): Block[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (!Array.isArray(content)) return [];
  return content.filter(isObject).map((b) => ({
    type: str(b.type),
    text: str(b.text),
    name: str(b.name) || undefined,
    id: str(b.id) || undefined,
    input: isObject(b.input) ? b.input : {},
    tool_use_id: str(b.tool_use_id) || undefined,
    content: b.content,
    is_error: b.is_error === true,
  }));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function firstLine(s: string, max: number): string {
  return clip(s.trim().split("\n")[0], max);
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
