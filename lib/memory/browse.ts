/**
 * The memory browser's data (`sage view`): every memory of the scope with its sessions, oldest first, whether each
 * has a vector of the current model, and what supersedes it. The page itself is lib/view's.
 */
import { countBySession, pageAfter } from "../db/repos/memories.ts";
import { sessionsForExport } from "../db/repos/sessions.ts";
import type { Memory, Session } from "../types.ts";
import type { Core } from "./core.ts";
import { filtersOf } from "./query.ts";

const PAGE = 2_000;

export interface BrowseInput {
  project?: unknown;
  all_projects?: unknown;
  /** Only memories created at or after this time. */
  since?: Date;
  /** Only the newest N. */
  limit?: number;
}

export interface BrowseResult {
  /** "project /x" or "all projects". */
  scope: string;
  /** Memories in scope, before `since` and `limit`. */
  total: number;
  /** has_vector: null when no model is available to tell. */
  memories: (Memory & { has_vector: boolean | null })[];
  /** The sessions of those memories, with the count of their memories in scope. */
  sessions: Session[];
}

export async function browse(core: Core, input: BrowseInput): Promise<BrowseResult> {
  const scope = filtersOf(core, { project: input.project, all_projects: input.all_projects });
  const counts = await core.db((db) => countBySession(db, scope));
  const total = [...counts.values()].reduce((s, n) => s + n, 0);
  const model = (await core.model("search", []))?.key;
  const filters = { ...scope, after: input.since };
  const memories: BrowseResult["memories"] = [];
  let after: { createdAt: string; id: number } | null = null;
  while (true) {
    const cursor = after;
    const page: (Memory & { has_vector?: boolean })[] = await core.db((db) =>
      pageAfter(db, filters, cursor, PAGE, model)
    );
    for (const m of page) memories.push({ ...m, has_vector: m.has_vector ?? null });
    if (page.length < PAGE) break;
    const last = page[page.length - 1];
    after = { createdAt: last.created_at, id: last.id };
  }
  const kept = input.limit !== undefined ? memories.slice(Math.max(0, memories.length - input.limit)) : memories;
  const used = new Set(kept.map((m) => m.session));
  const sessions = (await core.db((db) => sessionsForExport(db, scope)))
    .filter((s) => used.has(s.id))
    .map((s) => ({ ...s, memories: counts.get(s.id) ?? 0 }));
  return {
    scope: scope.project === null ? "all projects" : `project ${scope.project}`,
    total,
    memories: kept,
    sessions,
  };
}
