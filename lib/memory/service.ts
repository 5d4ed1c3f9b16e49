/**
 * The memory service: the one facade every edge (MCP tools, CLI commands, hooks) calls. Each method is one use
 * case, written once in its module:
 *   save.ts (save, conversation, many) · query.ts (search, context) · recall.ts (the hooks' recall and digest,
 *   with the injection ledger) · edit.ts (get, update, delete) · sessions.ts · transfer.ts (export, import) ·
 *   capture.ts (Claude Code turns) · backfill.ts (Claude Code's transcripts on disk) · maintenance.ts (reindex,
 *   vector backfill, status, migrate, model checks).
 * The facade holds no logic and hands out neither the database nor the embedder; lib/app.ts builds it.
 */
import type { MigrateResult } from "../db/migrate.ts";
import type { LoadedModel } from "../embed/embedder.ts";
import type { ContextResult, Memory, MemoryDetail, SaveResult, SearchResult, Session } from "../types.ts";
import * as backfill from "./backfill.ts";
import * as browse from "./browse.ts";
import * as capture from "./capture.ts";
import type { Core } from "./core.ts";
import * as edit from "./edit.ts";
import * as maintenance from "./maintenance.ts";
import * as query from "./query.ts";
import * as recallUseCase from "./recall.ts";
import * as save from "./save.ts";
import * as sessions from "./sessions.ts";
import * as transfer from "./transfer.ts";

export type { ConversationInput, SaveInput } from "./save.ts";
export type { ContextInput, FilterInput, SearchInput } from "./query.ts";
export type { DeleteInput, UpdateInput } from "./edit.ts";
export type { ExportInput, ExportLine, ImportStats } from "./transfer.ts";
export type { BackfillInput, BackfillProgress, BackfillStats } from "./backfill.ts";

export class MemoryService {
  readonly #core: Core;
  #stopBackfill: (() => void) | null = null;

  constructor(core: Core) {
    this.#core = core;
  }

  /** The project memories go to when a call names none. */
  get project(): string {
    return this.#core.scope.project;
  }

  /** The current session (the MCP server's; none until the first save or manage_session). */
  get session(): string | null {
    return this.#core.scope.session;
  }

  /** Starts connecting and loading the model in the background; returns at once. */
  warmUp(): void {
    this.#core.conn.get().catch(() => {/* reported by the first call that needs it */});
    this.#core.embedder.start();
  }

  /** The server's background work: vectors for memories saved without one, now and every minute. */
  startBackfill(): void {
    this.#stopBackfill ??= maintenance.startBackfill(this.#core);
  }

  async close(): Promise<void> {
    this.#stopBackfill?.();
    await this.#core.embedder.close();
    await this.#core.conn.close();
  }

  // saving
  saveMemory = (input: save.SaveInput): Promise<SaveResult> => save.saveMemory(this.#core, input);
  saveConversation = (input: save.ConversationInput): Promise<SaveResult> => save.saveConversation(this.#core, input);
  saveMany = (inputs: save.SaveInput[]): Promise<SaveResult[]> => save.saveMany(this.#core, inputs);

  // querying
  search = (input: query.SearchInput): Promise<SearchResult> => query.search(this.#core, input);
  context = (input: query.ContextInput): Promise<ContextResult> => query.context(this.#core, input);
  recall = (input: recallUseCase.RecallInput): Promise<recallUseCase.RecallResult> =>
    recallUseCase.recall(this.#core, input);
  digest = (input: Parameters<typeof recallUseCase.digest>[1]): Promise<string> =>
    recallUseCase.digest(this.#core, input);

  // one memory
  get = (id: unknown, project?: unknown): Promise<MemoryDetail> => edit.getMemory(this.#core, id, project);
  update = (input: edit.UpdateInput): Promise<Memory> => edit.updateMemoryById(this.#core, input);
  delete = (input: edit.DeleteInput): Promise<{ deleted: number[]; not_found: number[] }> =>
    edit.deleteMemories(this.#core, input);

  // sessions
  createSession = (input: { id?: unknown; name?: unknown; project?: unknown }): Promise<Session> =>
    sessions.createSession(this.#core, input);
  switchSession = (input: sessions.SessionRef): Promise<Session> => sessions.switchSession(this.#core, input);
  sessionInfo = (input: sessions.SessionRef): Promise<sessions.SessionInfo> => sessions.sessionInfo(this.#core, input);
  listSessions = (input: { project?: unknown; all_projects?: unknown; limit?: unknown }): Promise<Session[]> =>
    sessions.listSessions(this.#core, input);

  // export / import
  exportLines = (input: transfer.ExportInput): AsyncGenerator<transfer.ExportLine> =>
    transfer.exportLines(this.#core, input);
  exportCount = (input: transfer.ExportInput): Promise<number> => transfer.exportCount(this.#core, input);
  importLines = (
    lines: Iterable<string> | AsyncIterable<string>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<transfer.ImportStats> => transfer.importLines(this.#core, lines, onProgress);

  // automatic capture (Claude Code hooks)
  saveTurns = (input: Parameters<typeof capture.saveTurns>[1]): Promise<capture.CaptureCounts> =>
    capture.saveTurns(this.#core, input);
  captureTranscript = (req: capture.CaptureRequest): Promise<capture.CaptureCounts> =>
    capture.captureTranscript(this.#core, req);

  // Claude Code's transcripts on disk, captured as the hooks would have
  backfill = (input?: backfill.BackfillInput): Promise<backfill.BackfillStats> => backfill.backfill(this.#core, input);
  backfillHint = (input: { project: string; session?: string }): Promise<string | null> =>
    backfill.backfillHint(this.#core, input);

  // the memory browser
  browse = (input: browse.BrowseInput): Promise<browse.BrowseResult> => browse.browse(this.#core, input);

  // maintenance
  reindex = (options?: maintenance.ReindexOptions) => maintenance.reindex(this.#core, options);
  refreshTerms = (): Promise<number> => maintenance.refreshTerms(this.#core);
  status = (options?: { waitForModel?: boolean }): Promise<Record<string, unknown>> =>
    maintenance.status(this.#core, options);
  migrate = (): Promise<MigrateResult> => maintenance.migrate(this.#core);
  loadModel = (): Promise<LoadedModel & { loadMs?: number }> => maintenance.loadModel(this.#core);
  checkModel = () => maintenance.checkModel(this.#core);
}
