/**
 * The command-line edge, run as a child process (`deno run main.ts …`) exactly as a user types it. Commands
 * that do not depend on each other run in parallel to keep the file fast.
 */
import assert from "node:assert/strict";
import { VERSION } from "../lib/version.ts";
import { freshDatabase, type RunResult, runSage, sql, tempDir } from "./support/harness.ts";

async function memoryCount(url: string): Promise<number> {
  return (await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM sage.memories"))[0].n;
}

/** Environment for one database: its URL, a private SAGE_HOME (never the machine's default), a project. */
async function envFor(url: string, project = "/cli/project"): Promise<Record<string, string>> {
  return { DATABASE_URL: url, SAGE_HOME: await tempDir("home"), SAGE_PROJECT: project };
}

function succeeded(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

function usageError(r: RunResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `expected exit 2, got ${r.code}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stdout, "", "an error must not print results");
}

Deno.test("cli: help, version, and usage errors exit 2 with a clear message", async () => {
  const env = await envFor(await freshDatabase());
  const [help, version, searchHelp, unknown, missing, badLimit, badFlag, badMode, dbAction, badFormat, badUrl] =
    await Promise
      .all([
        runSage(["--help"], { env }),
        runSage(["--version"], { env }),
        runSage(["search", "--help"], { env }),
        runSage(["frobnicate"], { env }),
        runSage(["search"], { env }),
        runSage(["search", "x", "--limit", "ten"], { env }),
        runSage(["save", "x", "--no-such-flag"], { env }),
        runSage(["search", "x", "--mode", "psychic"], { env }),
        runSage(["db", "explode"], { env: { SAGE_HOME: env.SAGE_HOME } }),
        runSage(["export", "--format", "xml"], { env }),
        runSage(["save", "x"], { env: { ...env, DATABASE_URL: "not a url" } }),
      ]);
  succeeded(help, "--help");
  assert.match(help.stdout, /^sage \d+\.\d+\.\d+: long-term memory/);
  for (const c of ["serve", "status", "search", "save", "export", "import", "migrate", "reindex", "doctor", "db"]) {
    assert.match(help.stdout, new RegExp(`^  ${c} `, "m"), `--help does not list ${c}`);
  }
  succeeded(version, "--version");
  assert.equal(version.stdout, `sage ${VERSION}\n`);
  succeeded(searchHelp, "search --help");
  assert.match(searchHelp.stdout, /^Usage: sage search <query>/);
  assert.match(searchHelp.stdout, /--all-projects/);

  usageError(unknown, /unknown command "frobnicate"/);
  usageError(missing, /missing argument\nUsage: sage search/);
  usageError(badLimit, /--limit must be a whole number, got "ten"/);
  usageError(badFlag, /no-such-flag/);
  usageError(badMode, /mode must be hybrid, keyword or vector/);
  usageError(dbAction, /unknown action "explode"/);
  usageError(badFormat, /--format must be jsonl or markdown, got "xml"/);
  usageError(badUrl, /the database URL "not a url" is not a PostgreSQL URL\nUse postgres:\/\//);
  assert.equal(await memoryCount(env.DATABASE_URL).catch(() => 0), 0);
});

Deno.test("cli: save from an argument, --file and stdin, with kind, tags and metadata; bad input stores nothing", async () => {
  const url = await freshDatabase();
  const env = await envFor(url);
  const dir = await tempDir("files");
  await Deno.writeTextFile(`${dir}/note.md`, "From a file: 缓存在重启后会丢失。\nSecond line.\n");
  const bad = `${dir}/bad.txt`;
  await Deno.writeFile(bad, new Uint8Array([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0x21, 0x0a]));

  const [arg, file, stdin] = await Promise.all([
    runSage([
      "save",
      "The",
      "deploy",
      "script",
      "needs",
      "bash",
      "5",
      "--kind",
      "fact",
      "--tag",
      "ops",
      "--tag",
      "bash",
    ], {
      env,
    }),
    runSage(["save", "--file", `${dir}/note.md`, "--metadata", '{"source":"file","n":[1,2]}', "--json"], { env }),
    runSage(["save", "--kind", "preference"], { env, stdin: "Prefer tabs over spaces in Makefiles.\n" }),
  ]);
  succeeded(arg, "save <text>");
  assert.match(arg.stdout, /^Saved memory \d+ \(fact\) in \/cli\/project\.$/m);
  succeeded(file, "save --file");
  const fileResult = JSON.parse(file.stdout);
  assert.equal(fileResult.duplicate, false);
  assert.equal(fileResult.embedded, true);
  succeeded(stdin, "save from stdin");

  const rows = await sql(
    url,
    "SELECT kind, content, tags, metadata, project, session_id FROM sage.memories ORDER BY id",
  );
  const byKind = Object.fromEntries(rows.map((r) => [r.kind, r]));
  assert.equal(rows.length, 3);
  assert.equal(byKind.fact.content, "The deploy script needs bash 5");
  assert.deepEqual(byKind.fact.tags, ["ops", "bash"]);
  assert.equal(byKind.fact.project, "/cli/project");
  assert.equal(byKind.fact.session_id, null, "the CLI does not invent sessions");
  assert.equal(byKind.note.content, "From a file: 缓存在重启后会丢失。\nSecond line.");
  assert.deepEqual(byKind.note.metadata, { source: "file", n: [1, 2] });
  assert.equal(byKind.preference.content, "Prefer tabs over spaces in Makefiles.");

  const [badFile, badStdin, badJson, arrayJson, both, empty, sessionSave] = await Promise.all([
    runSage(["save", "--file", bad], { env }),
    runSage(["save"], { env, stdin: new Uint8Array([0xc3, 0x28, 0x0a]) }),
    runSage(["save", "valid text", "--metadata", "{not json"], { env }),
    runSage(["save", "valid text", "--metadata", "[1, 2]"], { env }),
    runSage(["save", "text", "--file", `${dir}/note.md`], { env }),
    runSage(["save"], { env, stdin: "   \n" }),
    runSage(["save", "Saved into a named session."], { env: { ...env, SAGE_SESSION: "cli-session" } }),
  ]);
  assert.notEqual(badFile.code, 0);
  assert.match(badFile.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid UTF-8`));
  assert.notEqual(badStdin.code, 0);
  assert.match(badStdin.stderr, /stdin is not valid UTF-8/);
  usageError(badJson, /--metadata must be a JSON object/);
  usageError(arrayJson, /metadata must be a JSON object/);
  usageError(both, /not both/);
  usageError(empty, /content must not be empty/);
  succeeded(sessionSave, "save with SAGE_SESSION");
  assert.equal(await memoryCount(url), 4, "only the valid save was stored");
  const session = await sql(url, "SELECT id FROM sage.sessions");
  assert.deepEqual(session.map((s) => s.id), ["cli-session"]);
});

Deno.test("cli: search --json prints one JSON document; --project and --all-projects scope it", async () => {
  const url = await freshDatabase();
  const env = await envFor(url, "/proj/a");
  await Promise.all([
    runSage(["save", "Rotate the signing keys every ninety days.", "--tag", "security", "--metadata", '{"by":"ops"}'], {
      env,
    }),
    runSage(["save", "Signing keys live in the vault of project b.", "--kind", "fact"], {
      env: { ...env, SAGE_PROJECT: "/proj/b" },
    }),
  ]).then((rs) => rs.forEach((r) => succeeded(r, "save")));

  const [here, there, all, text, none] = await Promise.all([
    runSage(["search", "signing", "keys", "--json"], { env }),
    runSage(["search", "signing keys", "--json", "--project", "/proj/b"], { env }),
    runSage(["search", "signing keys", "--json", "--all-projects", "-n", "5"], { env }),
    runSage(["search", "signing keys"], { env }),
    runSage(["search", "signing", "--json", "--kind", "task"], { env }),
  ]);
  for (const r of [here, there, all, text, none]) succeeded(r, "search");
  const doc = JSON.parse(here.stdout); // the whole of stdout is one document
  assert.equal(doc.query, "signing keys");
  assert.equal(doc.project, "/proj/a");
  assert.equal(doc.hits.length, 1);
  const hit = doc.hits[0];
  assert.equal(hit.content, "Rotate the signing keys every ninety days.");
  assert.equal(typeof hit.id, "number");
  assert.equal(typeof hit.score, "number");
  assert.match(hit.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(hit.project, "/proj/a");
  assert.equal(hit.session, null);
  assert.equal(hit.kind, "note");
  assert.deepEqual(hit.tags, ["security"]);
  assert.deepEqual(hit.metadata, { by: "ops" });

  const b = JSON.parse(there.stdout);
  assert.deepEqual(b.hits.map((h: Record<string, unknown>) => h.project), ["/proj/b"]);
  const everywhere = JSON.parse(all.stdout);
  assert.equal(everywhere.project, null);
  assert.deepEqual(everywhere.hits.map((h: Record<string, unknown>) => h.project).sort(), ["/proj/a", "/proj/b"]);
  assert.match(text.stdout, /^1 memory for "signing keys" in \/proj\/a/);
  assert.match(text.stdout, new RegExp(`\\[memory:${hit.id}\\]`));
  assert.deepEqual(JSON.parse(none.stdout).hits, []);
});

Deno.test("cli: the project is the git root of the working directory", async () => {
  const url = await freshDatabase();
  const env = { DATABASE_URL: url, SAGE_HOME: await tempDir("home") }; // no SAGE_PROJECT
  const repo = await Deno.realPath(await tempDir("repo"));
  const git = await new Deno.Command("git", { args: ["init", "-q", repo], stdout: "null", stderr: "piped" }).output();
  assert.ok(git.success, new TextDecoder().decode(git.stderr));
  await Deno.mkdir(`${repo}/src/deep`, { recursive: true });
  const plain = await Deno.realPath(await tempDir("plain"));

  const [inRepo, outside] = await Promise.all([
    runSage(["save", "Saved from a subfolder of the repository."], { env, cwd: `${repo}/src/deep` }),
    runSage(["save", "Saved outside any repository."], { env, cwd: plain }),
  ]);
  succeeded(inRepo, "save in repo");
  succeeded(outside, "save outside");
  const rows = await sql(url, "SELECT project, content FROM sage.memories ORDER BY content");
  assert.deepEqual(rows, [
    { project: repo, content: "Saved from a subfolder of the repository." },
    { project: plain, content: "Saved outside any repository." },
  ]);
  // Searching from anywhere in the repository sees its memories, and only those.
  const found = await runSage(["search", "saved", "--json"], { env, cwd: `${repo}/src` });
  succeeded(found, "search in repo");
  const doc = JSON.parse(found.stdout);
  assert.equal(doc.project, repo);
  assert.deepEqual(doc.hits.map((h: Record<string, unknown>) => h.content), [
    "Saved from a subfolder of the repository.",
  ]);
});

Deno.test("cli: status --json, migrate, reindex and doctor", async () => {
  const url = await freshDatabase();
  const env = await envFor(url);
  // migrate first, alone: on a fresh database it is the one that applies the schema.
  const migrate = await runSage(["migrate"], { env });
  succeeded(migrate, "migrate");
  assert.match(migrate.stdout, /^applied migrations 1(, \d+)*; schema is at version \d+\n$/);
  await Promise.all(
    ["Alpha memory about caches.", "Beta memory about queues.", "Gamma memory about 队列."].map((t) =>
      runSage(["save", t], { env }).then((r) => succeeded(r, "save"))
    ),
  );
  const [again, status, reindex, doctor, badDoctor] = await Promise.all([
    runSage(["migrate"], { env }),
    runSage(["status", "--json"], { env }),
    runSage(["reindex"], { env }),
    runSage(["doctor"], { env }),
    runSage(["doctor"], { env: { ...env, SAGE_EMBED_MODEL: `${env.SAGE_HOME}/missing-model` } }),
  ]);
  succeeded(again, "migrate again");
  assert.match(again.stdout, /nothing to apply/);

  succeeded(status, "status --json");
  const st = JSON.parse(status.stdout);
  assert.equal(st.database.connected, true);
  assert.match(st.database.pgvector_version, /^\d+\.\d+/);
  assert.equal(st.database.schema_version, st.database.schema_latest);
  assert.equal(st.model.state, "ready");
  assert.equal(st.model.dimensions, 32);
  assert.equal(st.counts.memories, 3);
  assert.equal(st.project, "/cli/project");

  succeeded(reindex, "reindex");
  assert.match(reindex.stdout, /^re-embedded 3 memories in [\d.]+ s \(3 with vectors\)\n$/);
  assert.match(reindex.stderr, /reindex with .* \(32 dimensions\)/);
  assert.match(reindex.stderr, /reindex: 3\/3 \(100%\)/);
  const vectors = await sql<{ n: number }>(url, "SELECT count(DISTINCT memory_id)::int AS n FROM sage.memory_vectors");
  assert.equal(vectors[0].n, 3);

  succeeded(doctor, "doctor");
  assert.doesNotMatch(doctor.stdout, /FAIL/);
  assert.match(doctor.stdout, /^ok {3}connected: PostgreSQL/m);
  assert.match(doctor.stdout, /^ok {3}model .* 32 dimensions/m);
  assert.match(doctor.stdout, /Everything Sage needs is in place\./);

  assert.equal(badDoctor.code, 1, badDoctor.stdout + badDoctor.stderr);
  assert.match(badDoctor.stdout, /^FAIL model at .*missing-model does not load\n {5}\S/m);
  assert.match(badDoctor.stdout, /SAGE_EMBED_MODEL|model folder/);
  assert.match(badDoctor.stdout, /1 problem\(s\) found/);

  // A password in the URL never reaches the output.
  const withPassword = url.replace("postgresql://sage@", "postgresql://sage:s3cr3t-pw@");
  const [statusPw, doctorPw] = await Promise.all([
    runSage(["status", "--json"], { env: { ...env, DATABASE_URL: withPassword } }),
    runSage(["doctor"], { env: { ...env, DATABASE_URL: withPassword } }),
  ]);
  succeeded(statusPw, "status with a password");
  succeeded(doctorPw, "doctor with a password");
  assert.match(JSON.parse(statusPw.stdout).database.location, /^postgresql:\/\/sage:\*\*\*@\//);
  for (const r of [statusPw, doctorPw]) assert.doesNotMatch(r.stdout + r.stderr, /s3cr3t-pw/);

  // With a status database that is gone, status says so and exits 1.
  const gone = await runSage(["status", "--json"], {
    env: { ...env, DATABASE_URL: `postgresql://sage@/sage?host=${encodeURIComponent(env.SAGE_HOME)}` },
  });
  assert.equal(gone.code, 1);
  assert.equal(JSON.parse(gone.stdout).database.connected, false);
});

Deno.test("cli: export then import into an empty database reproduces every memory byte for byte; import is idempotent", async () => {
  const source = await freshDatabase();
  const target = await freshDatabase();
  const envA = await envFor(source, "/x/one");
  const envB = { ...envA, DATABASE_URL: target };
  const dir = await tempDir("export");
  // Records with exact times, sessions, odd text: what a lossless format must carry.
  const records = [
    { type: "session", id: "s-1", project: "/x/one", name: "first session", created_at: "2026-01-02T03:04:05.123456Z" },
    {
      id: 7,
      project: "/x/one",
      session: "s-1",
      kind: "decision",
      content: 'Use UTC everywhere.\n\tIndented line; quotes " and \\ backslash; emoji 🧠; 中文内容。',
      tags: ["time", "中文"],
      metadata: { nested: { list: [1, 2.5, null, true] }, "key with space": "v" },
      created_at: "2026-01-02T03:04:06.000001Z",
      updated_at: "2026-02-03T04:05:06.654321Z",
    },
    { project: "/x/two", content: "A memory in another project.", created_at: "2025-12-31T23:59:59.999999Z" },
  ];
  await Deno.writeTextFile(`${dir}/seed.jsonl`, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const seeded = await runSage(["import", `${dir}/seed.jsonl`, "--json"], { env: envA });
  succeeded(seeded, "import seed");
  assert.deepEqual(JSON.parse(seeded.stdout), { read: 3, sessions: 1, imported: 2, duplicates: 0, remapped: 0 });
  await Promise.all([
    runSage(["save", "Plain note saved by the CLI.", "--tag", "cli"], { env: envA }),
    runSage(["save", "Note in a session."], { env: { ...envA, SAGE_SESSION: "s-2" } }),
  ]).then((rs) => rs.forEach((r) => succeeded(r, "save")));

  const exported = await runSage(["export", "--all-projects", "--output", `${dir}/a.jsonl`], { env: envA });
  succeeded(exported, "export");
  assert.equal(exported.stdout, "");
  assert.match(exported.stderr, /exported \d+ records to/);
  const a = await Deno.readFile(`${dir}/a.jsonl`);
  const lines = new TextDecoder().decode(a).trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.type === "memory").length, 4);
  assert.equal(lines.filter((l) => l.type === "session").length, 2);
  const seven = lines.find((l) => l.id === 7);
  assert.equal(seven.content, records[1].content);
  assert.equal(seven.created_at, "2026-01-02T03:04:06.000001Z");
  assert.equal(seven.updated_at, "2026-02-03T04:05:06.654321Z");
  // stdout export is the same bytes as --output.
  const toStdout = await runSage(["export", "--all-projects"], { env: envA });
  assert.equal(toStdout.stdout, new TextDecoder().decode(a));

  const imported = await runSage(["import", `${dir}/a.jsonl`, "--json"], { env: envB });
  succeeded(imported, "import");
  assert.deepEqual(JSON.parse(imported.stdout), { read: 6, sessions: 2, imported: 4, duplicates: 0, remapped: 0 });
  const back = await runSage(["export", "--all-projects", "--output", `${dir}/b.jsonl`], { env: envB });
  succeeded(back, "export b");
  const b = await Deno.readFile(`${dir}/b.jsonl`);
  assert.equal(new TextDecoder().decode(b), new TextDecoder().decode(a));
  assert.deepEqual(b, a, "exports differ byte for byte");

  const again = await runSage(["import", "-", "--json"], { env: envB, stdin: a });
  succeeded(again, "import again");
  assert.deepEqual(JSON.parse(again.stdout), { read: 6, sessions: 2, imported: 0, duplicates: 4, remapped: 0 });
  const third = await runSage(["export", "--all-projects"], { env: envB });
  assert.equal(third.stdout, new TextDecoder().decode(a), "a second import changed the database");
  // New memories after an import get fresh ids (the sequence moved past imported ones).
  const fresh = await runSage(["save", "After the import.", "--json"], { env: envB });
  succeeded(fresh, "save after import");
  assert.ok(JSON.parse(fresh.stdout).id > Math.max(...lines.filter((l) => l.type === "memory").map((l) => l.id)));

  // A file with one bad line is rejected whole.
  await Deno.writeTextFile(`${dir}/bad.jsonl`, `{"content":"good line"}\n{"content": 5}\nnot json\n`);
  const before = await memoryCount(target);
  const rejected = await runSage(["import", `${dir}/bad.jsonl`], { env: envB });
  assert.equal(rejected.code, 2);
  assert.match(rejected.stderr, /line 2: content must be a string/);
  assert.match(rejected.stderr, /line 3: not valid JSON/);
  assert.equal(await memoryCount(target), before);

  const md = await runSage(["export", "--format", "markdown"], { env: envA });
  succeeded(md, "export markdown");
  assert.match(md.stdout, /^# Sage memories/);
  assert.match(md.stdout, /## \[memory:7\] 2026-01-02 03:04 UTC · decision/);
  assert.doesNotMatch(md.stdout, /another project/, "markdown export leaked another project");
});
