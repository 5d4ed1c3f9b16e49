/**
 * Argument and result shapes of the MCP tools. Arguments: types here; ranges and rules are enforced (and explained)
 * by the use cases, so every edge rejects the same bad input with the same message. Results: each tool's
 * `outputSchema`, matching the structuredContent it returns (the SDK checks every reply against it).
 */
import { z } from "zod";
import { KINDS } from "../types.ts";

/** Arguments of a tool, typed from its zod shape (the SDK's own inference is lost under Deno's type resolution). */
export type Args<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>>;

// ---- shared arguments ----

export const project = z.string().optional().describe("Project to use instead of the current one (a repository path).");
/** For tools that act on one memory or session by id: ids outside the current project are only reached by name. */
export const ownerProject = z.string().optional().describe(
  "The project the memory belongs to, when it is not the current one (an absolute repository path). Without it, an id from another project is not found.",
);
export const allProjects = z.boolean().optional().describe("Search every project instead of only the current one.");
export const session = z.string().optional().describe("Only memories from this session id.");
export const tags = z.array(z.string()).optional().describe("Only memories carrying all of these tags.");
export const kinds = z.array(z.string()).optional().describe(`Only these kinds (${KINDS.join(", ")}).`);
export const after = z.string().optional().describe(
  'Only memories created at or after this time: ISO date/time ("2026-11-01") or an age ("7d", "12h", "2w").',
);
export const before = z.string().optional().describe("Only memories created before this time (same formats as after).");
/** The filters search_memory, get_context and delete_memory share. */
export const filters = { project, all_projects: allProjects, session, tags, kinds, after, before };
export const metadata = z.record(z.string(), z.unknown()).optional().describe(
  "Free-form JSON object kept with the memory.",
);

// ---- results ----

const memoryFields = {
  id: z.number().int(),
  project: z.string(),
  session: z.string().nullable(),
  kind: z.string(),
  content: z.string(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
  superseded_by: z.number().int().nullable(),
};
export const memoryResult = memoryFields;

export const memoryDetailResult = {
  ...memoryFields,
  content_hash: z.string(),
  embedding: z.object({ model: z.string(), chunks: z.number().int() }).nullable(),
};

export const saveResult = {
  id: z.number().int(),
  duplicate: z.boolean(),
  project: z.string(),
  session: z.string().nullable(),
  kind: z.string(),
  created_at: z.string(),
  embedded: z.boolean(),
  redactions: z.array(z.string()),
  warnings: z.array(z.string()),
  supersedes: z.array(z.number().int()).optional(),
};

export const searchResult = {
  query: z.string(),
  mode: z.enum(["hybrid", "keyword", "vector"]),
  project: z.string().nullable(),
  hits: z.array(z.object({
    ...memoryFields,
    score: z.number(),
    match: z.record(z.string(), z.number()),
  })),
  warnings: z.array(z.string()),
};

export const contextResult = {
  query: z.string(),
  project: z.string().nullable(),
  text: z.string(),
  tokens: z.number().int(),
  items: z.array(z.object({
    id: z.number().int(),
    created_at: z.string(),
    kind: z.string(),
    score: z.number(),
    truncated: z.boolean(),
  })),
  warnings: z.array(z.string()),
};

export const deleteResult = { deleted: z.array(z.number().int()), not_found: z.array(z.number().int()) };

const sessionFields = {
  id: z.string(),
  project: z.string(),
  name: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  memories: z.number().int(),
  current: z.boolean().optional(),
};

/** create, switch and info return one session (info with per-kind counts); list returns `sessions`. */
export const sessionResult = {
  ...Object.fromEntries(Object.entries(sessionFields).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof sessionFields]: z.ZodOptional<(typeof sessionFields)[K]>;
  },
  kinds: z.record(z.string(), z.number()).optional(),
  first_memory_at: z.string().nullable().optional(),
  last_memory_at: z.string().nullable().optional(),
  sessions: z.array(z.object(sessionFields)).optional(),
};

export const exportResult = {
  format: z.enum(["jsonl", "markdown"]),
  memories: z.number().int(),
  truncated: z.boolean(),
};

export const statusResult = {
  version: z.string(),
  uptime_seconds: z.number(),
  project: z.string(),
  session: z.string().nullable(),
  model: z.looseObject({ state: z.string() }),
  database: z.looseObject({ connected: z.boolean() }),
  counts: z.looseObject({}).optional(),
  backfill: z.string().optional().describe("Present when Claude Code kept transcripts of a project with no memories."),
};
