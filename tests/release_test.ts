/**
 * The release workflow cannot run on our machines (it needs GitHub's runners and the internet), so what can be
 * checked here is: it parses, it builds both platforms and runs the selftest and the container checks on the built
 * image, it publishes only on version tags, its actions are pinned by commit, and every script, subcommand and file it
 * (or scripts/release) names exists. Also: the run scripts' default image is the one a release publishes.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { VERSION } from "../lib/version.ts";

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const WORKFLOW = ".github/workflows/release.yml";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
}
interface Job {
  "runs-on": string;
  needs?: string | string[];
  if?: string;
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps: Step[];
}
interface Workflow {
  on: { push: { branches: string[]; tags: string[] }; pull_request?: { paths: string[] } };
  jobs: Record<string, Job>;
}

const text = await Deno.readTextFile(`${REPO}/${WORKFLOW}`);
const workflow = parse(text, { uniqueKeys: true, strict: true }) as Workflow;
const release = await Deno.readTextFile(`${REPO}/scripts/release`);
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const onTags = (s: { if?: string }) => /startsWith\(github\.ref, 'refs\/tags\/v'\)/.test(s.if ?? "");

function exists(path: string): boolean {
  try {
    Deno.statSync(`${REPO}/${path}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("release workflow: builds and proves both platforms, publishes only on version tags", () => {
  assert.deepEqual(workflow.on.push.tags, ["v*"]);
  assert.ok(workflow.on.push.branches.includes("main"));
  const image = workflow.jobs.image;
  assert.ok(image, "no `image` job");
  assert.deepEqual(image.strategy?.matrix.include.map((m) => m.platform), ["linux/amd64", "linux/arm64"]);
  for (
    const command of ["setup --dev --containers", "release build", "release check", "release test", "release bench"]
  ) {
    assert.match(runs(image), new RegExp(`scripts/${command}`), `the image job does not run scripts/${command}`);
  }
  // Pushing happens only on a tag, after the tag was checked against the version, and after the checks passed.
  const pushing = image.steps.filter((s) => /docker login|release publish/.test(s.run ?? ""));
  assert.equal(pushing.length, 2);
  for (const s of pushing) assert.ok(onTags(s), `"${s.name}" runs without a version tag`);
  const order = (re: RegExp) => image.steps.findIndex((s) => re.test(s.run ?? ""));
  assert.ok(order(/release verify-tag/) < order(/release build/));
  assert.ok(order(/release test/) < order(/release publish/));
  assert.ok(onTags(image.steps[order(/release verify-tag/)]));
  const publish = workflow.jobs.publish;
  assert.ok(onTags(publish), "the publish job runs without a version tag");
  assert.equal(publish.needs, "image");
  assert.match(runs(publish), /scripts\/release manifest/);
});

Deno.test("release workflow: actions pinned by commit; every script, subcommand and file it names exists", () => {
  const uses = steps.filter((s) => s.uses).map((s) => s.uses!);
  assert.ok(uses.length > 0);
  for (const u of uses) {
    assert.match(u, /^[\w.-]+\/[\w.-]+(\/[\w.-]+)*@[0-9a-f]{40}$/, `${u} is not pinned to a commit`);
  }
  // Each pinned commit carries the tag it stands for, for the next person who updates it.
  for (const u of uses) assert.match(text, new RegExp(`${u.replace(/[./]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+`));

  const named = new Set<string>();
  for (const source of [steps.map((s) => s.run ?? "").join("\n"), release]) {
    for (const m of source.matchAll(/(?<![\w/.-])((?:scripts|tests|eval|lib|bench)\/[\w./-]*[\w])/g)) named.add(m[1]);
  }
  for (const p of workflow.on.pull_request?.paths ?? []) if (!p.includes("*")) named.add(p);
  assert.ok(named.has("scripts/release") && named.has("eval/release-bilingual.json"), [...named].join(", "));
  for (const path of named) assert.ok(exists(path), `${path} is named by the workflow or scripts/release but missing`);

  // `scripts/release X` must be a command the script has.
  const commands = [...release.matchAll(/^ {2}([\w-]+)\) cmd_/gm)].map((m) => m[1]);
  for (const m of steps.map((s) => s.run ?? "").join("\n").matchAll(/scripts\/release ([\w-]+)/g)) {
    assert.ok(commands.includes(m[1]), `scripts/release has no command "${m[1]}" (it has ${commands.join(", ")})`);
  }
  // And the tasks the script runs are deno.json's.
  const tasks = Object.keys(JSON.parse(Deno.readTextFileSync(`${REPO}/deno.json`)).tasks);
  const used = [...release.matchAll(/(?:"\$deno" task|bench_task \S+) ([\w:]+)/g)].map((m) => m[1]);
  for (const t of ["test:container", "bench:retrieval", "bench:recall"]) assert.ok(used.includes(t), used.join(", "));
  for (const t of used) assert.ok(tasks.includes(t), `deno.json has no task ${t}`);
});

Deno.test("release workflow: a YAML error would be caught", () => {
  assert.throws(() => parse(text.replace("jobs:", "jobs:\n  image: [unclosed"), { strict: true }));
  assert.throws(() => parse(`${text}\non: again\n`, { uniqueKeys: true }));
});

Deno.test("the run scripts' default image is scripts/image.env's registry with lib/version.ts's version", async () => {
  const env = await Deno.readTextFile(`${REPO}/scripts/image.env`);
  const registry = env.match(/^SAGE_REGISTRY=(.+)$/m)?.[1];
  assert.ok(registry, "scripts/image.env sets no SAGE_REGISTRY");
  assert.match(registry, /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._-]+$/, "SAGE_REGISTRY is not <host>/<owner> in lower case");
  const want = `${registry}/sage:${VERSION}`;
  const sh = (await Deno.readTextFile(`${REPO}/run_sage_single.sh`)).match(/^published=(\S+)$/m)?.[1];
  const ps1 = (await Deno.readTextFile(`${REPO}/run_sage_single.ps1`)).match(/^\$published = '([^']+)'$/m)?.[1];
  assert.equal(sh, want, "run_sage_single.sh: update its published= line");
  assert.equal(ps1, want, "run_sage_single.ps1: update its $published line");
});
