/**
 * Export and import. JSONL is lossless: export then import into an empty database gives back the same memories
 * and sessions, byte for byte (ids, microsecond times, metadata). The formats are in transfer_format.ts.
 */
import { countMatching, getMemories, listIds, pageAfter } from "../db/repos/memories.ts";
import { ensureSession, sessionsForExport } from "../db/repos/sessions.ts";
import { BULK_WRITE, refreshPlannerStats } from "../db/repos/stats.ts";
import { invalid, SageError } from "../errors.ts";
import type { Memory, MemoryDraft } from "../types.ts";
import type { Core } from "./core.ts";
import { filtersOf } from "./query.ts";
import { contentHash, makeDraft, storeDrafts } from "./save.ts";
import { supersede } from "./supersede.ts";
import { hashKey } from "../db/repos/memories.ts";
import {
  type ExportFormat,
  type ImportRecord,
  markdownHeader,
  memoryLine,
  memoryMarkdown,
  parseImportLine,
  sessionLine,
  withoutValues,
} from "./transfer_format.ts";

const IMPORT_BATCH = 200;
const EXPORT_PAGE = 500;

export interface ExportInput {
  format?: unknown;
  project?: unknown;
  all_projects?: unknown;
  session?: unknown;
}

export interface ImportStats {
  read: number;
  sessions: number;
  imported: number;
  duplicates: number;
  /** Records whose id was taken by a different memory: imported under a new id. */
  remapped: number;
}

/** A line of export output, and whether it holds a memory (callers that stop after N memories count these). */
export interface ExportLine {
  text: string;
  memory: boolean;
}

/** Export lines (JSONL or Markdown), streamed page by page, oldest first. */
export async function* exportLines(core: Core, input: ExportInput): AsyncGenerator<ExportLine> {
  const format = (input.format ?? "jsonl") as ExportFormat;
  if (format !== "jsonl" && format !== "markdown") {
    throw invalid(`format must be jsonl or markdown, got ${JSON.stringify(input.format)}`);
  }
  const filters = filtersOf(core, { project: input.project, all_projects: input.all_projects, session: input.session });
  if (format === "jsonl") {
    for (const s of await core.db((db) => sessionsForExport(db, filters))) {
      yield { text: sessionLine(s), memory: false };
    }
  } else {
    const n = (await core.db((db) => listIds(db, filters))).length;
    const scope = filters.project === null ? "all projects" : `project ${filters.project}`;
    yield { text: markdownHeader(scope, n), memory: false };
  }
  let after: { createdAt: string; id: number } | null = null;
  while (true) {
    const cursor = after;
    const page: Memory[] = await core.db((db) => pageAfter(db, filters, cursor, EXPORT_PAGE));
    for (const m of page) yield { text: format === "jsonl" ? memoryLine(m) : memoryMarkdown(m), memory: true };
    if (page.length < EXPORT_PAGE) break;
    const last = page[page.length - 1];
    after = { createdAt: last.created_at, id: last.id };
  }
}

/** How many memories exportLines gives for `input` (a progress total). */
export async function exportCount(core: Core, input: ExportInput): Promise<number> {
  const filters = filtersOf(core, { project: input.project, all_projects: input.all_projects, session: input.session });
  return await core.db((db) => countMatching(db, filters));
}

/**
 * Imports JSONL. The whole input is validated first: one bad line rejects the file and nothing is stored.
 * Idempotent: a record already present (same id and content, or same content in its project) is skipped.
 */
export async function importLines(
  core: Core,
  lines: Iterable<string> | AsyncIterable<string>,
  onProgress?: (done: number, total: number) => void,
): Promise<ImportStats> {
  const records: { record: ImportRecord; line: number }[] = [];
  const errors: string[] = [];
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    try {
      records.push({
        record: parseImportLine(line, lineNo, core.scope.project, core.config.maxContentChars),
        line: lineNo,
      });
    } catch (err) {
      errors.push(err instanceof SageError ? err.message : `line ${lineNo}: ${(err as Error).name}`);
      if (errors.length >= 20) break;
    }
  }
  // Memories become drafts (privacy filter included) before anything is written: a record with nothing left to
  // store rejects the file like a malformed one.
  const drafts: MemoryDraft[] = [];
  const links: { draft: MemoryDraft; fileId?: number; supersededBy?: number }[] = [];
  for (const { record: r, line } of records) {
    if (errors.length >= 20) break;
    if (r.type !== "memory") continue;
    try {
      const draft = await makeDraft(core, r.memory, { id: r.id, createdAt: r.created_at, updatedAt: r.updated_at });
      drafts.push(draft);
      links.push({ draft, fileId: r.id, supersededBy: r.superseded_by });
    } catch (err) {
      if (!(err instanceof SageError)) throw err;
      errors.push(`line ${line}: ${withoutValues(err.message)}`);
    }
  }
  if (errors.length) throw invalid(`import rejected, nothing was stored:\n${errors.join("\n")}`);
  const stats: ImportStats = { read: records.length, sessions: 0, imported: 0, duplicates: 0, remapped: 0 };
  const sessions = records.map((r) => r.record).filter((r) => r.type === "session");
  await core.db((db) =>
    db.tx(async (q) => {
      for (const s of sessions) {
        await ensureSession(q, {
          id: s.id,
          project: s.project,
          name: s.name,
          createdAt: s.created_at,
          updatedAt: s.updated_at,
        });
      }
    })
  );
  stats.sessions = sessions.length;
  const stored = new Map<MemoryDraft, number>();
  // Explicit ids kept so far, with the content that claimed them: a later record of the file with the same id and
  // other content is remapped too.
  const claimed = new Map<number, string>();
  for (let i = 0; i < drafts.length; i += IMPORT_BATCH) {
    const batch = drafts.slice(i, i + IMPORT_BATCH);
    // An id already taken: the same memory (skipped as a duplicate, via its hash) or another one (new id).
    const ids = batch.filter((d) => d.id !== undefined).map((d) => d.id!);
    if (ids.length) {
      const taken = new Map((await core.db((db) => getMemories(db, ids))).map((m) => [m.id, m]));
      for (const d of batch) {
        if (d.id === undefined) continue;
        const other = taken.get(d.id);
        const claim = claimed.get(d.id);
        if (
          (other && (other.project !== d.project || contentHash(other.content) !== d.hash)) ||
          (claim !== undefined && claim !== hashKey(d))
        ) {
          d.id = undefined;
          stats.remapped++;
        } else {
          claimed.set(d.id, hashKey(d));
        }
      }
    }
    const results = await storeDrafts(core, batch);
    results.forEach((r, j) => {
      r.duplicate ? stats.duplicates++ : stats.imported++;
      stored.set(batch[j], r.id);
    });
    onProgress?.(Math.min(i + IMPORT_BATCH, drafts.length), drafts.length);
  }
  await linkSuperseded(core, links, stored);
  if (stats.imported >= BULK_WRITE) await core.db(refreshPlannerStats);
  return stats;
}

/**
 * Supersession links of an import, once every memory has its id: `superseded_by` names a memory of the file by its
 * id there (remapped ids followed), or one already stored in the same project.
 */
async function linkSuperseded(
  core: Core,
  links: { draft: MemoryDraft; fileId?: number; supersededBy?: number }[],
  stored: Map<MemoryDraft, number>,
): Promise<void> {
  const byFileId = new Map(links.filter((l) => l.fileId !== undefined).map((l) => [l.fileId!, stored.get(l.draft)!]));
  const bySuccessor = new Map<string, { project: string; by: number; olds: number[] }>();
  for (const l of links) {
    if (l.supersededBy === undefined) continue;
    const by = byFileId.get(l.supersededBy) ?? l.supersededBy;
    const key = `${l.draft.project}\u0000${by}`;
    const entry = bySuccessor.get(key) ?? { project: l.draft.project, by, olds: [] };
    entry.olds.push(stored.get(l.draft)!);
    bySuccessor.set(key, entry);
  }
  for (const { project, by, olds } of bySuccessor.values()) {
    const [successor] = await core.db((db) => getMemories(db, [by]));
    if (successor?.project === project) await supersede(core, by, project, olds);
  }
}
