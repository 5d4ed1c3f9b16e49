/**
 * Small file-system questions several layers ask, and the rules for Sage's own folders: SAGE_HOME belongs to the
 * user running Sage, and sockets live only in folders that user owns and nobody else can write (checked with lstat,
 * so a symlink planted by someone else is refused, never followed).
 */
import { SageError } from "./errors.ts";

/** Whether anything exists at `path` (a file, a folder, a socket…). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const UNIX = Deno.build.os !== "windows";

/** Whether a Unix socket path fits in a socket address (108 bytes on Linux, 104 on macOS, NUL included). */
export function socketPathFits(path: string): boolean {
  return new TextEncoder().encode(path).length <= 100;
}

/**
 * Where sockets go when SAGE_HOME's path is too long for them: this user's own folder in /tmp, made and checked by
 * ensurePrivateDir (another user who makes it first gets it refused, not used).
 */
export function runtimeDir(): string {
  return `/tmp/sage-${Deno.uid()}`;
}

/** Folder mode for Sage's own folders: private, but root's must let the cluster's user (postgres) pass through. */
export function privateMode(): number {
  return UNIX && Deno.uid() === 0 ? 0o711 : 0o700;
}

/**
 * Makes `path` a folder only `owners` control: created with `mode` when missing (its parent must exist); refused when
 * it is a symlink or not a folder, or belongs to someone else; then set to exactly `mode`. Safe against a squatter
 * in /tmp: an entry of ours in a sticky folder cannot be swapped by another user between the check and the chmod.
 */
export function ensurePrivateDir(path: string, mode: number, owners: number[] = UNIX ? [Deno.uid()!] : []): void {
  try {
    Deno.mkdirSync(path, { mode });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  if (!UNIX) return;
  const st = Deno.lstatSync(path);
  if (st.isSymlink || !st.isDirectory) {
    throw new SageError(
      "unavailable",
      `${path} is not a folder of its own (it is ${st.isSymlink ? "a symlink" : "a file"}); Sage will not use it`,
      `Remove it (rm ${path}), or set SAGE_HOME to a shorter path so Sage's sockets live inside it.`,
    );
  }
  if (!owners.includes(st.uid!)) {
    throw new SageError(
      "unavailable",
      `${path} belongs to another user (uid ${st.uid}); Sage will not put its sockets there`,
      `Remove it (as root), or set SAGE_HOME to a shorter path so Sage's sockets live inside it.`,
    );
  }
  if ((st.mode! & 0o7777) !== mode) Deno.chmodSync(path, mode);
}

/**
 * SAGE_HOME, made private: created (with its parents) when missing; refused when it belongs to another user or is a
 * folder others share (sticky and world-writable, like /tmp); made private when it is ours but open to others.
 * Runs before anything is created in it.
 */
export function ensureOwnHome(home: string): void {
  const mode = privateMode();
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(home);
  } catch {
    Deno.mkdirSync(home, { recursive: true, mode });
    return;
  }
  if (!st.isDirectory) throw new SageError("unavailable", `SAGE_HOME ${home} is not a folder`);
  if (!UNIX) return;
  if (st.uid !== Deno.uid()) {
    throw new SageError(
      "unavailable",
      `SAGE_HOME ${home} belongs to another user (uid ${st.uid}); Sage keeps its data only in a folder you own`,
      "Set SAGE_HOME (or --home) to a folder of yours: the default is ~/.sage (/var/lib/sage as root).",
    );
  }
  if (st.mode! & 0o022) {
    if (st.mode! & 0o1000) {
      throw new SageError(
        "unavailable",
        `SAGE_HOME ${home} is a folder other users share (mode ${(st.mode! & 0o7777).toString(8)})`,
        `Use a folder of its own inside it, such as ${home.replace(/\/+$/, "")}/sage.`,
      );
    }
    Deno.chmodSync(home, mode);
  }
}

/**
 * Why the socket at `path` cannot be trusted to be our own server's ("absent" when there is none), or null when it
 * can: a socket of ours, in a folder of ours nobody else can write, whose parent nobody else can change (or a
 * shared sticky one like /tmp). Whoever passes this check is this user or root.
 */
export function untrustedSocket(path: string): string | null {
  if (!UNIX) return null;
  const uid = Deno.uid();
  const dir = path.replace(/\/[^/]*$/, "");
  try {
    const s = Deno.lstatSync(path);
    const d = Deno.lstatSync(dir);
    if (d.isSymlink || !d.isDirectory || d.uid !== uid || d.mode! & 0o022) {
      return `${dir} is not a private folder of ours`;
    }
    const parent = Deno.statSync(dir.replace(/\/[^/]*$/, "") || "/"); // SAGE_HOME itself may be a link
    if ((parent.uid !== uid && parent.uid !== 0) || (parent.mode! & 0o022 && !(parent.mode! & 0o1000))) {
      return `${dir}'s parent can be changed by other users`;
    }
    if (!s.isSocket || s.uid !== uid) return `${path} is not a socket of ours`;
    return null;
  } catch (err) {
    return err instanceof Deno.errors.NotFound ? "absent" : (err as Error).message;
  }
}
