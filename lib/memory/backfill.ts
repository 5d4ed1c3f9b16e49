/**
 * Backfill: every Claude Code transcript already on disk, captured as the hooks would have captured it. Each turn
 * is stored by saveTurns under its uuid, in the project the hooks would use (the git root of the working directory
 * the transcript records) and the transcript's session, so running it again, or a hook capturing the same
 * transcript later, updates in place and never stores a turn twice. `.sageignore`, `<private>` and redaction
 * apply as they do for the hooks; subagent transcripts are left out as the hooks leave sidechains out.
 */
import { BULK_WRITE, projectHasMemories, projectNames, refreshPlannerStats } from "../db/repos/stats.ts";
import { invalid, SageError } from "../errors.ts";
import { log } from "../log.ts";
import { findProjectRoot, normalizeProject, optedOut } from "../project.ts";
import { type CaptureCounts, cleanTurn, saveTurns } from "./capture.ts";
import type { Core } from "./core.ts";
import { parseTranscript, type Turn } from "./transcript.ts";
import {
  checkDir,
  decodeProjectFolder,
  encodeProjectFolder,
  listTranscripts,
  nextLine,
  openRegular,
  projectsDir,
  readSlice,
  SLICE_BYTES,
  transcriptHead,
} from "./transcript_files.ts";
import { checkTime } from "./validate.ts";

export interface BackfillInput {
  /** The folder searched for transcripts (default: Claude Code's projects folder). */
  dir?: string;
  /** Only turns from this time on: ISO time or an age (7d). */
  since?: unknown;
  /** Only transcripts of this project (an absolute path: the project's git root). */
  project?: unknown;
  /** Count what would be stored; write nothing. */
  dryRun?: boolean;
  /** Called as the work goes on (after each batch of turns). */
  onProgress?: (p: BackfillProgress) => void;
}

export interface BackfillProgress {
  /** Transcripts done, of `total`. */
  transcripts: number;
  total: number;
  turns: number;
  seconds: number;
}

export interface BackfillStats {
  dir: string;
  dry_run: boolean;
  transcripts: {
    found: number;
    read: number;
    /** Not read: subagent transcripts, projects opted out, other projects, untouched since --since, unreadable. */
    skipped: number;
    subagent: number;
    opted_out: number;
    other_project: number;
    older: number;
    unreadable: number;
  };
  /** Answered turns found (from --since on), and what became of them. */
  turns: { found: number } & CaptureCounts & { failed: number };
  /** Turns found per project. */
  projects: Record<string, number>;
  seconds: number;
}

/** Turns stored per saveTurns call: one embedding batch and one statement each. */
const BATCH = 200;

export async function backfill(core: Core, input: BackfillInput = {}): Promise<BackfillStats> {
  const dir = await checkDir(input.dir ?? defaultDir(core));
  const since = checkTime("since", input.since);
  const only = input.project === undefined ? null : checkProjectFilter(input.project);
  const t0 = performance.now();
  const stats: BackfillStats = {
    dir,
    dry_run: input.dryRun === true,
    transcripts: {
      found: 0,
      read: 0,
      skipped: 0,
      subagent: 0,
      opted_out: 0,
      other_project: 0,
      older: 0,
      unreadable: 0,
    },
    turns: { found: 0, saved: 0, updated: 0, unchanged: 0, failed: 0 },
    projects: {},
    seconds: 0,
  };
  const files = await listTranscripts(dir);
  stats.transcripts.found = files.length;
  let done = 0;
  const progress = () =>
    input.onProgress?.({
      transcripts: done,
      total: files.length,
      turns: stats.turns.found,
      seconds: (performance.now() - t0) / 1000,
    });
  const skip = (why: "subagent" | "opted_out" | "other_project" | "older" | "unreadable") => {
    stats.transcripts[why]++;
    stats.transcripts.skipped++;
  };
  const resolver = new ProjectResolver(core, only);
  for (const f of files) {
    done++;
    if (f.subagent) skip("subagent");
    else if (since && f.modified && f.modified < since) skip("older");
    else {
      const opened = await openRegular(f.path);
      if (!opened) {
        skip("unreadable");
        continue;
      }
      try {
        const head = await transcriptHead(opened.file);
        const project = await resolver.of(recordedDir(head.cwd, f.folder));
        if (!project) skip("unreadable");
        else if (only && project !== only) skip("other_project");
        else if (optedOut(project)) skip("opted_out");
        else {
          // The session is the file's name: what Claude Code hands the hooks as session_id for this transcript.
          const session = f.path.replace(/^.*[\\/]/, "").replace(/\.jsonl$/, "") || head.sessionId || "";
          const store = (turns: Turn[]) =>
            storeTurns(core, stats, { project, session, turns, since, dryRun: stats.dry_run }, progress);
          await readTurns(opened.file, opened.size, store);
          stats.transcripts.read++;
        }
      } finally {
        opened.file.close();
      }
    }
    progress();
  }
  if (stats.turns.saved >= BULK_WRITE) await core.db(refreshPlannerStats);
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

/**
 * Reads a whole transcript slice by slice, handing over its turns as the hooks would capture them: a turn that may
 * go on in the next slice is read again with it (unless it alone fills a slice), and once the file is read to its
 * end nothing more comes, so its last turn is complete (as SessionEnd has it) unless its last line is half-written.
 */
async function readTurns(file: Deno.FsFile, size: number, store: (turns: Turn[]) => Promise<void>): Promise<void> {
  let offset = 0;
  while (offset < size) {
    const bytes = await readSlice(file, offset, SLICE_BYTES);
    if (!bytes.length) break;
    const { turns, end } = parseTranscript(bytes, offset);
    const last = turns[turns.length - 1];
    const more = offset + bytes.length < size;
    if (!more) {
      if (last && end === size) last.complete = true;
      await store(turns);
      break;
    }
    if (end === offset) {
      offset = await nextLine(file, offset, size); // one line longer than a slice: skipped, like a damaged one
    } else if (last && last.start > offset) {
      await store(turns.slice(0, -1));
      offset = last.start;
    } else {
      await store(turns);
      offset = end;
    }
  }
}

async function storeTurns(
  core: Core,
  stats: BackfillStats,
  input: { project: string; session: string; turns: Turn[]; since?: Date; dryRun: boolean },
  afterBatch: () => void,
): Promise<void> {
  const since = input.since?.getTime();
  // A prompt the API never answered is not a memory (as in capture).
  const worth = input.turns
    .filter((t) => t.response.trim() && (since === undefined || !(Date.parse(t.timestamp) < since)))
    .map(cleanTurn);
  stats.turns.found += worth.length;
  if (worth.length) stats.projects[input.project] = (stats.projects[input.project] ?? 0) + worth.length;
  for (let i = 0; i < worth.length; i += BATCH) {
    const batch = worth.slice(i, i + BATCH);
    const base = { project: input.project, session: input.session, dryRun: input.dryRun };
    try {
      add(stats, await saveTurns(core, { ...base, turns: batch }));
    } catch (err) {
      if (!(err instanceof SageError && err.code === "invalid_input")) throw err;
      // One turn the checks refuse (a timestamp that is no date…) must not cost the others: one by one.
      for (const turn of batch) {
        try {
          add(stats, await saveTurns(core, { ...base, turns: [turn] }));
        } catch (e) {
          if (!(e instanceof SageError && e.code === "invalid_input")) throw e;
          stats.turns.failed++;
          log.warn("turn not stored", { session: input.session, turn: turn.uuid, error: e.userMessage });
        }
      }
    }
    afterBatch();
  }
}

function add(stats: BackfillStats, c: CaptureCounts): void {
  stats.turns.saved += c.saved;
  stats.turns.updated += c.updated;
  stats.turns.unchanged += c.unchanged;
}

function defaultDir(core: Core): string {
  const dir = projectsDir(core.config.claudeDir);
  if (!dir) throw invalid("no home directory to find ~/.claude/projects in", "Give the folder: sage backfill DIR.");
  return dir;
}

function checkProjectFilter(value: unknown): string {
  if (typeof value !== "string") throw invalid("project must be a string");
  if (!absolute(value.trim())) {
    throw invalid(`project must be an absolute path (a project's git root), got "${value}"`, 'e.g. --project "$PWD"');
  }
  // A folder inside a checkout stands for the checkout, as everywhere else (when it can be seen from here).
  return visible(value) ? findProjectRoot(value) : normalizeProject(value);
}

/**
 * The project of a recorded working directory: its git root, as the hooks work it out. A directory this process
 * cannot see (the container sees only ~/.claude, not the projects) falls back to the longest project it lies in
 * among those Sage already holds and the one asked for, else the directory itself.
 */
class ProjectResolver {
  readonly #core: Core;
  readonly #only: string | null;
  #known: string[] | null = null;
  readonly #cache = new Map<string, string | null>();

  constructor(core: Core, only: string | null) {
    this.#core = core;
    this.#only = only;
  }

  async of(cwd: string): Promise<string | null> {
    if (!this.#cache.has(cwd)) this.#cache.set(cwd, await this.#resolve(cwd));
    return this.#cache.get(cwd)!;
  }

  async #resolve(cwd: string): Promise<string | null> {
    let dir: string;
    try {
      dir = normalizeProject(cwd);
    } catch {
      return null; // not a path a project can have (control characters…)
    }
    const root = findProjectRoot(cwd);
    if (root !== dir || visible(cwd)) return root;
    this.#known ??= [
      ...(this.#only ? [this.#only] : []),
      ...await this.#core.db((db) => projectNames(db)),
    ];
    const holders = this.#known.filter((p) => dir === p || dir.startsWith(p.endsWith("/") ? p : `${p}/`));
    return holders.sort((a, b) => b.length - a.length)[0] ?? dir;
  }
}

/** The folder a transcript was recorded in: its `cwd` when that is a full path, else what its folder's name says. */
function recordedDir(cwd: string | undefined, folder: string): string {
  return cwd && absolute(cwd) ? cwd : decodeProjectFolder(folder);
}

function absolute(path: string): boolean {
  return /^([\\/]|[A-Za-z]:[\\/])/.test(path);
}

function visible(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * One sentence offering `sage backfill` when a project has no memories yet but Claude Code kept transcripts of it;
 * null otherwise (and whenever anything goes wrong: it is advice, never an error). `session`: the current Claude
 * Code session, whose own transcript does not count.
 */
export async function backfillHint(core: Core, input: { project: string; session?: string }): Promise<string | null> {
  try {
    const project = normalizeProject(input.project);
    const dir = projectsDir(core.config.claudeDir);
    if (!dir || optedOut(project)) return null;
    if (await core.db((db) => projectHasMemories(db, project))) return null;
    const n = await countTranscripts(core, dir, project, input.session);
    if (!n) return null;
    const arg = /^[\w@%+=:,./-]+$/.test(project) ? project : `'${project.replaceAll("'", `'\\''`)}'`;
    return `Sage has no memories of this project yet, but Claude Code kept ${n} conversation transcript${
      n === 1 ? "" : "s"
    } of it. To import them, run \`sage backfill --project ${arg}\` in a terminal (with Sage's container: ` +
      `\`run_sage_single.sh backfill --project ${arg}\`).`;
  } catch (err) {
    log.debug("no backfill hint", { error: String(err) });
    return null;
  }
}

/** Transcripts of `project` (not subagents', not empty, not `session`'s), from the folders its name leads to. */
async function countTranscripts(core: Core, dir: string, project: string, session?: string): Promise<number> {
  const enc = encodeProjectFolder(project);
  const resolver = new ProjectResolver(core, project);
  let n = 0;
  for await (const folder of Deno.readDir(dir)) {
    // Sessions started in the project or any folder inside it: the name is the project's, or begins with it.
    if (!folder.isDirectory || (folder.name !== enc && !folder.name.startsWith(`${enc}-`))) continue;
    const files: string[] = [];
    for await (const e of Deno.readDir(`${dir}/${folder.name}`)) {
      if (!e.isFile || !e.name.endsWith(".jsonl") || e.name.startsWith("agent-")) continue;
      if (e.name === `${session}.jsonl`) continue;
      const path = `${dir}/${folder.name}/${e.name}`;
      if ((await Deno.stat(path)).size > 0) files.push(path);
    }
    if (!files.length) continue;
    // The name is lossy (/repo-old begins like /repo): one transcript's recorded directory decides.
    const opened = await openRegular(files[0]);
    if (!opened) continue;
    try {
      const cwd = (await transcriptHead(opened.file)).cwd;
      if ((await resolver.of(recordedDir(cwd, folder.name))) === project) n += files.length;
    } finally {
      opened.file.close();
    }
  }
  return n;
}
