/**
 * Keeping the store healthy: vectors for the current model (reindex, and the server's background backfill of
 * memories saved without one), schema migrations, status, and a check that the model really embeds both languages.
 */
import type { MigrateResult } from "../db/migrate.ts";
import { rewriteTerms, staleTerms } from "../db/repos/memories.ts";
import { dropOtherModels } from "../db/repos/models.ts";
import { BULK_WRITE, counts, databaseStatus, refreshPlannerStats } from "../db/repos/stats.ts";
import { countToEmbed, type NewVector, pageToEmbed, replaceVectors } from "../db/repos/vectors.ts";
import type { LoadedModel } from "../embed/embedder.ts";
import { SageError } from "../errors.ts";
import { log } from "../log.ts";
import { storedTerms } from "../text/terms.ts";
import { VERSION } from "../version.ts";
import { backfillHint } from "./backfill.ts";
import type { Core } from "./core.ts";

export interface ReindexOptions {
  /** Only memories without a vector of the current model. */
  missingOnly?: boolean;
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Embeds memories with the current model. `missingOnly`: just those without its vectors (memories saved while no
 * model was available, or since a model change); otherwise all of them, and afterwards every other model's vectors
 * are removed so vector spaces never mix.
 */
export async function reindex(
  core: Core,
  options: ReindexOptions = {},
): Promise<{ embedded: number; memories: number; removed_models: string[] }> {
  const model = await core.model("save", []);
  if (!model) throw new SageError("model_unavailable", `cannot reindex: ${core.modelError()}`);
  const missing = options.missingOnly ?? false;
  const total = await core.db((db) => countToEmbed(db, model.key, missing));
  const goal = Math.min(total, options.limit ?? total);
  let done = 0;
  let embedded = 0;
  let afterId = 0;
  while (done < goal) {
    const from = afterId;
    const page = await core.db((db) => pageToEmbed(db, model.key, missing, from, Math.min(64, goal - done)));
    if (!page.length) break;
    const vectors = await core.embedChunks(page.map((r) => r.content));
    const rows: NewVector[] = [];
    page.forEach((r, i) =>
      vectors[i]?.forEach((vector, chunk) => rows.push({ memoryId: r.id, project: r.project, chunk, vector }))
    );
    await core.db((db) => db.tx((q) => replaceVectors(q, model.key, page.map((r) => r.id), rows)));
    embedded += vectors.filter((v) => v?.length).length;
    done += page.length;
    afterId = page[page.length - 1].id;
    options.onProgress?.(done, goal);
  }
  const removed = missing ? [] : await core.db((db) => dropOtherModels(db, model.key));
  if (embedded >= BULK_WRITE) await core.db(refreshPlannerStats);
  return { embedded, memories: done, removed_models: removed };
}

/** Memories missing a vector for the current model are filled in the background, up to this many per run. */
const BACKFILL_LIMIT = 500;
const BACKFILL_EVERY_MS = 60_000;

/**
 * Vectors for memories stored without one (no model then, or captured by a hook with no server running), bounded
 * per run, now and every minute until stopped; `sage reindex` does everything at once. First, once, keyword terms an
 * older analyzer made are made again (refreshTerms). Returns the stop function.
 */
export function startBackfill(core: Core): () => void {
  let running = false;
  let termsCurrent = false; // new writes use the current analyzer: once caught up, nothing goes stale again
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await core.conn.get();
      if (!termsCurrent) {
        const n = await refreshTerms(core);
        termsCurrent = true;
        if (n) log.info("re-analysed keyword terms", { memories: n });
      }
      await core.embedder.ready();
      const r = await reindex(core, { missingOnly: true, limit: BACKFILL_LIMIT });
      if (r.memories) log.info("added missing vectors", { memories: r.memories });
    } catch (err) {
      log.debug("background backfill skipped", { reason: (err as Error).message });
    } finally {
      running = false;
    }
  };
  run();
  const timer = setInterval(run, BACKFILL_EVERY_MS);
  return () => clearInterval(timer);
}

/** Memories re-analysed per statement; contents are read whole, so not many at once. */
const TERMS_BATCH = 100;

/**
 * Keyword terms made by an older analyzer (lib/text/terms.ts TERMS_VERSION), made again from each memory's content,
 * a batch per statement so searches go on meanwhile. Returns how many memories it re-analysed.
 */
export async function refreshTerms(core: Core): Promise<number> {
  let done = 0;
  let afterId = 0;
  for (;;) {
    const from = afterId;
    const page = await core.db((db) => staleTerms(db, from, TERMS_BATCH));
    if (!page.length) break;
    const rows = page.map((m) => ({ id: m.id, ...storedTerms(m.content) }));
    await core.db((db) => rewriteTerms(db, rows));
    done += rows.length;
    afterId = page[page.length - 1].id;
  }
  if (done >= BULK_WRITE) await core.db(refreshPlannerStats);
  return done;
}

/** Everything worth knowing at a glance. Never throws: an unreachable database is reported, not raised. */
export async function status(core: Core, options: { waitForModel?: boolean } = {}): Promise<Record<string, unknown>> {
  // Waiting makes the model's name and width real, not "not loaded yet" (`sage status`).
  if (options.waitForModel) await core.embedder.ready().catch(() => {});
  const model = core.embedder.status();
  const out: Record<string, unknown> = {
    version: VERSION,
    uptime_seconds: Math.round((Date.now() - core.startedAt) / 1000),
    project: core.scope.project,
    session: core.scope.session,
    model,
  };
  try {
    // Through core.db: a private cluster that stopped is started again, as for every other call.
    out.database = await core.db((db) => databaseStatus(db, core.conn.embedded));
    out.counts = await core.db((db) => counts(db, core.scope.project, model.key ?? null));
    // Advice: `sage backfill` when Claude Code kept transcripts of a project Sage holds nothing of yet.
    const hint = await backfillHint(core, { project: core.scope.project });
    if (hint) out.backfill = hint;
  } catch (err) {
    out.database = { connected: false, error: err instanceof SageError ? err.userMessage : String(err) };
  }
  return out;
}

/** Opens the database, which applies pending migrations; says what was applied. */
export async function migrate(core: Core): Promise<MigrateResult> {
  await core.conn.get();
  return core.conn.lastMigration!;
}

/** The model, loaded (waits for it); throws model_unavailable with the reason when there is none. */
export async function loadModel(core: Core): Promise<LoadedModel & { loadMs?: number }> {
  const model = await core.embedder.ready();
  return { ...model, loadMs: core.embedder.status().loadMs };
}

/** Loads the model and embeds an English and a Chinese sentence: whether each gives a vector. */
export async function checkModel(
  core: Core,
): Promise<{ model: LoadedModel; loadMs: number; english: boolean; chinese: boolean }> {
  const t0 = performance.now();
  const model = await core.embedder.ready();
  const loadMs = Math.round(performance.now() - t0);
  const [en, zh] = await core.embedder.embedPassages(["The database migration finished.", "数据库迁移完成了。"]);
  return { model, loadMs, english: !!en, chinese: !!zh };
}
