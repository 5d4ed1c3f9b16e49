/**
 * Project scope holds: one canonical spelling per folder (`/tmp//p`, `/tmp/p/.` and a symlink to it are one
 * project), paths that cannot be resolved are refused, and acting on a memory or session by id stays in the current
 * project unless another one is named. Real `sage serve` and `sage` processes.
 */
import assert from "node:assert/strict";
import { normalizeProject } from "../lib/project.ts";
import { freshDatabase, runSage, tempDir } from "./support/harness.ts";
import { connectSage, type SageClient, type ToolResult } from "./support/mcp_client.ts";

type Row = Record<string, unknown>;

function ok(s: SageClient, r: ToolResult): Row {
  assert.notEqual(r.isError, true, `tool failed: ${s.text(r)}`);
  return r.structuredContent!;
}

function refused(s: SageClient, r: ToolResult, pattern: RegExp): void {
  assert.equal(r.isError, true, `expected an error, got: ${s.text(r)}`);
  assert.match(s.text(r), pattern);
}

Deno.test("scope: spellings of one folder are one project; ~ and relative paths are resolved or refused", async () => {
  const dir = await tempDir("canon-");
  await Deno.mkdir(`${dir}/p/sub`, { recursive: true });
  await Deno.symlink(`${dir}/p`, `${dir}/link`);
  const p = await Deno.realPath(`${dir}/p`);
  for (
    const spelling of [
      `${dir}/p`,
      `${dir}//p`,
      `${dir}/p/.`,
      `${dir}/p/`,
      `${dir}/p/sub/..`,
      `${dir}/./p//`,
      `${dir}/link`,
    ]
  ) {
    assert.equal(normalizeProject(spelling), p, spelling);
  }
  // Folders that do not exist here (another machine's, the container's host): the same, written out.
  assert.equal(normalizeProject("/nowhere//x/./y/../z/"), "/nowhere/x/z");
  assert.equal(normalizeProject("C:\\Users\\me\\repo\\."), "C:/Users/me/repo");
  assert.equal(normalizeProject("/"), "/");
  for (const bad of ["~/repo", "~", "repo", "./repo", "../repo", "C:repo"]) {
    assert.throws(() => normalizeProject(bad), /absolute path/, bad);
  }
  // Where a base is known (the command line's working directory, HOME), they are resolved.
  assert.equal(normalizeProject("./sub/..", { cwd: p }), p);
  assert.equal(normalizeProject("~/p", { cwd: "/", home: dir }), p);
});

Deno.test({
  name: "scope: memories saved under <repo>/. or <repo>//. are found from the repository itself",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const url = await freshDatabase();
  const home = await tempDir("canon-home-");
  const repo = `${home}/repo`;
  await Deno.mkdir(`${repo}/.git`, { recursive: true });
  const real = await Deno.realPath(repo);
  const s = await connectSage({ DATABASE_URL: url, SAGE_HOME: home, SAGE_PROJECT: `${repo}/.` });
  try {
    const a = ok(s, await s.call("save_memory", { content: "Saved with SAGE_PROJECT=<repo>/." }));
    assert.equal(a.project, real);
    const b = ok(s, await s.call("save_memory", { content: "Saved with project <repo>//", project: `${repo}//` }));
    assert.equal(b.project, real);
    refused(s, await s.call("save_memory", { content: "nowhere", project: "~/repo" }), /absolute path/);
    refused(s, await s.call("search_memory", { query: "x", project: "repo" }), /absolute path/);
  } finally {
    await s.close();
  }
  // From inside the repository (its git root is the project), both are there.
  const found = await runSage(["search", "Saved", "--json"], {
    env: { DATABASE_URL: url, SAGE_HOME: home },
    cwd: repo,
  });
  assert.equal(found.code, 0, found.stderr);
  assert.equal(JSON.parse(found.stdout).hits.length, 2, found.stdout);
  // On the command line, a relative --project is resolved against the working directory.
  const rel = await runSage(["search", "Saved", "--json", "--project", "."], {
    env: { DATABASE_URL: url, SAGE_HOME: home },
    cwd: repo,
  });
  assert.equal(rel.code, 0, rel.stderr);
  assert.equal(JSON.parse(rel.stdout).project, real);
});

Deno.test({
  name: "scope: get, update, delete, sage://memory/ID and session switch act on the current project unless named",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const url = await freshDatabase();
  const A = "/scope/a";
  const B = "/scope/b";
  const s = await connectSage({ DATABASE_URL: url, SAGE_PROJECT: A });
  try {
    const mine = ok(s, await s.call("save_memory", { content: "Project A uses tabs." })).id as number;
    const theirs = ok(s, await s.call("save_memory", { content: "Project B uses spaces.", project: B })).id as number;
    const theirs2 = ok(s, await s.call("save_memory", { content: "Project B deploys daily.", project: B }))
      .id as number;
    const session = ok(s, await s.call("manage_session", { action: "create", name: "b work", project: B }));
    await s.call("manage_session", { action: "create", name: "a work" });

    // get_memory
    assert.equal(ok(s, await s.call("get_memory", { id: mine })).content, "Project A uses tabs.");
    refused(s, await s.call("get_memory", { id: theirs }), new RegExp(`no memory with id ${theirs} in project ${A}`));
    assert.equal(ok(s, await s.call("get_memory", { id: theirs, project: B })).content, "Project B uses spaces.");
    refused(s, await s.call("get_memory", { id: mine, project: B }), /no memory with id/);

    // sage://memory/ID
    await assert.rejects(() => s.client.readResource({ uri: `sage://memory/${theirs}` }), /no memory with id/);
    const read = await s.client.readResource({ uri: `sage://memory/${theirs}?project=${encodeURIComponent(B)}` }) as {
      contents: { text: string }[];
    };
    assert.equal(JSON.parse(read.contents[0].text).content, "Project B uses spaces.");

    // update_memory
    refused(s, await s.call("update_memory", { id: theirs, content: "Changed from A." }), /no memory with id/);
    assert.equal(ok(s, await s.call("get_memory", { id: theirs, project: B })).content, "Project B uses spaces.");
    assert.equal(
      ok(s, await s.call("update_memory", { id: theirs, project: B, tags: ["style"] })).tags?.toString(),
      "style",
    );

    // delete_memory: by id, by ids (other projects' ids count as not found), by filters
    refused(s, await s.call("delete_memory", { id: theirs }), /no memory with id/);
    const mixed = ok(s, await s.call("delete_memory", { ids: [theirs, theirs2] }));
    assert.deepEqual(mixed, { deleted: [], not_found: [theirs, theirs2] });
    assert.ok(ok(s, await s.call("get_memory", { id: theirs2, project: B })));
    assert.deepEqual(ok(s, await s.call("delete_memory", { id: theirs2, project: B })).deleted, [theirs2]);
    // Any project, when the call says so (`sage delete`, ids from the user's own view of every project).
    refused(s, await s.call("delete_memory", { id: theirs, all_projects: true, project: B }), /not both/);
    assert.deepEqual(ok(s, await s.call("delete_memory", { ids: [theirs], all_projects: true })).deleted, [theirs]);

    // manage_session: switch and info by id
    refused(s, await s.call("manage_session", { action: "switch", id: session.id }), /no session with id/);
    refused(s, await s.call("manage_session", { action: "info", id: session.id }), /no session with id/);
    const switched = ok(s, await s.call("manage_session", { action: "switch", id: session.id, project: B }));
    assert.equal(switched.id, session.id);
    assert.equal(ok(s, await s.call("manage_session", { action: "info" })).id, session.id, "info of the current one");
  } finally {
    await s.close();
  }
});
