/**
 * Querying, on one path: search ranks (lib/memory/rank.ts); get_context puts the ranked hits into a block within a
 * budget (lib/memory/context.ts). The hooks' recall and digest (lib/memory/recall.ts) start from the same ranking.
 */
import type { LoadedModel } from "../embed/embedder.ts";
import { invalid, SageError } from "../errors.ts";
import { translatedTerms } from "../text/glossary.ts";
import { queryTerms } from "../text/terms.ts";
import { timeHint } from "../text/time.ts";
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
  const terms = queryTerms(query);
  const translations = translatedTerms(query, terms);
  const hits = await core.db((db) => rank(db, { terms, translations, query: vector, filters, limit, mode, window }));
  return { query, mode, project: filters.project, hits, warnings };
}

export async function context(core: Core, input: ContextInput): Promise<ContextResult> {
  const maxResults = checkLimit(input.max_results, 8, 50, "max_results");
  const budget = checkLimit(input.token_budget, 1500, 32_000, "token_budget");
  if (budget < 100) throw invalid("token_budget must be at least 100");
  const result = await search(core, { ...input, limit: maxResults, mode: "hybrid" });
  return buildContext(result.query, result.project, result.hits, budget, result.warnings);
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
export async function queryVector(
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
