/**
 * Export and import formats (lib/memory/transfer.ts reads and writes them).
 *
 * JSONL (lossless): one JSON object per line. Session lines come first, then memory lines:
 *   {"type":"session","id":"…","project":"…","name":null,"created_at":"…","updated_at":"…"}
 *   {"type":"memory","id":42,"project":"…","session":"…","kind":"note","content":"…","tags":[],"metadata":{},
 *    "created_at":"2026-11-20T14:03:07.123456Z","updated_at":"…"}
 * Import reads the same, and also plain records from elsewhere: only `content` is required; `type` defaults to
 * memory, `kind` to note, `project` to the current project; `id` and times are kept when given.
 *
 * Markdown is for people (not re-importable).
 */
import { invalid, SageError } from "../errors.ts";
import { normalizeProject } from "../project.ts";
import {
  checkId,
  checkKind,
  checkMetadata,
  checkSessionId,
  checkTags,
  checkText,
  isRealDate,
  typeName,
} from "./validate.ts";
import type { Memory, Session } from "../types.ts";
import { formatDate } from "../text/time.ts";
import type { SaveInput } from "./save.ts";

export type ExportFormat = "jsonl" | "markdown";

export function sessionLine(s: Session): string {
  return JSON.stringify({
    type: "session",
    id: s.id,
    project: s.project,
    name: s.name,
    created_at: s.created_at,
    updated_at: s.updated_at,
  });
}

export function memoryLine(m: Memory): string {
  return JSON.stringify({
    type: "memory",
    id: m.id,
    project: m.project,
    session: m.session,
    kind: m.kind,
    content: m.content,
    tags: m.tags,
    metadata: m.metadata,
    created_at: m.created_at,
    updated_at: m.updated_at,
    // Only when set: lines of memories that were never superseded stay as they were before the field existed.
    ...(m.superseded_by ? { superseded_by: m.superseded_by } : {}),
  });
}

export function markdownHeader(scope: string, count: number): string {
  return `# Sage memories\n\nExported ${new Date().toISOString()} · ${count} memories · ${scope}\n`;
}

export function memoryMarkdown(m: Memory): string {
  const tags = m.tags.length ? `\ntags: ${m.tags.join(", ")}` : "";
  const session = m.session ? ` · session ${m.session}` : "";
  return `\n## [memory:${m.id}] ${formatDate(m.created_at)} · ${m.kind}\n` +
    `project: ${m.project}${session}${tags}\n\n${m.content.trim()}\n`;
}

export interface ImportSession {
  type: "session";
  id: string;
  project: string;
  name: string | null;
  created_at?: string;
  updated_at?: string;
}

/** A memory record: what to save (checked), plus what an import keeps exactly (id, times). */
export interface ImportMemory {
  type: "memory";
  id?: number;
  /** The id (in this file, or already stored) of the memory that supersedes this one. */
  superseded_by?: number;
  created_at?: string;
  updated_at?: string;
  memory: SaveInput & { project: string; session: string | null };
}

export type ImportRecord = ImportSession | ImportMemory;

/** Parses and validates one JSONL line. Errors name the line. */
export function parseImportLine(line: string, lineNo: number, defaultProject: string, maxChars: number): ImportRecord {
  const at = (msg: string) => invalid(`line ${lineNo}: ${msg}`);
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    // The parser's message quotes the line; only where it broke is said.
    const pos = (err as Error).message.match(/at position (\d+)/)?.[1];
    throw at(`not valid JSON${pos ? ` (at character ${Number(pos) + 1})` : ""}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw at(`expected a JSON object, got ${typeName(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  try {
    const project = r.project === undefined || r.project === null
      ? defaultProject
      : normalizeProject(String(checkText("project", r.project, 512)));
    const created_at = checkTimestamp("created_at", r.created_at);
    const updated_at = checkTimestamp("updated_at", r.updated_at);
    const type = r.type ?? "memory";
    if (type === "session") {
      return {
        type,
        id: checkSessionId(r.id, "id"),
        project,
        name: r.name === undefined || r.name === null ? null : checkText("name", r.name, 200),
        created_at,
        updated_at,
      };
    }
    if (type !== "memory") throw invalid("type must be memory or session");
    return {
      type,
      id: r.id === undefined || r.id === null ? undefined : checkId(r.id),
      superseded_by: r.superseded_by === undefined || r.superseded_by === null
        ? undefined
        : checkId(r.superseded_by, "superseded_by"),
      created_at,
      updated_at,
      memory: {
        project,
        session: r.session === undefined || r.session === null ? null : checkSessionId(r.session),
        kind: r.kind === undefined ? "note" : checkKind(r.kind),
        content: checkText("content", r.content, maxChars),
        tags: checkTags(r.tags),
        metadata: checkMetadata(r.metadata),
      },
    };
  } catch (err) {
    if (err instanceof SageError) throw at(withoutValues(err.message));
    throw err;
  }
}

/**
 * A validator's message without the value it quotes (", got "…"", a quoted tag or path): an import error names the
 * line and the reason, never what the line held, which may be someone's secret.
 */
export function withoutValues(message: string): string {
  return message.split("\n")[0].replace(/[,;] got .*$/, "").replace(/"(?:[^"\\]|\\.)*"…?/g, "(value not shown)");
}

function checkTimestamp(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "string" ||
    !/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)
  ) {
    throw invalid(
      `${field} must be an ISO 8601 time such as 2026-11-20T14:03:07.123456Z, got ${JSON.stringify(value)}`,
    );
  }
  if (!isRealDate(value) || Number.isNaN(new Date(value).getTime())) throw invalid(`${field} is not a real date`);
  // No zone given: UTC (never the database session's time zone).
  if (/(Z|[+-]\d{2}:?\d{2})$/.test(value)) return value;
  return `${value.length === 10 ? `${value}T00:00:00` : value}Z`;
}
