/**
 * Per-model vector bookkeeping. The dimension comes from the model, so the HNSW index cannot be declared in a
 * migration: each model gets a partial expression index, `(embedding::vector(D)) WHERE model = '<key>'`,
 * created the first time that model is used. Vectors of two models never share an index or a comparison.
 */
import type { Database } from "../database.ts";
import { sqlLiteral } from "../sql.ts";
import { SageError } from "../../errors.ts";
import { shortHash } from "../../text/hash.ts";

export interface ModelRecord {
  key: string;
  name: string;
  dimensions: number;
}

export function indexName(key: string): string {
  return `memory_vectors_hnsw_${shortHash(key)}`;
}

/** Registers the model and creates its HNSW index if missing. Idempotent and safe to race. */
export async function prepareModel(db: Database, model: ModelRecord): Promise<void> {
  const known = await db.query<{ dimensions: number }>("SELECT dimensions FROM embedding_models WHERE key = $1", [
    model.key,
  ]);
  if (known.rows[0] && known.rows[0].dimensions !== model.dimensions) {
    throw new SageError(
      "conflict",
      `model ${model.key} is recorded with ${known.rows[0].dimensions} dimensions but produces ${model.dimensions}`,
      "The model folder changed under the same name; run `sage reindex`.",
    );
  }
  if (!known.rows[0]) {
    await db.query(
      "INSERT INTO embedding_models (key, name, dimensions) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
      [model.key, model.name, model.dimensions],
    );
  }
  const name = indexName(model.key);
  const exists = await db.query("SELECT 1 FROM pg_indexes WHERE schemaname = 'sage' AND indexname = $1", [name]);
  if (exists.rowCount) return;
  // CREATE INDEX IF NOT EXISTS is not safe to race: two processes that both pass the check collide on the
  // catalog's unique key ("already exists"). Creators take turns under a transaction-level advisory lock, and
  // whoever comes second finds the index there.
  await db.tx(async (q) => {
    await q.query("SELECT pg_advisory_xact_lock($1)", [INDEX_LOCK_KEY]);
    const made = await q.query("SELECT 1 FROM pg_indexes WHERE schemaname = 'sage' AND indexname = $1", [name]);
    if (made.rowCount) return;
    await q.query(
      `CREATE INDEX ${name} ON memory_vectors
       USING hnsw ((embedding::vector(${model.dimensions})) vector_cosine_ops) WHERE model = ${sqlLiteral(model.key)}`,
    );
  });
}

const INDEX_LOCK_KEY = 7_351_002; // arbitrary, constant: "sage vector indexes" (migrations use 7_351_001)

/** Removes every other model's vectors and indexes (after a full reindex). Returns the keys removed. */
export async function dropOtherModels(db: Database, keep: string): Promise<string[]> {
  const others = await db.query<{ key: string }>("SELECT key FROM embedding_models WHERE key <> $1", [keep]);
  for (const { key } of others.rows) {
    await db.tx(async (q) => {
      await q.query("DELETE FROM memory_vectors WHERE model = $1", [key]);
      await q.query(`DROP INDEX IF EXISTS ${indexName(key)}`);
      await q.query("DELETE FROM embedding_models WHERE key = $1", [key]);
    });
  }
  return others.rows.map((r) => r.key);
}
