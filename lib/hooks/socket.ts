/**
 * Hooks ask a running `sage serve` (Claude Code keeps one per window) to do their work: it has the model loaded
 * and the database open, so a UserPromptSubmit hook gets hybrid recall in milliseconds instead of loading a
 * model. The channel is a Unix socket, never a TCP port, in a folder only this user can enter: SAGE_HOME/sockets,
 * or, when that path is too long for a socket address, /tmp/sage-<uid> (made safely, refused if another user made
 * it first). The socket is made under umask 077 and set to 0600, and a hook checks the socket, its folder and the
 * folder above belong to its own user before it sends anything: prompts go to no one else. One server per database
 * answers (the first to bind); when none is running (or the socket cannot be trusted), hooks work directly against
 * the database.
 *
 * Protocol: the client writes one JSON line {event, input, project?}; the server answers one JSON line
 * {ok, stdout} or {ok: false, error} and closes.
 */
import type { Config } from "../config.ts";
import { ensureOwnHome, ensurePrivateDir, privateMode, runtimeDir, socketPathFits, untrustedSocket } from "../files.ts";
import { log } from "../log.ts";
import { shortHash } from "../text/hash.ts";

export interface HookRequest {
  event: string;
  /** The hook's stdin, as Claude Code sent it. */
  input: string;
  /** SAGE_PROJECT of the hook's environment (set by the container's run script). */
  project?: string;
}

export type HookReply = { ok: true; stdout: string } | { ok: false; error: string };

/** The socket for this database: a different DATABASE_URL in the same SAGE_HOME gets its own. */
export function hookSocketPath(config: Config): string {
  const id = shortHash(config.dbUrl ?? "private-cluster");
  const path = `${config.home}/sockets/hooks-${id}.sock`;
  return socketPathFits(path) ? path : `${runtimeDir()}/hooks-${shortHash(config.home)}-${id}.sock`;
}

/** The socket's folder, made private (see ensurePrivateDir); throws when that cannot be done safely. */
function prepareSocketDir(config: Config, path: string): void {
  const dir = path.replace(/\/[^/]*$/, "");
  if (dir === runtimeDir()) ensurePrivateDir(dir, privateMode());
  else {
    ensureOwnHome(config.home);
    ensurePrivateDir(dir, 0o700);
  }
}

export function unixSocketsSupported(): boolean {
  return Deno.build.os !== "windows";
}

/**
 * Serves hook requests until the returned stop function is called. If another live server holds the socket,
 * this one retries every 30 s (it takes over when that one exits).
 */
export function serveHooks(config: Config, handle: (req: HookRequest) => Promise<string>): () => void {
  if (!unixSocketsSupported()) return () => {};
  const path = hookSocketPath(config);
  let listener: Deno.Listener | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const tryBind = async () => {
    if (stopped) return;
    try {
      prepareSocketDir(config, path);
      if (await alive(path)) {
        timer = setTimeout(tryBind, 30_000);
        return;
      }
      await Deno.remove(path).catch(() => {}); // stale, from a server that died
      const umask = Deno.umask(0o077); // no moment when the socket is open to others
      try {
        listener = Deno.listen({ transport: "unix", path });
      } finally {
        Deno.umask(umask);
      }
      await Deno.chmod(path, 0o600);
      log.debug("answering hooks", { socket: path });
      for await (const conn of listener) answer(conn, handle);
    } catch (err) {
      if (!stopped) {
        // Said at warn level: a folder someone else made (or planted) is worth knowing about.
        log.warn("hook socket unavailable; hooks work without the server; retrying later", {
          socket: path,
          error: (err as Error).message,
        });
        timer = setTimeout(tryBind, 30_000);
      }
    }
  };
  tryBind();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (listener) {
      try {
        listener.close();
      } catch {
        // already closed
      }
      try {
        Deno.removeSync(path);
      } catch {
        // gone already
      }
    }
  };
}

async function answer(conn: Deno.Conn, handle: (req: HookRequest) => Promise<string>): Promise<void> {
  let reply: HookReply;
  try {
    const line = await readLine(conn, 16 * 1024 * 1024);
    const req = JSON.parse(line) as HookRequest;
    reply = { ok: true, stdout: await handle(req) };
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  try {
    await writeAll(conn, new TextEncoder().encode(JSON.stringify(reply) + "\n"));
  } catch {
    // the hook gave up waiting
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the peer
    }
  }
}

/**
 * Sends a hook to the running server. Returns null when there is none (so the caller works directly); throws
 * when the server answered with an error or did not answer within `timeoutMs`.
 */
export async function askServer(config: Config, req: HookRequest, timeoutMs: number): Promise<string | null> {
  if (!unixSocketsSupported()) return null;
  const path = hookSocketPath(config);
  const untrusted = untrustedSocket(path);
  if (untrusted) {
    if (untrusted !== "absent") log.warn("hook socket not trusted; working without the server", { reason: untrusted });
    return null;
  }
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch {
    return null; // no server
  }
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await writeAll(conn, new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const reply = JSON.parse(await readLine(conn, 16 * 1024 * 1024)) as HookReply;
    if (!reply.ok) throw new Error(`sage server: ${reply.error}`);
    return reply.stdout;
  } catch (err) {
    throw new Error(`hook not answered: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
}

async function alive(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    return false;
  }
}

async function readLine(conn: Deno.Conn, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buf = new Uint8Array(64 * 1024);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    const part = buf.slice(0, n);
    const nl = part.indexOf(10);
    chunks.push(nl >= 0 ? part.subarray(0, nl) : part);
    size += n;
    if (nl >= 0) break;
    if (size > max) throw new Error("message too large");
  }
  const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all);
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let o = 0; o < data.length;) o += await conn.write(data.subarray(o));
}
