/**
 * What `sage view` shows: the data the page is built from (ViewData, filled by the CLI), and the compact form the
 * page embeds (Payload, read by the client script). Kept apart so the client modules import only types.
 */
import type { Memory, Session } from "../types.ts";

/** A session of the page; `memories`: its memories in scope (included in the page or not). */
export type ViewSession = Omit<Session, "current">;

/** A memory of the page, and whether a vector of the current model is stored (null: unknown). */
export type ViewMemory = Memory & { has_vector: boolean | null };

export interface ViewData {
  /** ISO time the page was made. */
  generated_at: string;
  /** "project /x" or "all projects". */
  scope: string;
  /** Memories in scope. */
  total: number;
  /** Memories in the page (fewer than total with --limit or --since). */
  included: number;
  sessions: ViewSession[];
  memories: ViewMemory[];
  /** How the user runs Sage, for the commands the page offers to copy (default "sage"). */
  command?: string;
}

/** A session in the page: [id, project index, name, created ms, updated ms, memories in scope]. */
export type PayloadSession = [string, number, string | null, number, number, number];

/**
 * A memory in the page: [id, project index, session index (-1: none), kind index, content, tag indexes,
 * metadata (0: empty), created ms, updated ms (0: same as created), vector (1 yes, 0 no, -1 unknown),
 * superseded by (0: not superseded)]. Tuples and shared tables keep the page small.
 */
export type PayloadMemory = [
  number,
  number,
  number,
  number,
  string,
  number[],
  Record<string, unknown> | 0,
  number,
  number,
  1 | 0 | -1,
  number,
];

/** What the page embeds as JSON. Memories are newest first. */
export interface Payload {
  v: 1;
  generated_at: string;
  scope: string;
  total: number;
  included: number;
  command: string;
  projects: string[];
  kinds: string[];
  tags: string[];
  sessions: PayloadSession[];
  memories: PayloadMemory[];
}
