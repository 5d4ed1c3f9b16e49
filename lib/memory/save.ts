/**
 * Saving: input → draft (validate, privacy filter, hash, keyword terms) → embed (outside any transaction) →
 * one statement: session, memory, vectors. Exact duplicates (same content in the project) come back as the existing
 * memory; single interactive saves also merge near-duplicates (mergeNearDuplicate).
 */
import { createHash } from "node:crypto";
import { type Existing, getMemories, hashKey, idsByHash, insertDrafts, updateMemory } from "../db/repos/memories.ts";
import { candidates as candidateLists } from "../db/repos/candidates.ts";
import { nearest } from "../db/repos/vectors.ts";
import type { LoadedModel } from "../embed/embedder.ts";
import { invalid, SageError } from "../errors.ts";
import { sanitize, sanitizeJson } from "../text/privacy.ts";
import { queryTerms, sayTheSame, storedTerms } from "../text/terms.ts";
import type { MemoryDraft, SaveResult, SearchFilters } from "../types.ts";
import type { Core } from "./core.ts";
import { sessionFor } from "./sessions.ts";
import { checkSupersedable, checkSupersedes, restatesWithNewValue, supersede } from "./supersede.ts";
import { checkKind, checkMetadata, checkTags, checkText, checkTime } from "./validate.ts";

export interface SaveInput {
  content: unknown;
  kind?: unknown;
  tags?: unknown;
  metadata?: unknown;
  project?: unknown;
  /** undefined: the current session; null: none. */
  session?: unknown;
  /** ISO time; for imports and hooks that know when something was said. */
  created_at?: unknown;
  /** Ids of older memories of the project this one replaces (lib/memory/supersede.ts). */
  supersedes?: unknown;
}

export interface ConversationInput extends Omit<SaveInput, "content" | "kind"> {
  user_prompt: unknown;
  assistant_response: unknown;
}

/**
 * Saves one memory. A note, decision, fact… that says what one already says is merged into it; one that says it
 * with a new value supersedes it (so do the ids given in `supersedes`, checked before anything is stored).
 */
export async function saveMemory(core: Core, input: SaveInput): Promise<SaveResult> {
  const draft = await makeDraft(core, input);
  const explicit = checkSupersedes(input.supersedes);
  await checkSupersedable(core, draft.project, explicit);
  return await saveOne(core, draft, draft.kind !== "conversation", explicit);
}

export async function saveConversation(core: Core, input: ConversationInput): Promise<SaveResult> {
  const prompt = checkText("user_prompt", input.user_prompt, core.config.maxContentChars);
  const response = checkText("assistant_response", input.assistant_response, core.config.maxContentChars);
  const draft = await makeDraft(core, {
    ...input,
    kind: "conversation",
    content: conversationContent(prompt, response),
  });
  return await saveOne(core, draft, false);
}

/**
 * Saves several memories: one embedding batch, one statement. Results are in input order; a memory whose content
 * already exists in its project comes back as a duplicate with the existing id.
 */
export async function saveMany(core: Core, inputs: SaveInput[]): Promise<SaveResult[]> {
  const drafts: MemoryDraft[] = [];
  for (const input of inputs) drafts.push(await makeDraft(core, input));
  return await storeDrafts(core, drafts);
}

/** Validates and analyses one input: the draft every write path stores. Throws invalid_input, stores nothing. */
export async function makeDraft(core: Core, input: SaveInput, extra: Partial<MemoryDraft> = {}): Promise<MemoryDraft> {
  const raw = checkText("content", input.content, core.config.maxContentChars);
  const { text, redactions } = sanitize(raw);
  const content = text.trim();
  if (!content) throw invalid("nothing is left to store once <private> text and secrets are removed");
  const { terms, count } = storedTerms(content);
  const createdAt = input.created_at === undefined || input.created_at === null
    ? undefined
    : checkTime("created_at", input.created_at)!.toISOString();
  return {
    project: core.scope.projectOf(input.project),
    session: await sessionFor(core, input.session),
    kind: input.kind === undefined ? "note" : checkKind(input.kind),
    content,
    // Secrets are redacted wherever they hide, not only in the text.
    tags: sanitizeJson(checkTags(input.tags), redactions),
    metadata: sanitizeJson(checkMetadata(input.metadata), redactions),
    hash: contentHash(content),
    terms,
    termCount: count,
    createdAt,
    redactions,
    ...extra,
  };
}

/**
 * One memory: the exact-duplicate lookup (an index probe) runs while the text is embedded, and storeDrafts reuses
 * both. Heavier queries wait: on two cores they would only slow the model down.
 */
async function saveOne(
  core: Core,
  draft: MemoryDraft,
  interactive: boolean,
  supersedes: number[] = [],
): Promise<SaveResult> {
  const [existing, model] = await Promise.all([
    core.db((db) => idsByHash(db, [draft])),
    core.model("save", []).then(async (model) => {
      draft.vectors = model ? (await core.embedChunks([draft.content]))[0] : null;
      return model;
    }),
  ]);
  const similar = !existing.size && interactive ? await similarMemories(core, draft, model) : [];
  const result = await mergeNearDuplicate(core, draft, similar) ?? (await storeDrafts(core, [draft], existing))[0];
  // Newest wins: what this memory replaces, named or recognised (new memories only, not merges or duplicates).
  const restated = result.duplicate
    ? []
    : similar.filter((c) => c.superseded_by === null && restatesWithNewValue(draft.content, c.content));
  const olds = [...new Set([...supersedes, ...restated.map((c) => c.id)])].filter((o) => o !== result.id);
  if (olds.length) result.supersedes = await supersede(core, result.id, draft.project, olds);
  return result;
}

/**
 * The memories of the same project and kind most like a new one: with vectors, the nearest (one HNSW query);
 * without, those sharing its rarest words (a small posting budget is enough for a text with most words in common).
 */
async function similarMemories(core: Core, draft: MemoryDraft, model: LoadedModel | null) {
  const filters: SearchFilters = { project: draft.project, kinds: [draft.kind] };
  return await core.db(async (db) => {
    if (model && draft.vectors?.length) return await nearest(db, model, draft.vectors[0], filters, 3);
    const terms = queryTerms(draft.content).slice(0, 64);
    const found = await candidateLists(db, { terms, vector: null, filters, depth: 3, budget: 200 });
    const ids = found.keyword?.hits.map((h) => h.id) ?? [];
    return (await getMemories(db, ids)).map((m) => ({ ...m, similarity: undefined as number | undefined }));
  });
}

/**
 * Near-duplicates (interactive saves of non-conversation kinds only; imports and hooks store what they get): an
 * existing memory of the same project and kind whose text, compared word by word (case, punctuation and width
 * ignored), differs from the new one in at most one word in ten, where every differing word is inert (no digits, no
 * negation, at most 12 characters), whose numbers and negations come in the same order, and, when both have
 * vectors, whose similarity is at least 0.95. "Port 5432" and "port 5433" are different memories; "Use tabs, not
 * spaces." and "use tabs not spaces" are one. The existing memory stays, gains the new tags and metadata keys, and
 * its updated_at moves.
 */
async function mergeNearDuplicate(
  core: Core,
  draft: MemoryDraft,
  candidates: { id: number; content: string; similarity?: number }[],
): Promise<SaveResult | null> {
  const same = candidates.find((c) =>
    (c.similarity === undefined || c.similarity >= 0.95) && sayTheSame(draft.content, c.content)
  );
  if (!same) return null;
  const [m] = await core.db((db) => getMemories(db, [same.id]));
  const tags = [...new Set([...m.tags, ...draft.tags])];
  const metadata = { ...draft.metadata, ...m.metadata };
  await core.db((db) => updateMemory(db, m.id, { tags, metadata }));
  return {
    id: m.id,
    duplicate: true,
    project: m.project,
    session: m.session,
    kind: m.kind,
    created_at: m.created_at,
    embedded: false,
    redactions: draft.redactions,
    warnings: [`memory ${m.id} already says this; merged into it (tags added, nothing else stored)`],
  };
}

/**
 * Stores drafts (the one write path of new memories): exact duplicates are not embedded, equal drafts in one batch
 * are stored once, the rest go in one statement. `known`: the exact-duplicate lookup, when the caller made it.
 */
export async function storeDrafts(
  core: Core,
  drafts: MemoryDraft[],
  known?: Map<string, Existing>,
): Promise<SaveResult[]> {
  const existing = known ?? await core.db((db) => idsByHash(db, drafts));
  // Exact duplicates need no embedding; of several equal new drafts, the first is the one stored.
  const fresh = new Map<string, MemoryDraft>();
  for (const d of drafts) if (!existing.has(hashKey(d)) && !fresh.has(hashKey(d))) fresh.set(hashKey(d), d);
  const freshDrafts = [...fresh.values()];
  const warnings: string[] = [];
  const model = freshDrafts.length ? await core.model("save", warnings) : null;
  const toEmbed = freshDrafts.filter((d) => d.vectors === undefined);
  const embedded = model ? await core.embedChunks(toEmbed.map((d) => d.content)) : [];
  toEmbed.forEach((d, i) => d.vectors = embedded[i] ?? null);
  const vectors = freshDrafts.flatMap((d) =>
    (d.vectors ?? []).map((vector, chunk) => ({ project: d.project, hash: d.hash, chunk, vector }))
  );
  const rows = await core.db((db) => insertDrafts(db, freshDrafts, vectors, model?.key ?? null));
  const inserted = new Map(rows.map((r) => [hashKey(r), r]));
  // Saved by someone else between our check and our insert: report theirs.
  const raced = freshDrafts.filter((d) => !inserted.has(hashKey(d)));
  if (raced.length) {
    for (const [k, e] of await core.db((db) => idsByHash(db, raced))) existing.set(k, e);
  }

  return drafts.map((d) => {
    const k = hashKey(d);
    const row = fresh.get(k) === d ? inserted.get(k) : undefined;
    const other = existing.get(k) ?? inserted.get(k);
    if (!row && !other) throw new SageError("internal", "a saved memory's id could not be found");
    const embedded = !!row && !!model && !!d.vectors?.length;
    const w = row ? [...warnings] : [];
    if (row && model && !embedded) {
      w.push("the embedding model cannot represent this text; it is found by keyword search only");
    }
    return {
      id: (row ?? other)!.id,
      duplicate: !row,
      project: d.project,
      session: d.session,
      kind: d.kind,
      created_at: (row ?? other)!.created_at,
      embedded,
      redactions: d.redactions,
      warnings: w,
    };
  });
}

/** How a conversation turn reads as a memory (save_conversation and captured Claude Code turns alike). */
export function conversationContent(prompt: string, response: string): string {
  return `User: ${prompt.trim()}\n\nAssistant: ${response.trim()}`;
}

export function contentHash(content: string): string {
  return createHash("sha256").update(content, "utf8").digest("hex");
}
