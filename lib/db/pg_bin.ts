/**
 * The PostgreSQL installation the private cluster runs on (lib/db/cluster.ts): finding its binaries (one with
 * pgvector; SAGE_PG_BIN when set, and only that one), the user it runs as when Sage is root, and running its
 * programs with their output captured (never on our stdout). System programs (runuser, id, df) are run by absolute
 * path: a PATH without /usr/sbin must not break anything.
 */
import type { Config } from "../config.ts";
import { SageError } from "../errors.ts";
import { exists } from "../files.ts";
import { log } from "../log.ts";
import { PGVECTOR_HINT } from "./migrate.ts";

export const INSTALL_HINT = [
  "Sage needs PostgreSQL (15 or newer) with pgvector, or a database URL. Any one of these works:",
  "  - run Sage in its container: ./run_sage_single.sh (PostgreSQL and pgvector included)",
  "  - point it at a PostgreSQL with pgvector: --db-url postgres://user@host/db or DATABASE_URL",
  "  - install them here: Debian/Ubuntu: scripts/setup (or apt install postgresql postgresql-<ver>-pgvector from PGDG);",
  "    macOS: brew install postgresql@16 pgvector",
  "If PostgreSQL is installed somewhere unusual, set SAGE_PG_BIN to the folder holding pg_ctl, initdb and postgres.",
].join("\n");

/**
 * The folder holding initdb/pg_ctl/postgres, of an installation with pgvector. SAGE_PG_BIN, when set, is the one
 * used (an error says what it lacks); otherwise the first with pgvector of PATH and the usual places, newest first.
 */
export async function findPgBin(config: Config): Promise<string> {
  if (config.pgBin) {
    if (!(await hasServer(config.pgBin))) {
      throw new SageError(
        "unavailable",
        `SAGE_PG_BIN=${config.pgBin} does not hold pg_ctl, initdb and postgres`,
        INSTALL_HINT,
      );
    }
    if (!(await hasPgvector(config.pgBin))) throw noPgvector(config.pgBin, " (SAGE_PG_BIN)");
    return config.pgBin;
  }
  const candidates: string[] = [];
  for (const dir of (Deno.env.get("PATH") ?? "").split(Deno.build.os === "windows" ? ";" : ":")) {
    if (dir) candidates.push(dir);
  }
  for (const root of ["/usr/lib/postgresql", "/opt/homebrew/opt", "/usr/local/opt", "C:/Program Files/PostgreSQL"]) {
    for (const v of await listVersions(root)) candidates.push(`${root}/${v}/bin`);
  }
  candidates.push("/usr/local/pgsql/bin", "/Applications/Postgres.app/Contents/Versions/latest/bin");
  const usable: string[] = [];
  for (const dir of candidates) if (await hasServer(dir)) usable.push(dir);
  if (!usable.length) throw new SageError("unavailable", "PostgreSQL is not installed on this machine", INSTALL_HINT);
  for (const dir of usable) if (await hasPgvector(dir)) return dir;
  throw noPgvector(usable[0], "");
}

function noPgvector(dir: string, what: string): SageError {
  return new SageError(
    "unavailable",
    `PostgreSQL found in ${dir}${what}, but pgvector is not installed for it`,
    PGVECTOR_HINT,
  );
}

async function hasServer(dir: string): Promise<boolean> {
  for (const p of ["pg_ctl", "initdb", "postgres"]) if (!(await exists(`${dir}/${exe(p)}`))) return false;
  return true;
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

/**
 * pgvector is installed for the PostgreSQL in `binDir` when its control file and its library are both there. Where
 * they go comes from that installation's pg_config when it has one (exact, relocated copies included); otherwise
 * the usual places are searched for the control file.
 */
async function hasPgvector(binDir: string): Promise<boolean> {
  const dirs = await pgConfigDirs(binDir);
  if (dirs) {
    if (!(await exists(`${dirs.share}/extension/vector.control`))) return false;
    for (const lib of ["vector.so", "vector.dylib", "vector.dll"]) {
      if (await exists(`${dirs.pkglib}/${lib}`)) return true;
    }
    return false;
  }
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

async function pgConfigDirs(binDir: string): Promise<{ share: string; pkglib: string } | null> {
  const pgConfig = `${binDir}/${exe("pg_config")}`;
  if (!(await exists(pgConfig))) return null;
  try {
    const o = await new Deno.Command(pgConfig, { args: ["--sharedir", "--pkglibdir"], stdout: "piped", stderr: "null" })
      .output();
    const [share, pkglib] = new TextDecoder().decode(o.stdout).trim().split(/\r?\n/);
    return o.success && share && pkglib ? { share, pkglib } : null;
  } catch {
    return null;
  }
}

export function exe(name: string): string {
  return Deno.build.os === "windows" ? `${name}.exe` : name;
}

/** A system program by absolute path (the first that exists), or its bare name as a last resort. */
export function systemProgram(name: string): string {
  for (const dir of ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return name;
}

// ---- running as root ------------------------------------------------------------------------------------

export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; when we are root, the cluster runs as SAGE_PG_USER (default postgres). */
export async function serverUser(config: Config): Promise<ServerUser | null> {
  if (Deno.build.os === "windows" || Deno.uid() !== 0) return null;
  const id = async (flag: string) => {
    const out = await new Deno.Command(systemProgram("id"), {
      args: [flag, config.pgUser],
      stdout: "piped",
      stderr: "null",
    }).output();
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
export async function assertTraversable(home: string, user: ServerUser): Promise<void> {
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

/** Runs a PostgreSQL program (as the server user when we are root); its output is captured and returned. */
export async function runPg(bin: string, program: string, runAs: ServerUser | null, args: string[]) {
  const path = `${bin}/${exe(program)}`;
  let cmd = path;
  let cmdArgs = args;
  if (runAs) {
    cmd = systemProgram("runuser");
    if (cmd === "runuser") {
      throw new SageError(
        "unavailable",
        "Sage runs as root and needs runuser (util-linux) to run PostgreSQL as another user; it was not found",
        "Install util-linux, or run Sage as an ordinary user.",
      );
    }
    cmdArgs = ["-u", runAs.name, "--", path, ...args];
  }
  const out = await new Deno.Command(cmd, { args: cmdArgs, stdin: "null", stdout: "piped", stderr: "piped", cwd: "/" })
    .output();
  const dec = new TextDecoder();
  const output = dec.decode(out.stdout) + dec.decode(out.stderr);
  if (output.trim()) log.debug(`${program} said`, { output: output.trim() });
  return { code: out.code, output };
}

/** Free bytes on the file system holding `path` (df, by absolute path), or null when that cannot be told. */
export async function freeBytes(path: string): Promise<number | null> {
  try {
    const o = await new Deno.Command(systemProgram("df"), { args: ["-Pk", path], stdout: "piped", stderr: "null" })
      .output();
    const line = new TextDecoder().decode(o.stdout).trim().split("\n").pop() ?? "";
    const kb = Number(line.split(/\s+/)[3]);
    return o.success && Number.isFinite(kb) ? kb * 1024 : null;
  } catch {
    return null;
  }
}
