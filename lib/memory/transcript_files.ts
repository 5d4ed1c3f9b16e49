/**
 * Claude Code's transcripts as files: where they are (`<claude dir>/projects/<encoded cwd>/<session>.jsonl`, and a
 * subagent's own under `<session>/subagents/`), how to read one in bounded slices, and which working directory it
 * was recorded in. Only regular files are read: a FIFO or a device named like a transcript would block the reader.
 */
import { invalid } from "../errors.ts";

/** Largest slice of a transcript read at once (what the Stop hook reads too); a huge file is read slice by slice. */
export const SLICE_BYTES = 32 * 1024 * 1024;
/** How much of a transcript's beginning is searched for the working directory it was recorded in. */
const HEAD_BYTES = 1024 * 1024;

export interface TranscriptFile {
  path: string;
  /**
   * The first folder under the searched one (or the searched one, for a file right in it): Claude Code's encoding
   * of the session's working directory.
   */
  folder: string;
  size: number;
  modified: Date | null;
  /** A subagent's own transcript (`agent-*.jsonl`): sidechain entries only, which capture leaves out. */
  subagent: boolean;
}

/** Claude Code's transcripts folder: `$CLAUDE_CONFIG_DIR/projects`, else `~/.claude/projects`. */
export function projectsDir(claudeDir: string | undefined): string | undefined {
  return claudeDir ? `${claudeDir.replace(/[\\/]+$/, "")}/projects` : undefined;
}

/** Throws a clear invalid_input error unless `dir` is a folder that can be read. */
export async function checkDir(dir: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "does not exist" : `cannot be read (${(err as Error).message})`;
    throw invalid(`${dir} ${why}`, TRANSCRIPTS_HINT);
  }
  if (!info.isDirectory) throw invalid(`${dir} is not a folder`, TRANSCRIPTS_HINT);
  return dir.replace(/(.)[\\/]+$/, "$1");
}

const TRANSCRIPTS_HINT =
  "Give the folder that holds Claude Code's transcripts: ~/.claude/projects (or $CLAUDE_CONFIG_DIR/projects).";

/** Every `*.jsonl` under `dir`, by path. Symlinked folders are not followed (no loops); symlinked files are. */
export async function listTranscripts(dir: string): Promise<TranscriptFile[]> {
  const out: TranscriptFile[] = [];
  const walk = async (path: string, folder: string | null) => {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const e of Deno.readDir(path)) entries.push(e);
    } catch {
      return; // a folder we may not enter: nothing of it is read
    }
    for (const e of entries) {
      const full = `${path}/${e.name}`;
      if (e.isDirectory) await walk(full, folder ?? e.name);
      else if (e.name.endsWith(".jsonl") && (e.isFile || e.isSymlink)) {
        const info = await Deno.stat(full).catch(() => null);
        out.push({
          path: full,
          folder: folder ?? dir.replace(/^.*[\\/]/, ""), // DIR is itself a project's folder
          size: info?.size ?? 0,
          modified: info?.mtime ?? null,
          subagent: e.name.startsWith("agent-"),
        });
      }
    }
  };
  await walk(dir, null);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Opens a regular file for reading, with its size; null for anything else or what cannot be opened. */
export async function openRegular(path: string): Promise<{ file: Deno.FsFile; size: number } | null> {
  try {
    if (!(await Deno.stat(path)).isFile) return null;
    const file = await Deno.open(path);
    const info = await file.stat();
    if (info.isFile) return { file, size: info.size };
    file.close();
  } catch {
    // not readable
  }
  return null;
}

/** Up to `max` bytes of `file` from `offset` (fewer at the end of the file). */
export async function readSlice(file: Deno.FsFile, offset: number, max: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const bytes = new Uint8Array(max);
  let read = 0;
  while (read < max) {
    const n = await file.read(bytes.subarray(read));
    if (n === null) break;
    read += n;
  }
  return bytes.subarray(0, read);
}

/** Where the line holding `offset` ends: the offset after its newline, or `size` when it never ends. */
export async function nextLine(file: Deno.FsFile, offset: number, size: number): Promise<number> {
  for (let at = offset; at < size;) {
    const chunk = await readSlice(file, at, 1024 * 1024);
    if (!chunk.length) break;
    const nl = chunk.indexOf(10);
    if (nl >= 0) return at + nl + 1;
    at += chunk.length;
  }
  return size;
}

/** The working directory and session id recorded by the transcript's first entries that have them. */
export async function transcriptHead(file: Deno.FsFile): Promise<{ cwd?: string; sessionId?: string }> {
  const bytes = await readSlice(file, 0, HEAD_BYTES);
  const dec = new TextDecoder();
  const head: { cwd?: string; sessionId?: string } = {};
  for (let pos = 0; pos < bytes.length && !(head.cwd && head.sessionId);) {
    const nl = bytes.indexOf(10, pos);
    if (nl < 0) break;
    const line = dec.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (!entry || typeof entry !== "object") continue;
    const e = entry as { cwd?: unknown; sessionId?: unknown };
    if (!head.cwd && typeof e.cwd === "string" && e.cwd.trim()) head.cwd = e.cwd;
    if (!head.sessionId && typeof e.sessionId === "string" && e.sessionId.trim()) head.sessionId = e.sessionId;
  }
  return head;
}

/** Claude Code's name for a working directory's folder: every character but an ASCII letter or digit becomes `-`. */
export function encodeProjectFolder(path: string): string {
  return path.replace(/[^A-Za-z0-9]/g, "-");
}

/**
 * The working directory a folder name stands for: the existing path that Claude Code would have encoded as that
 * name (the encoding is lossy: `-` stands for `/`, `.`, `_`, a space…), else the name with every `-` read as `/`.
 */
export function decodeProjectFolder(folder: string): string {
  const drive = folder.match(/^([A-Za-z])--(.*)$/); // C:\Users\… → C--Users-…
  const [root, rest] = drive ? [`${drive[1]}:/`, drive[2]] : ["/", folder.replace(/^-/, "")];
  let budget = 200; // directory listings at most: the search must stay quick
  const search = (dir: string, remaining: string): string | null => {
    if (!remaining) return dir;
    if (--budget < 0) return null;
    let names: string[];
    try {
      names = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name);
    } catch {
      return null;
    }
    for (const name of names) {
      const enc = encodeProjectFolder(name);
      if (remaining !== enc && !remaining.startsWith(`${enc}-`)) continue;
      const found = search(`${dir.replace(/\/$/, "")}/${name}`, remaining.slice(enc.length + 1));
      if (found) return found;
    }
    return null;
  };
  return search(root, rest) ?? root + rest.replaceAll("-", "/");
}
