/**
 * The shapes Sage's use cases take and return, and the one memory draft that travels from input to insert. Every
 * layer may import this file; it imports nothing.
 */

/** Kinds the tools offer; the store accepts any lowercase word so imports can carry their own. */
export const KINDS = [
  "conversation",
  "note",
  "decision",
  "preference",
  "fact",
  "summary",
  "task",
  "reference",
] as const;
export type Kind = typeof KINDS[number];

export interface Memory {
  id: number;
  project: string;
  session: string | null;
  kind: string;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  /** ISO 8601, UTC, microseconds: exactly what the database holds, so export/import round-trips. */
  created_at: string;
  updated_at: string;
  /** A newer memory that says the same about this subject with a new value; null while this one is current. */
  superseded_by: number | null;
}

/**
 * A memory on its way in: validated, privacy-filtered and analysed, not stored yet. One type from input to insert
 * (saves, imports and captured turns alike).
 */
export interface MemoryDraft extends Pick<Memory, "project" | "session" | "kind" | "content" | "tags" | "metadata"> {
  /** Explicit id (import); otherwise the next from the sequence. */
  id?: number;
  /** sha256 of the content: with the project, the unique key (exact duplicates are stored once). */
  hash: string;
  /** Distinct keyword terms (lib/text/terms.ts). */
  terms: string[];
  /** Number of terms with repeats: the BM25 document length. */
  termCount: number;
  /** ISO times; absent: now. */
  createdAt?: string;
  updatedAt?: string;
  /** What privacy filtering removed, by label. */
  redactions: string[];
  /** Chunk vectors once embedded; null: none (no model, or nothing it can represent); undefined: not yet. */
  vectors?: Float32Array[] | null;
}

export interface MemoryDetail extends Memory {
  content_hash: string;
  /** Vectors stored for the current model, if any. */
  embedding: { model: string; chunks: number } | null;
}

export interface SaveResult {
  id: number;
  /** True when the same content already existed in the project; nothing new was stored. */
  duplicate: boolean;
  project: string;
  session: string | null;
  kind: string;
  created_at: string;
  /** Whether a vector was stored (false: no model, or nothing the model could represent). */
  embedded: boolean;
  /** What privacy filtering removed, by label. */
  redactions: string[];
  warnings: string[];
  /** Older memories this one now supersedes (named in `supersedes`, or recognised as the same fact, older value). */
  supersedes?: number[];
}

export type SearchMode = "hybrid" | "keyword" | "vector";

export interface SearchFilters {
  /** null: every project. */
  project: string | null;
  session?: string;
  /** Leave out this session's memories (the hook recalling for a session that already has them in context). */
  excludeSession?: string;
  /** Memories carrying every one of these tags. */
  tags?: string[];
  kinds?: string[];
  /** created_at ≥ after, < before. */
  after?: Date;
  before?: Date;
}

export interface SearchHit extends Memory {
  /**
   * Relevance: keyword evidence (share of the query's information present, 1 ≈ all of it) + vector evidence
   * (how far above chance the similarity stands, 1 ≈ twice the best chance would give) + half the best
   * neighbour's + 0.5 inside a time window the query named. Above ~0.5 is a solid match.
   */
  score: number;
  /** Where the score came from (absent parts are zero). */
  match: {
    keyword?: number;
    vector?: number;
    /** Cosine similarity of the best chunk. */
    similarity?: number;
    keyword_rank?: number;
    vector_rank?: number;
    /** Share inherited from an adjacent memory of the same session. */
    neighbour?: number;
    /** Boost for lying in the time window the query named. */
    time?: number;
  };
}

export interface SearchResult {
  query: string;
  mode: SearchMode;
  project: string | null;
  hits: SearchHit[];
  warnings: string[];
}

export interface ContextResult {
  query: string;
  project: string | null;
  /** The block to put in front of the model. */
  text: string;
  tokens: number;
  items: { id: number; created_at: string; kind: string; score: number; truncated: boolean }[];
  warnings: string[];
}

export interface Session {
  id: string;
  project: string;
  name: string | null;
  created_at: string;
  updated_at: string;
  memories: number;
  current?: boolean;
}
