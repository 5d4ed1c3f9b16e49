/**
 * Querying, on one path: search ranks (lib/memory/rank.ts); get_context and the prompt hook's recall put the
 * ranked hits into a block within a budget (lib/memory/context.ts); the session digest lists what is newest.
 */
import { recentByKind } from "../db/repos/memories.ts";
import type { LoadedModel } from "../embed/embedder.ts";
import { invalid, SageError } from "../errors.ts";
import { normalizeProject } from "../project.ts";
import { queryTerms } from "../text/terms.ts";
import { timeHint } from "../text/time.ts";
import { estimateTokens } from "../text/tokens.ts";
import type { ContextResult, SearchFilters, SearchMode, SearchResult } from "../types.ts";
import { buildContext } from "./context.ts";
import { type Core, firstLine } from "./core.ts";
import { rank } from "./rank.ts";
import {
  checkBool,
  checkKinds,
  checkLimit,
  checkMode,
  checkSessionId,
  checkTags,
  checkText,
  checkTime,
} from "./validate.ts";

const MAX_QUERY_CHARS = 4_000;

export interface FilterInput {
  project?: unknown;
  all_projects?: unknown;
  session?: unknown;
  tags?: unknown;
  kinds?: unknown;
  after?: unknown;
  before?: unknown;
}

export interface SearchInput extends FilterInput {
  query: unknown;
  limit?: unknown;
  mode?: unknown;
}

export interface ContextInput extends Omit<SearchInput, "limit" | "mode"> {
  max_results?: unknown;
  token_budget?: unknown;
}

export async function search(core: Core, input: SearchInput): Promise<SearchResult> {
  const query = checkText("query", input.query, MAX_QUERY_CHARS);
  const limit = checkLimit(input.limit, 10, 100);
  const mode = checkMode(input.mode);
  const filters = filtersOf(core, input);
  const warnings: string[] = [];
  const vector = mode === "keyword" ? { vector: null, model: null } : await queryVector(core, query, mode, warnings);
  // A time named in the query ("last week", "on 31 July, 2023") boosts that period, unless filters set one.
  const window = filters.after || filters.before ? null : timeHint(query);
  const hits = await core.db((db) =>
    rank(db, { terms: queryTerms(query), query: vector, filters, limit, mode, window })
  );
  return { query, mode, project: filters.project, hits, warnings };
}

export async function context(core: Core, input: ContextInput): Promise<ContextResult> {
  const maxResults = checkLimit(input.max_results, 8, 50, "max_results");
  const budget = checkLimit(input.token_budget, 1500, 32_000, "token_budget");
  if (budget < 100) throw invalid("token_budget must be at least 100");
  const result = await search(core, { ...input, limit: maxResults, mode: "hybrid" });
  return buildContext(result.query, result.project, result.hits, budget, result.warnings);
}

/**
 * The memories relevant enough to a prompt to put in front of the model, within `budget` tokens; nothing when none
 * reaches `minScore` (see SearchHit.score). The session's own memories are left out: the model already has them.
 */
export async function recall(
  core: Core,
  input: { query: string; project: string; excludeSession?: string; budget: number; minScore: number },
): Promise<ContextResult> {
  const query = input.query.slice(0, MAX_QUERY_CHARS);
  const project = normalizeProject(input.project);
  const warnings: string[] = [];
  const vector = await queryVector(core, query, "hybrid", warnings);
  const filters: SearchFilters = { project, excludeSession: input.excludeSession };
  const hits = await core.db((db) =>
    rank(db, { terms: queryTerms(query), query: vector, filters, limit: 8, mode: "hybrid", window: timeHint(query) })
  );
  return buildContext(query, project, hits.filter((h) => h.score >= input.minScore), input.budget, warnings);
}

/**
 * What a new session should know about the project: recent preferences, decisions, open tasks, facts and the
 * last conversations, newest first, within `budget` tokens. Empty when the project has no memories.
 */
export async function digest(core: Core, input: { project: string; budget: number }): Promise<string> {
  const project = normalizeProject(input.project);
  const sections: [string, string[]][] = [
    ["Preferences", ["preference"]],
    ["Decisions", ["decision"]],
    ["Open tasks", ["task"]],
    ["Facts", ["fact"]],
    ["Summaries", ["summary"]],
    ["Recent conversations", ["conversation"]],
  ];
  const recent = await core.db((db) => recentByKind(db, project, sections.flatMap(([, k]) => k), 5));
  if (!recent.length) return "";
  const open = `<memories source="sage" kind="digest" project="${project.replace(/"/g, "&quot;")}">\n` +
    "What Sage remembers about this project, newest first. search_memory or get_context find more; cite as [memory:ID].\n";
  const close = "</memories>";
  let used = estimateTokens(open + close);
  // Round by round (each section's newest, then each one's next…), so no section crowds out the others.
  const bySection = sections.map(([title, kinds]) => ({
    title,
    items: recent.filter((r) => kinds.includes(r.kind)),
    lines: [] as string[],
  }));
  for (let round = 0; round < 5; round++) {
    for (const section of bySection) {
      const m = section.items[round];
      if (!m) continue;
      const text = m.kind === "conversation"
        ? m.content.replace(/^User:\s*/, "").split(/\n\s*\nAssistant:/)[0]
        : m.content;
      const line = `- [memory:${m.id}] ${m.created_at.slice(0, 10)}: ${oneLine(text, 200)}`;
      const cost = estimateTokens(line) + 1 + (section.lines.length ? 0 : estimateTokens(section.title) + 2);
      if (used + cost > input.budget) continue;
      used += cost;
      section.lines.push(line);
    }
  }
  const body = bySection.filter((x) => x.lines.length).map((x) => `\n${x.title}:\n${x.lines.join("\n")}`);
  return body.length ? `${open}${body.join("\n")}\n${close}` : "";
}

/** Filters from a call's arguments (search, delete, export), checked. */
export function filtersOf(core: Core, input: FilterInput): SearchFilters {
  const after = checkTime("after", input.after);
  const before = checkTime("before", input.before);
  if (after && before && after >= before) throw invalid("after must be earlier than before");
  return {
    project: checkBool("all_projects", input.all_projects) ? null : core.scope.projectOf(input.project),
    session: input.session === undefined || input.session === null ? undefined : checkSessionId(input.session),
    tags: input.tags === undefined ? undefined : checkTags(input.tags),
    kinds: checkKinds(input.kinds),
    after,
    before,
  };
}

/** The query's vector and the model it belongs to; degrades to keyword-only (with a warning) in hybrid mode. */
async function queryVector(
  core: Core,
  query: string,
  mode: SearchMode,
  warnings: string[],
): Promise<{ vector: Float32Array | null; model: LoadedModel | null }> {
  const none = { vector: null, model: null };
  const model = await core.model("search", mode === "vector" ? [] : warnings);
  if (!model) {
    if (mode === "vector") throw new SageError("model_unavailable", `vector search unavailable: ${core.modelError()}`);
    return none;
  }
  try {
    const [vector] = await core.embedder.embedQueries([query]);
    if (!vector) warnings.push("the embedding model cannot represent this query; results are keyword-only");
    return { vector, model };
  } catch (err) {
    if (mode === "vector") throw err;
    warnings.push(
      `vector search failed (${err instanceof Error ? firstLine(err.message) : err}); results are keyword-only`,
    );
    return none;
  }
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
