/**
 * One memory by id: read it, correct it, delete it (or several, by ids or filters, with confirmation). An id acts
 * on a memory of the current project, or of the project named with it: an id from another project's search (or a
 * guessed one) is "not found" here unless that project is named, so no call reaches across projects by accident.
 */
import {
  deleteByIds,
  getMemories,
  getMemoryDetail,
  idsByHash,
  listIds,
  type MemoryPatch,
  updateMemory,
} from "../db/repos/memories.ts";
import { deleteVectors, insertVectors } from "../db/repos/vectors.ts";
import type { LoadedModel } from "../embed/embedder.ts";
import { invalid, SageError } from "../errors.ts";
import { sanitizeJson } from "../text/privacy.ts";
import type { Memory, MemoryDetail } from "../types.ts";
import { type Core, notFound } from "./core.ts";
import { filtersOf } from "./query.ts";
import { makeDraft } from "./save.ts";
import { checkSupersedable, checkSupersedes, supersede } from "./supersede.ts";
import { checkBool, checkId, checkKind, checkMetadata, checkTags } from "./validate.ts";

export interface UpdateInput {
  id: unknown;
  /** The project the memory belongs to: the current one unless named. */
  project?: unknown;
  content?: unknown;
  kind?: unknown;
  tags?: unknown;
  metadata?: unknown;
  /** Ids of older memories of the project this one now replaces. */
  supersedes?: unknown;
}

export interface DeleteInput {
  id?: unknown;
  ids?: unknown;
  project?: unknown;
  all_projects?: unknown;
  session?: unknown;
  tags?: unknown;
  kinds?: unknown;
  before?: unknown;
  after?: unknown;
  confirm?: unknown;
}

export async function getMemory(core: Core, idInput: unknown, projectInput?: unknown): Promise<MemoryDetail> {
  const id = checkId(idInput);
  const project = core.scope.projectOf(projectInput);
  // Waits for a model still loading: before it is known, every memory would look unembedded.
  const modelKey = (await core.model("search", []))?.key ?? null;
  const m = await core.db((db) => getMemoryDetail(db, id, project, modelKey));
  if (!m) throw notFound(id, project);
  return m;
}

export async function updateMemoryById(core: Core, input: UpdateInput): Promise<Memory> {
  const id = checkId(input.id);
  if (
    input.content === undefined && input.kind === undefined && input.tags === undefined &&
    input.metadata === undefined && input.supersedes === undefined
  ) {
    throw invalid("nothing to update: give content, kind, tags, metadata or supersedes");
  }
  const project = core.scope.projectOf(input.project);
  const [current] = (await core.db((db) => getMemories(db, [id]))).filter((m) => m.project === project);
  if (!current) throw notFound(id, project);
  const olds = checkSupersedes(input.supersedes);
  await checkSupersedable(core, current.project, olds, id);
  const patch: MemoryPatch = {};
  let vectors: Float32Array[] | null = null;
  let model: LoadedModel | null = null;
  if (input.content !== undefined) {
    const draft = await makeDraft(core, { content: input.content, project: current.project, session: null });
    patch.content = { text: draft.content, hash: draft.hash, terms: draft.terms, termCount: draft.termCount };
    const clash = await core.db((db) => idsByHash(db, [draft]));
    const other = [...clash.values()].find((e) => e.id !== id)?.id;
    if (other) throw new SageError("conflict", `memory ${other} in this project already has exactly this content`);
    model = await core.model("save", []);
    if (model) vectors = (await core.embedChunks([draft.content]))[0];
  }
  if (input.kind !== undefined) patch.kind = checkKind(input.kind);
  if (input.tags !== undefined) patch.tags = sanitizeJson(checkTags(input.tags));
  if (input.metadata !== undefined) patch.metadata = sanitizeJson(checkMetadata(input.metadata));
  const updated = await core.db((db) =>
    db.tx(async (q) => {
      const m = await updateMemory(q, id, patch);
      if (m && patch.content) {
        await deleteVectors(q, id);
        if (model && vectors) {
          await insertVectors(
            q,
            model.key,
            vectors.map((vector, chunk) => ({ memoryId: id, project: m.project, chunk, vector })),
          );
        }
      }
      return m;
    })
  );
  if (!updated) throw notFound(id, project);
  if (olds.length) await supersede(core, id, current.project, olds);
  return updated;
}

/**
 * Deletes one memory by id, or many (a list of ids, or filters). Deleting more than one needs `confirm: true`;
 * without it nothing changes and the error says how many would go.
 */
export async function deleteMemories(
  core: Core,
  input: DeleteInput,
): Promise<{ deleted: number[]; not_found: number[] }> {
  // With id or ids, `project` names the project they belong to, and `all_projects: true` any project (`sage delete`
  // passes it: its ids come from the user's own `sage view` of every project); on their own they are filters.
  const byId = input.id !== undefined || input.ids !== undefined;
  const filterGiven = ["session", "tags", "kinds", "before", "after", ...(byId ? [] : ["all_projects"])]
    .some((k) => (input as Record<string, unknown>)[k] !== undefined);
  if (input.confirm !== undefined && typeof input.confirm !== "boolean") throw invalid("confirm must be true or false");
  if (input.id !== undefined && (input.ids !== undefined || filterGiven)) {
    throw invalid("give either id, or ids, or filters, not several");
  }
  const idScope = () => {
    if (!checkBool("all_projects", input.all_projects)) return core.scope.projectOf(input.project);
    if (input.project !== undefined) throw invalid("give project or all_projects, not both");
    return null;
  };
  if (input.id !== undefined) {
    const id = checkId(input.id);
    const project = idScope();
    const deleted = await core.db((db) => deleteByIds(db, [id], project));
    if (!deleted.length) throw notFound(id, project);
    return { deleted, not_found: [] };
  }
  let targets: number[];
  let project: string | null;
  let notFoundIds: number[] = [];
  if (input.ids !== undefined) {
    if (!Array.isArray(input.ids) || !input.ids.length) throw invalid("ids must be a non-empty list of memory ids");
    if (filterGiven) throw invalid("give either ids or filters, not both");
    const ids = [...new Set(input.ids.map((v) => checkId(v, "ids[]")))];
    const scope = project = idScope();
    const found = new Set(
      (await core.db((db) => getMemories(db, ids))).filter((m) => scope === null || m.project === scope).map((m) =>
        m.id
      ),
    );
    targets = ids.filter((i) => found.has(i));
    notFoundIds = ids.filter((i) => !found.has(i));
  } else if (filterGiven || input.project !== undefined) {
    const filters = filtersOf(core, input);
    project = filters.project;
    targets = await core.db((db) => listIds(db, filters));
  } else {
    throw invalid("say what to delete: id, ids, or filters (project, session, tags, kinds, before, after)");
  }
  if (targets.length > 1 && input.confirm !== true) {
    throw invalid(
      `this would delete ${targets.length} memories; nothing was deleted`,
      "Repeat the call with confirm: true to delete them.",
    );
  }
  const deleted = targets.length ? await core.db((db) => deleteByIds(db, targets, project)) : [];
  return { deleted, not_found: notFoundIds };
}
