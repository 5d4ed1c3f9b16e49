/**
 * `sage doctor` tells the truth about pgvector: with PostgreSQL binaries that have no pgvector (SAGE_PG_BIN pointing
 * at a real PostgreSQL installation copied without it, or with only half of it), doctor fails and says what to
 * install; it never reports "ok … pgvector" for another installation than the one it was told to use.
 */
import assert from "node:assert/strict";
import { runSage, tempDir } from "./support/harness.ts";

/** The newest PostgreSQL installed here: its bin folder and the share folder beside it (Debian layout). */
async function installed(): Promise<{ lib: string; share: string; major: string } | null> {
  const versions: string[] = [];
  try {
    for await (const e of Deno.readDir("/usr/lib/postgresql")) versions.push(e.name);
  } catch {
    return null;
  }
  const major = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  if (!major) return null;
  return { lib: `/usr/lib/postgresql/${major}`, share: `/usr/share/postgresql/${major}`, major };
}

/** A relocated copy of the installation under `root`, without pgvector's files (`keep`: which of them stay). */
async function copyWithout(root: string, keep: { control?: boolean; library?: boolean }): Promise<string> {
  const pg = (await installed())!;
  const lib = `${root}/usr/lib/postgresql/${pg.major}`;
  const share = `${root}/usr/share/postgresql/${pg.major}`;
  await Deno.mkdir(`${root}/usr/lib/postgresql`, { recursive: true });
  await Deno.mkdir(`${root}/usr/share/postgresql`, { recursive: true });
  for (const [from, to] of [[pg.lib, lib], [pg.share, share]]) {
    const cp = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
    assert.ok(cp.success, new TextDecoder().decode(cp.stderr));
  }
  if (!keep.library) await Deno.remove(`${lib}/lib/vector.so`).catch(() => {});
  if (!keep.control) {
    for await (const e of Deno.readDir(`${share}/extension`)) {
      if (e.name.startsWith("vector")) await Deno.remove(`${share}/extension/${e.name}`);
    }
  }
  return `${lib}/bin`;
}

Deno.test({
  name: "doctor: PostgreSQL without pgvector (SAGE_PG_BIN) fails with the fix, never 'ok … pgvector'",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  if (!(await installed())) throw new Error("no PostgreSQL under /usr/lib/postgresql: run scripts/setup");
  for (
    const [what, keep] of [["none of pgvector", {}], ["the control file but not the library", {
      control: true,
    }]] as const
  ) {
    await t.step(what, async () => {
      const root = await tempDir("nopgvector-");
      const bin = await copyWithout(root, keep);
      const home = await tempDir("doctor-home-");
      const r = await runSage(["doctor"], { env: { SAGE_HOME: home, SAGE_PG_BIN: bin } });
      assert.equal(r.code, 1, `doctor passed:\n${r.stdout}`);
      assert.doesNotMatch(r.stdout, /^ok .*pgvector/m, r.stdout);
      assert.match(r.stdout, /^FAIL .*\n.*pgvector is not installed/m, r.stdout);
      assert.ok(r.stdout.includes(bin), `doctor does not name the PostgreSQL it was told to use:\n${r.stdout}`);
      await Deno.remove(root, { recursive: true });
    });
  }
});
