/**
 * The embedded default: with no database URL, Sage runs a private PostgreSQL cluster under SAGE_HOME using the
 * PostgreSQL binaries installed on the machine. It listens on a Unix socket in a 0700 folder and on no TCP
 * port. A file lock around "initialise / start" plus PostgreSQL's own postmaster.pid mean two Sage processes
 * (two Claude Code windows, a hook) never start two postmasters on one data directory. The cluster keeps
 * running after Sage exits, so the next start and every hook connect at once; `sage db stop` stops it.
 */
// @ts-types="@types/pg"
import type pg from "pg";
import type { Config } from "../config.ts";
import { SageError } from "../errors.ts";
import { exists } from "../files.ts";
import { log } from "../log.ts";
import { PGVECTOR_HINT } from "./migrate.ts";
import { shortHash } from "../text/hash.ts";

export const DB_NAME = "sage";
export const DB_USER = "sage";
const PORT = 5432; // only names the socket file; nothing listens on TCP

export interface ClusterPaths {
  home: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  lockFile: string;
}

export function clusterPaths(home: string): ClusterPaths {
  let socketDir = `${home}/run`;
  // A Unix socket path must fit in ~107 bytes; fall back to a short per-home folder in /tmp.
  if (new TextEncoder().encode(`${socketDir}/.s.PGSQL.${PORT}`).length > 100) {
    socketDir = `/tmp/sage-${shortHash(home)}`;
  }
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

const INSTALL_HINT = [
  "Sage needs PostgreSQL (15 or newer) with pgvector, or a database URL. Any one of these works:",
  "  - run Sage in its container: ./run_sage_single.sh (PostgreSQL and pgvector included)",
  "  - point it at a PostgreSQL with pgvector: --db-url postgres://user@host/db or DATABASE_URL",
  "  - install them here: Debian/Ubuntu: scripts/setup (or apt install postgresql postgresql-<ver>-pgvector from PGDG);",
  "    macOS: brew install postgresql@16 pgvector",
  "If PostgreSQL is installed somewhere unusual, set SAGE_PG_BIN to the folder holding pg_ctl, initdb and postgres.",
].join("\n");

/** Starts the private cluster if it is not running (initialising it first if needed) and returns its pool config. */
export async function ensureCluster(config: Config): Promise<pg.PoolConfig> {
  const paths = clusterPaths(config.home);
  await Deno.mkdir(`${paths.home}/logs`, { recursive: true, mode: 0o700 });
  const lock = await Deno.open(paths.lockFile, { create: true, write: true });
  try {
    await lock.lock(true);
    const bin = await findPgBin(config);
    const runAs = await serverUser(config);
    if (runAs) {
      // The server user must pass through SAGE_HOME (traverse only) and write its own log.
      await Deno.chmod(paths.home, 0o711);
      await chown(`${paths.home}/logs`, runAs);
      await assertTraversable(paths.home, runAs);
    }
    if (!(await exists(`${paths.dataDir}/PG_VERSION`))) await initCluster(bin, paths, runAs);
    writeRuntimeConf(paths, runAs);
    if ((await pgCtl(bin, runAs, ["status", "-D", paths.dataDir])).code !== 0) {
      log.info("starting the private PostgreSQL cluster", { dataDir: paths.dataDir });
      const r = await pgCtl(bin, runAs, ["start", "-D", paths.dataDir, "-w", "-t", "60", "-s", "-l", paths.logFile]);
      if (r.code !== 0) {
        throw new SageError(
          "unavailable",
          `the private PostgreSQL cluster did not start: ${r.output.trim() || `pg_ctl exited with ${r.code}`}`,
          `See ${paths.logFile}.`,
        );
      }
    }
    // Also when the cluster was already running: a first start interrupted between `pg_ctl start` and
    // CREATE DATABASE (Ctrl-C, a killed hook) would otherwise leave a cluster without Sage's database for good.
    await ensureDatabase(paths);
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
  if ((await pgCtl(bin, runAs, ["status", "-D", paths.dataDir])).code !== 0) return false;
  const r = await pgCtl(bin, runAs, ["stop", "-D", paths.dataDir, "-m", "fast", "-w", "-s"]);
  if (r.code !== 0) throw new SageError("internal", `pg_ctl stop failed: ${r.output.trim()}`);
  return true;
}

/** Whether the private cluster's postmaster is running. */
export async function clusterRunning(config: Config): Promise<boolean> {
  const paths = clusterPaths(config.home);
  if (!(await exists(`${paths.dataDir}/PG_VERSION`))) return false;
  const bin = await findPgBin(config);
  return (await pgCtl(bin, await serverUser(config), ["status", "-D", paths.dataDir])).code === 0;
}

async function initCluster(bin: string, paths: ClusterPaths, runAs: ServerUser | null): Promise<void> {
  log.info("creating the private PostgreSQL cluster", { dataDir: paths.dataDir });
  await Deno.mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(paths.dataDir, runAs);
  const r = await run(bin, "initdb", runAs, [
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
    throw new SageError("unavailable", `initdb failed: ${r.output.trim()}`, `Remove ${paths.dataDir} and try again.`);
  }
  await Deno.writeTextFile(`${paths.dataDir}/postgresql.conf`, "\ninclude_if_exists = 'sage.conf'\n", { append: true });
}

/** Rewritten at every start so a moved SAGE_HOME still gets the right socket folder. */
function writeRuntimeConf(paths: ClusterPaths, runAs: ServerUser | null): void {
  Deno.mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  // The /tmp fallback has a predictable name: refuse a folder someone else made first.
  const owner = Deno.statSync(paths.socketDir).uid;
  if (Deno.build.os !== "windows" && owner !== Deno.uid() && owner !== runAs?.uid) {
    throw new SageError(
      "unavailable",
      `the socket folder ${paths.socketDir} belongs to another user (uid ${owner})`,
      "Remove it, or set SAGE_HOME to a shorter path so the socket can live inside it.",
    );
  }
  Deno.chmodSync(paths.socketDir, 0o700);
  if (runAs) Deno.chownSync(paths.socketDir, runAs.uid, runAs.gid);
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

async function ensureDatabase(paths: ClusterPaths): Promise<void> {
  const { default: pgMod } = await import("pg");
  const client = new pgMod.Client({ ...clusterPoolConfig(paths), database: "postgres" });
  await client.connect();
  try {
    const r = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DB_NAME]);
    if (!r.rowCount) await client.query(`CREATE DATABASE ${DB_NAME}`);
  } catch (err) {
    if ((err as { code?: string }).code !== "42P04") throw err; // created by a concurrent starter
  } finally {
    await client.end();
  }
}

// ---- PostgreSQL binaries --------------------------------------------------------------------------------

/** Finds the folder holding initdb/pg_ctl/postgres, preferring one whose installation has pgvector. */
export async function findPgBin(config: Config): Promise<string> {
  const candidates: string[] = [];
  if (config.pgBin) candidates.push(config.pgBin);
  for (const dir of (Deno.env.get("PATH") ?? "").split(Deno.build.os === "windows" ? ";" : ":")) {
    if (dir) candidates.push(dir);
  }
  for (const root of ["/usr/lib/postgresql", "/opt/homebrew/opt", "/usr/local/opt", "C:/Program Files/PostgreSQL"]) {
    for (const v of await listVersions(root)) {
      candidates.push(`${root}/${v}/bin`);
    }
  }
  candidates.push("/usr/local/pgsql/bin", "/Applications/Postgres.app/Contents/Versions/latest/bin");
  const usable: string[] = [];
  for (const dir of candidates) {
    if (
      await exists(`${dir}/${exe("pg_ctl")}`) && await exists(`${dir}/${exe("initdb")}`) &&
      await exists(`${dir}/${exe("postgres")}`)
    ) {
      usable.push(dir);
    }
  }
  if (config.pgBin && !usable.includes(config.pgBin)) {
    throw new SageError(
      "unavailable",
      `SAGE_PG_BIN=${config.pgBin} does not hold pg_ctl, initdb and postgres`,
      INSTALL_HINT,
    );
  }
  if (!usable.length) throw new SageError("unavailable", "PostgreSQL is not installed on this machine", INSTALL_HINT);
  for (const dir of usable) if (await hasPgvector(dir)) return dir;
  throw new SageError(
    "unavailable",
    `PostgreSQL found in ${usable[0]}, but pgvector is not installed for it`,
    PGVECTOR_HINT,
  );
}

async function listVersions(root: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (/^(postgresql@)?\d+(\.\d+)?$/.test(e.name)) found.push(e.name);
    }
  } catch {
    return [];
  }
  const num = (s: string) => Number(s.replace(/^postgresql@/, ""));
  return found.sort((a, b) => num(b) - num(a)); // newest first
}

async function hasPgvector(binDir: string): Promise<boolean> {
  const real = await Deno.realPath(`${binDir}/${exe("postgres")}`).catch(() => `${binDir}/postgres`);
  const prefix = real.replace(/[\\/]bin[\\/][^\\/]+$/, "");
  const major = prefix.match(/(\d+)(\.\d+)?$/)?.[1];
  const places = [
    `${prefix}/share/extension`,
    `${prefix}/share/postgresql/extension`,
    ...(major ? [`/usr/share/postgresql/${major}/extension`, `${prefix}/share/postgresql@${major}/extension`] : []),
  ];
  for (const p of places) if (await exists(`${p}/vector.control`)) return true;
  return false;
}

function exe(name: string): string {
  return Deno.build.os === "windows" ? `${name}.exe` : name;
}

// ---- running as root ------------------------------------------------------------------------------------

interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; when we are root, the cluster runs as SAGE_PG_USER (default postgres). */
async function serverUser(config: Config): Promise<ServerUser | null> {
  if (Deno.build.os === "windows" || Deno.uid() !== 0) return null;
  const id = async (flag: string) => {
    const out = await new Deno.Command("id", { args: [flag, config.pgUser], stdout: "piped", stderr: "null" }).output();
    return out.success ? Number(new TextDecoder().decode(out.stdout).trim()) : NaN;
  };
  const uid = await id("-u");
  const gid = await id("-g");
  if (!Number.isFinite(uid) || !Number.isFinite(gid)) {
    throw new SageError(
      "unavailable",
      `Sage runs as root, and PostgreSQL will not; the user "${config.pgUser}" to run it as does not exist`,
      "Create one (useradd --system postgres) or set SAGE_PG_USER to an existing unprivileged user.",
    );
  }
  return { name: config.pgUser, uid, gid };
}

/** Every folder above SAGE_HOME must let the server user through, or initdb fails with a bare "Permission denied". */
async function assertTraversable(home: string, user: ServerUser): Promise<void> {
  let dir = home;
  while (dir && dir !== "/") {
    const st = await Deno.stat(dir);
    const mode = st.mode ?? 0o777;
    const ok = (mode & 0o001) || (st.uid === user.uid && mode & 0o100) || (st.gid === user.gid && mode & 0o010);
    if (!ok) {
      throw new SageError(
        "unavailable",
        `PostgreSQL runs as "${user.name}" (Sage is root), and "${user.name}" cannot enter ${dir}`,
        `Use a SAGE_HOME outside that folder (the default for root is /var/lib/sage), or allow passage: chmod o+x ${dir}`,
      );
    }
    dir = dir.replace(/\/[^/]*$/, "");
  }
}

async function chown(path: string, user: ServerUser): Promise<void> {
  await Deno.chown(path, user.uid, user.gid);
}

async function pgCtl(bin: string, runAs: ServerUser | null, args: string[]) {
  return await run(bin, "pg_ctl", runAs, args);
}

/** Runs a PostgreSQL program; its output is captured (never reaches our stdout) and returned. */
async function run(bin: string, program: string, runAs: ServerUser | null, args: string[]) {
  const path = `${bin}/${exe(program)}`;
  const [cmd, cmdArgs] = runAs ? ["runuser", ["-u", runAs.name, "--", path, ...args]] : [path, args];
  const out = await new Deno.Command(cmd, { args: cmdArgs, stdin: "null", stdout: "piped", stderr: "piped", cwd: "/" })
    .output();
  const dec = new TextDecoder();
  const output = dec.decode(out.stdout) + dec.decode(out.stderr);
  if (output.trim()) log.debug(`${program} said`, { output: output.trim() });
  return { code: out.code, output };
}
