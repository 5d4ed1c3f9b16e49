/**
 * A second local user for the tests that need one (another user on the machine trying to take over Sage's sockets
 * or folders). Created with useradd for one test and removed after it, whatever happens; needs root (CI runs as
 * root). Its processes are started here and killed by their pid before the user is removed.
 */

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
  /** A folder the user owns (0755), for its scripts and what it records. */
  dir: string;
  /** Starts `deno run <script> <args>` as this user. */
  spawnDeno(script: string, args: string[]): Deno.ChildProcess;
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { ok: o.success, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** Runs `fn` with a fresh unprivileged user; removes the user, its processes and its folder afterwards. */
export async function withLocalUser<T>(fn: (user: LocalUser) => Promise<T>): Promise<T> {
  const name = `sagetest${Math.random().toString(36).slice(2, 10)}`;
  const add = await run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]);
  if (!add.ok) throw new Error(`useradd ${name} failed: ${add.out}`);
  const children: Deno.ChildProcess[] = [];
  const dir = `/tmp/${name}`;
  try {
    const uid = Number((await run("id", ["-u", name])).out.trim());
    const gid = Number((await run("id", ["-g", name])).out.trim());
    await Deno.mkdir(dir, { mode: 0o755 });
    await Deno.chown(dir, uid, gid);
    await Deno.chmod(dir, 0o755);
    const user: LocalUser = {
      name,
      uid,
      gid,
      dir,
      spawnDeno(script, args) {
        const child = new Deno.Command("setpriv", {
          args: [
            `--reuid=${uid}`,
            `--regid=${gid}`,
            "--clear-groups",
            "--",
            Deno.execPath(),
            "run",
            "--quiet",
            "--allow-all",
            "--no-config",
            script,
            ...args,
          ],
          env: { HOME: dir, DENO_DIR: `${dir}/deno`, DENO_NO_UPDATE_CHECK: "1", PATH: "/usr/bin:/bin" },
          clearEnv: true,
          cwd: dir,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        children.push(child);
        return child;
      },
    };
    return await fn(user);
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch {
        // already ended
      }
      await c.output().catch(() => {});
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    const del = await run("userdel", [name]);
    if (!del.ok) console.error(`userdel ${name} failed: ${del.out}`);
  }
}

/** Removes `path` if (and only if) it is owned by `uid`: what the other user left in shared places such as /tmp. */
export async function removeIfOwnedBy(path: string, uid: number): Promise<void> {
  const st = await Deno.lstat(path).catch(() => null);
  if (st && st.uid === uid) await Deno.remove(path, { recursive: true }).catch(() => {});
}
