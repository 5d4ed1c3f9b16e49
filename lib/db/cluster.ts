/**
 * The embedded default: with no database URL, Sage runs a private PostgreSQL cluster under SAGE_HOME using the
 * PostgreSQL binaries installed on the machine (lib/db/pg_bin.ts). It listens on a Unix socket in a 0700 folder
 * and on no TCP port. A file lock around "initialise / start" plus PostgreSQL's own postmaster.pid mean two Sage
 * processes (two Claude Code windows, a hook) never start two postmasters on one data directory. The cluster keeps
 * running after Sage exits, so the next start and every hook connect at once; `sage db stop` stops it.
 *
 * Hostile or unlucky surroundings: a SAGE_HOME of another user is refused before anything is created in it; the
 * socket folder is made with ensurePrivateDir (a folder or symlink someone else put there first is refused, never
 * followed); after a crash (kill -9) the start is retried while the old processes let go; a full disk is named as
 * such, with the room PostgreSQL needs, and every later call tries again by itself.
 */
// @ts-types="@types/pg"
import type pg from "pg";
import type { Config } from "../config.ts";
import { SageError } from "../errors.ts";
import { ensureOwnHome, ensurePrivateDir, exists, privateMode, runtimeDir, socketPathFits } from "../files.ts";
import { log } from "../log.ts";
import { shortHash } from "../text/hash.ts";
import { mapDbError } from "./database.ts";
import { assertTraversable, findPgBin, freeBytes, runPg, type ServerUser, serverUser } from "./pg_bin.ts";

export { findPgBin } from "./pg_bin.ts";

export const DB_NAME = "sage";
export const DB_USER = "sage";
const PORT = 5432; // only names the socket file; nothing listens on TCP
/** What PostgreSQL needs free to start and keep writing: one WAL segment. */
const WAL_SEGMENT = 16 * 1024 * 1024;
/** How long a start waits for a crashed cluster's processes to let go of its shared memory and socket. */
const RECOVERY_MS = 20_000;

export interface ClusterPaths {
  home: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  lockFile: string;
}

export function clusterPaths(home: string): ClusterPaths {
  let socketDir = `${home}/run`;
  // A Unix socket path must fit in ~107 bytes; otherwise a folder of this user's in /tmp (see runtimeDir).
  if (!socketPathFits(`${socketDir}/.s.PGSQL.${PORT}`)) socketDir = `${runtimeDir()}/pg-${shortHash(home)}`;
  return {
    home,
    dataDir: `${home}/pgdata`,
    socketDir,
    logFile: `${home}/logs/postgresql.log`,
    lockFile: `${home}/cluster.lock`,
  };
}

export function clusterPoolConfig(paths: ClusterPaths): pg.PoolConfig {
  return { host: paths.socketDir, port: PORT, user: DB_USER, database: DB_NAME };
}

/** Starts the private cluster if it is not running (initialising it first if needed) and returns its pool config. */
export async function ensureCluster(config: Config): Promise<pg.PoolConfig> {
  const paths = clusterPaths(config.home);
  ensureOwnHome(paths.home); // before anything is made in it
  await Deno.mkdir(`${paths.home}/logs`, { recursive: true, mode: 0o700 });
  const lock = await Deno.open(paths.lockFile, { create: true, write: true, mode: 0o600 });
  try {
    await lock.lock(true);
    const bin = await findPgBin(config);
    const runAs = await serverUser(config);
    if (runAs) {
      // The server user must pass through SAGE_HOME (traverse only) and write its own log.
      await Deno.chmod(paths.home, 0o711);
      await Deno.chown(`${paths.home}/logs`, runAs.uid, runAs.gid);
      await assertTraversable(paths.home, runAs);
    }
    if (!(await exists(`${paths.dataDir}/PG_VERSION`))) await initCluster(bin, paths, runAs);
    prepareSocketDir(paths, runAs);
    writeRuntimeConf(paths, runAs);
    await startAndConnect(bin, paths, runAs);
    return clusterPoolConfig(paths);
  } finally {
    lock.close(); // closing releases the lock
  }
}

/** Stops the private cluster (fast shutdown: running transactions roll back, committed data is safe). */
export async function stopCluster(config: Config): Promise<boolean> {
  const paths = clusterPaths(config.home);
  if (!(await exists(`${paths.dataDir}/PG_VERSION`))) return false;
  const bin = await findPgBin(config);
  const runAs = await serverUser(config);
  if ((await runPg(bin, "pg_ctl", runAs, ["status", "-D", paths.dataDir])).code !== 0) return false;
  const r = await runPg(bin, "pg_ctl", runAs, ["stop", "-D", paths.dataDir, "-m", "fast", "-w", "-s"]);
  if (r.code !== 0) throw new SageError("internal", `pg_ctl stop failed: ${r.output.trim()}`);
  return true;
}

/** Whether the private cluster's postmaster is running. */
export async function clusterRunning(config: Config): Promise<boolean> {
  const paths = clusterPaths(config.home);
  if (!(await exists(`${paths.dataDir}/PG_VERSION`))) return false;
  const bin = await findPgBin(config);
  return (await runPg(bin, "pg_ctl", await serverUser(config), ["status", "-D", paths.dataDir])).code === 0;
}

async function initCluster(bin: string, paths: ClusterPaths, runAs: ServerUser | null): Promise<void> {
  log.info("creating the private PostgreSQL cluster", { dataDir: paths.dataDir });
  await Deno.mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await Deno.chown(paths.dataDir, runAs.uid, runAs.gid);
  const r = await runPg(bin, "initdb", runAs, [
    "-D",
    paths.dataDir,
    "-U",
    DB_USER,
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-locale",
    "--no-instructions",
  ]);
  if (r.code !== 0) {
    await failedForLackOfRoom(paths, r.output);
    throw new SageError("unavailable", `initdb failed: ${r.output.trim()}`, `Remove ${paths.dataDir} and try again.`);
  }
  await Deno.writeTextFile(`${paths.dataDir}/postgresql.conf`, "\ninclude_if_exists = 'sage.conf'\n", { append: true });
}

/**
 * The socket folder: SAGE_HOME/run, or this user's folder in /tmp for a long SAGE_HOME. Only we (or the cluster's
 * user, when we are root) may own it; anything else there (another user's folder, a symlink) is refused.
 */
function prepareSocketDir(paths: ClusterPaths, runAs: ServerUser | null): void {
  if (Deno.build.os === "windows") {
    Deno.mkdirSync(paths.socketDir, { recursive: true });
    return;
  }
  if (paths.socketDir.startsWith(`${runtimeDir()}/`)) ensurePrivateDir(runtimeDir(), privateMode());
  ensurePrivateDir(paths.socketDir, 0o700, [Deno.uid()!, ...(runAs ? [runAs.uid] : [])]);
  if (runAs) Deno.chownSync(paths.socketDir, runAs.uid, runAs.gid);
}

/** Rewritten at every start so a moved SAGE_HOME still gets the right socket folder. */
function writeRuntimeConf(paths: ClusterPaths, runAs: ServerUser | null): void {
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const conf = [
    "# written by sage at every start; edit postgresql.conf for your own settings",
    "listen_addresses = ''",
    `unix_socket_directories = ${quote(paths.socketDir)}`,
    "unix_socket_permissions = 0700",
    `port = ${PORT}`,
    "jit = off",
    "max_connections = 50",
    "",
  ].join("\n");
  Deno.writeTextFileSync(`${paths.dataDir}/sage.conf`, conf);
  if (runAs) Deno.chownSync(`${paths.dataDir}/sage.conf`, runAs.uid, runAs.gid);
}

/**
 * Starts the cluster unless it runs, then makes sure Sage's database exists (also when it was already running: a
 * first start cut short between `pg_ctl start` and CREATE DATABASE would otherwise leave it without one for good).
 *
 * Right after a kill -9 the old postmaster may still look alive (not yet reaped: its socket refuses connections),
 * or a backend busy with a long query keeps its shared memory attached and a new postmaster refuses to start. Both
 * pass within seconds: they are waited out, up to RECOVERY_MS, instead of failing the command.
 */
async function startAndConnect(bin: string, paths: ClusterPaths, runAs: ServerUser | null): Promise<void> {
  const deadline = Date.now() + RECOVERY_MS;
  for (let wait = 100;; wait = Math.min(wait * 2, 1_000)) {
    let reason: string;
    let transient: boolean;
    if ((await runPg(bin, "pg_ctl", runAs, ["status", "-D", paths.dataDir])).code !== 0) {
      log.info("starting the private PostgreSQL cluster", { dataDir: paths.dataDir });
      const args = ["start", "-D", paths.dataDir, "-w", "-t", "60", "-s", "-l", paths.logFile];
      const r = await runPg(bin, "pg_ctl", runAs, args);
      if (r.code === 0) return await ensureDatabase(paths);
      const said = `${r.output}\n${await logTail(paths)}`;
      await failedForLackOfRoom(paths, said);
      reason = lastFatal(said) ?? (r.output.trim() || `pg_ctl exited with ${r.code}`);
      transient = /shared memory block .* is still in use|lock file .* already exists|another (postmaster|server)/i
        .test(
          said,
        );
    } else {
      try {
        return await ensureDatabase(paths);
      } catch (err) {
        const e = mapDbError(err);
        if (isDiskFull(e)) throw e;
        reason = e.message;
        transient = e.code === "unavailable"; // running, but not answering (yet): a dead or starting postmaster
      }
    }
    if (!transient || Date.now() + wait > deadline) {
      throw new SageError(
        "unavailable",
        `the private PostgreSQL cluster did not start: ${reason}`,
        `Its log: ${paths.logFile}.`,
      );
    }
    log.info("the private cluster is not ready yet (recovering from a crash?); trying again", { reason });
    await new Promise((r) => setTimeout(r, wait));
  }
}

async function ensureDatabase(paths: ClusterPaths): Promise<void> {
  const { default: pgMod } = await import("pg");
  const client = new pgMod.Client({ ...clusterPoolConfig(paths), database: "postgres" });
  client.on("error", () => {/* reported by the query that fails */});
  try {
    await client.connect();
    const r = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DB_NAME]);
    if (!r.rowCount) await client.query(`CREATE DATABASE ${DB_NAME}`);
  } catch (err) {
    if ((err as { code?: string }).code !== "42P04") throw mapDbError(err); // 42P04: made by a concurrent starter
  } finally {
    await client.end().catch(() => {});
  }
}

/** A SageError about a full disk (from mapDbError or failedForLackOfRoom). */
export function isDiskFull(err: unknown): boolean {
  return err instanceof SageError && /\bdisk\b.*\bfull\b/.test(err.message);
}

/**
 * When PostgreSQL failed for lack of room (it said so, or less than a WAL segment is free), throws the error that
 * says so: where, how much is free, how much it needs, and that Sage goes on by itself once there is room.
 */
async function failedForLackOfRoom(paths: ClusterPaths, said: string): Promise<void> {
  const free = await freeBytes(paths.home);
  if (!/No space left on device|could not extend|disk full/i.test(said) && (free === null || free >= WAL_SEGMENT)) {
    return;
  }
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  throw new SageError(
    "unavailable",
    `the disk holding ${paths.dataDir} is full (${free === null ? "free space unknown" : `${mb(free)} free`}); ` +
      `PostgreSQL needs at least 16 MB free there (one WAL segment) to start and write`,
    `Free space on that disk (df -h ${paths.home}). Nothing stored is lost, and Sage starts the cluster again by ` +
      "itself on its next call once there is room.",
  );
}

/** The end of PostgreSQL's log, where a failed start says why. */
async function logTail(paths: ClusterPaths): Promise<string> {
  try {
    const f = await Deno.open(paths.logFile);
    try {
      const size = (await f.stat()).size;
      await f.seek(Math.max(0, size - 4096), Deno.SeekMode.Start);
      const buf = new Uint8Array(4096);
      const n = await f.read(buf);
      return new TextDecoder().decode(buf.subarray(0, n ?? 0));
    } finally {
      f.close();
    }
  } catch {
    return "";
  }
}

function lastFatal(text: string): string | undefined {
  const lines = text.split("\n").filter((l) => /\b(FATAL|PANIC):/.test(l));
  return lines.pop()?.replace(/^.*?\b(FATAL|PANIC):\s*/, "");
}
