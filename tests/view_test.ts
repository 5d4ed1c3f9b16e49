/// <reference lib="dom" />
/**
 * `sage view`: the page is written by the real command from memories stored through the real service and CLI,
 * then opened from its file:// URL in a real headless Chromium. Set SAGE_VIEW_SCREENSHOT=docs/view.png to keep a
 * screenshot of it (the README's).
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { compileQuery, highlightRanges, normalizeText } from "../lib/view/client/search.ts";
import { renderPage, scriptSafeJson, type ViewData, type ViewMemory } from "../lib/view/page.ts";
import { launchChromium } from "./support/browser.ts";
import { freshDatabase, newService, runSage, tempDir } from "./support/harness.ts";

const PROJECT = "/home/ana/shop-api";
const OTHER = "/home/ana/blog";
const ZONE = "Asia/Shanghai"; // UTC+8: dates in the page are the reader's local dates, not UTC ones

const day = (d: string, hour = 9, minute = 0) =>
  `${d}T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}:00Z`;

/** A few weeks of a real-looking bilingual project: sessions, kinds, tags, metadata. */
function realisticLines(): string[] {
  const sessions = [
    { id: "7f3c2a10-0000-4000-8000-000000000001", name: "Payment retries", at: "2026-09-14" },
    { id: "7f3c2a10-0000-4000-8000-000000000002", name: "数据库迁移", at: "2026-10-05" },
    { id: "7f3c2a10-0000-4000-8000-000000000003", name: "Release 2.4", at: "2026-11-09" },
  ];
  const [pay, db, rel] = sessions.map((s) => s.id);
  const m = (
    session: string | null,
    kind: string,
    at: string,
    content: string,
    tags: string[] = [],
    metadata: Record<string, unknown> = {},
    project = PROJECT,
  ) => ({ type: "memory", project, session, kind, content, tags, metadata, created_at: at, updated_at: at });
  return [
    ...sessions.map((s) => ({
      type: "session",
      id: s.id,
      project: PROJECT,
      name: s.name,
      created_at: day(s.at, 1),
      updated_at: day(s.at, 1),
    })),
    m(
      pay,
      "conversation",
      day("2026-09-14", 2, 10),
      "User: Stripe webhooks sometimes arrive twice. How do we make the handler idempotent?\n\nAssistant: Store the event id in a processed_events table with a unique constraint and skip events already there; wrap the handler in the same transaction.",
      ["payments"],
      { transcript_turn: 4 },
    ),
    m(
      pay,
      "decision",
      day("2026-09-14", 2, 30),
      "Retry failed payment captures with exponential backoff: 1 min, 5 min, 30 min, then give up and email the customer.",
      ["payments", "retry"],
    ),
    m(
      pay,
      "task",
      day("2026-09-15", 3),
      "Add a dashboard alert when more than 2% of captures fail within an hour.",
      ["payments", "ops"],
    ),
    m(
      pay,
      "fact",
      day("2026-09-16", 6),
      "The staging Stripe account uses test clock 'clock_1Q2w' for subscription renewals.",
      ["payments"],
    ),
    m(
      db,
      "decision",
      day("2026-10-05", 20, 0),
      "数据库迁移改用 PostgreSQL 16 的逻辑复制，切换窗口定在周日凌晨两点，预计停机五分钟。",
      ["database", "迁移"],
      { reviewed_by: "李伟" },
    ),
    m(
      db,
      "conversation",
      day("2026-10-06", 2, 15),
      "用户：缓存在重启后会丢失，要不要持久化？\n\n助手：订单缓存只是加速查询，重启后从数据库重建即可；会话缓存需要持久化到 Redis 的 AOF。",
      ["cache"],
    ),
    m(
      db,
      "note",
      day("2026-10-07", 7),
      "迁移脚本必须可以重复执行：每一步先检查目标表是否已经存在。",
      ["database", "迁移"],
    ),
    m(db, "fact", day("2026-10-08", 4), "The orders table has 41 million rows; a full VACUUM takes about 50 minutes.", [
      "database",
    ]),
    m(
      null,
      "preference",
      day("2026-10-20", 8),
      "Ana prefers small pull requests (under 400 lines) with the migration in its own commit.",
      ["workflow"],
    ),
    m(null, "preference", day("2026-10-21", 8), "代码评审意见用中文写，提交信息用英文。", ["workflow"]),
    m(
      rel,
      "summary",
      day("2026-11-09", 9),
      "Release 2.4: idempotent webhooks, payment retries with backoff, the PostgreSQL 16 migration. Rollback plan: switch the DNS back to the old primary.",
      ["release"],
      { version: "2.4.0", commit: "9e7ffa8" },
    ),
    m(
      rel,
      "reference",
      day("2026-11-10", 9),
      "Runbook for the cut-over: docs/runbooks/pg16-cutover.md (owner: 李伟).",
      ["release", "database"],
    ),
    m(
      rel,
      "task",
      day("2026-11-12", 9),
      "Remove the old payment retry cron job after two weeks without incidents.",
      ["payments", "retry"],
    ),
    m(null, "note", day("2026-11-20", 9), "Draft: a post about our webhook idempotency.", ["writing"], {}, OTHER),
  ].map((r) => JSON.stringify(r));
}

/** Stored text that would run or break a page built by pasting strings into HTML. */
const HOSTILE = [
  "<script>window.__pwned = 'script'</script>",
  "</script><script>window.__pwned = 'close'</script>",
  "<img src=x onerror=\"window.__pwned = 'img'\">",
  "<a href=\"javascript:window.__pwned = 'link'\">click me</a> ]]> <!-- --> <![CDATA[ x ]]>",
  "\u2028\u2029 <svg onload=\"window.__pwned = 'svg'\"></svg> &lt;b&gt; &amp;",
];

/** Redacted when saved; the page must show them redacted. */
const SECRETS =
  "CI deploy token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789, database postgres://app:hunter2secret@db.internal/shop";

interface Fixture {
  url: string;
  env: Record<string, string>;
  dir: string;
}

let fixture: Promise<Fixture> | null = null;

/** One database for the file: the realistic lines imported through the service, hostile ones saved with the CLI. */
function setup(): Promise<Fixture> {
  return fixture ??= (async () => {
    const url = await freshDatabase();
    const dir = await tempDir("view");
    const env = { DATABASE_URL: url, SAGE_HOME: `${dir}/home`, SAGE_PROJECT: PROJECT };
    const ts = await newService({ url, project: PROJECT, model: null });
    try {
      await ts.service.importLines(realisticLines());
    } finally {
      await ts.close();
    }
    for (const text of HOSTILE) {
      const r = await runSage(["save", text, "--kind", "note", "--tag", "hostile"], { env });
      assert.equal(r.code, 0, r.stderr);
    }
    const secret = await runSage(["save", SECRETS, "--kind", "fact"], { env });
    assert.equal(secret.code, 0, secret.stderr);
    return { url, env, dir };
  })();
}

async function writePage(f: Fixture, name: string, ...args: string[]): Promise<string> {
  const file = `${f.dir}/${name}.html`;
  const r = await runSage(["view", "--output", file, "--no-open", ...args], { env: f.env });
  assert.equal(r.code, 0, r.stderr);
  return file;
}

/** A page with every request recorded (and any but the file itself refused), every script error collected. */
async function open(
  browser: Browser,
  file: string,
  options: { width?: number; height?: number; dark?: boolean } = {},
): Promise<{ page: Page; context: BrowserContext; requests: string[]; errors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 3000 },
    timezoneId: ZONE,
    colorScheme: options.dark ? "dark" : "light",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const requests: string[] = [];
  const errors: string[] = [];
  const self = `file://${file}`;
  await context.route("**/*", (route) => route.request().url() === self ? route.continue() : route.abort());
  const page = await context.newPage();
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(self);
  await page.waitForSelector("html[data-ready]", { timeout: 10_000 });
  await page.evaluate(() => {
    const w = window as unknown as { updates: number };
    w.updates = 0;
    document.addEventListener("sage:update", () => w.updates++);
  });
  return { page, context, requests, errors };
}

/** Runs an action that changes the list and waits until the page has applied it. */
async function changing(page: Page, action: () => Promise<unknown>): Promise<void> {
  const before = await page.evaluate(() => (window as unknown as { updates: number }).updates);
  await action();
  await page.waitForFunction((n) => (window as unknown as { updates: number }).updates > n, before);
}

/** Ids of the memory rows on the page (the viewport is tall enough to render all of them). */
const shownIds = (page: Page) =>
  page.$$eval(".row.mem", (rows) => rows.map((r) => Number(r.id.slice(1))).sort((a, b) => a - b));
const rowText = (page: Page) => page.$$eval(".row.mem", (rows) => rows.map((r) => r.textContent ?? ""));
const status = (page: Page) => page.textContent("[data-testid=status]");

async function contentOf(url: string, id: number): Promise<string> {
  const ts = await newService({ url, project: PROJECT, model: null });
  try {
    return (await ts.service.get(id)).content;
  } finally {
    await ts.close();
  }
}

async function idsOf(url: string, predicate: (m: ViewMemory) => boolean): Promise<number[]> {
  const ts = await newService({ url, project: PROJECT, model: null });
  try {
    const ids: number[] = [];
    for await (const line of ts.service.exportLines({ format: "jsonl", all_projects: true })) {
      const r = JSON.parse(line.text);
      if (r.type === "memory" && predicate(r)) ids.push(r.id);
    }
    return ids.sort((a, b) => a - b);
  } finally {
    await ts.close();
  }
}

Deno.test("view: search rules (NFKC, case, CJK pieces, phrases, exclusions, ids)", () => {
  const hit = (query: string, text: string, id = 1) => compileQuery(query)!.test(normalizeText(text), id);
  assert.ok(hit("ＰＯＳＴＧＲＥＳ", "We use Postgres"));
  assert.ok(hit("cach", "caching layer"));
  assert.ok(hit("缓存重启", "缓存在重启后会丢失"), "two pieces of two");
  assert.ok(hit("重启了", "重启以后缓存就丢了"), "a piece of two and one character");
  assert.ok(!hit("缓存重启", "启动时重新读取存储的缓"), "the four characters scattered are not a match");
  assert.ok(!hit("缓存", "缓 存"), "two characters must appear together");
  assert.ok(hit("缓存，重启", "重启 缓存"), "CJK punctuation separates words");
  assert.ok(hit("postgres 迁移", "数据库迁移到 PostgreSQL"));
  assert.ok(!hit("postgres -迁移", "数据库迁移到 PostgreSQL"));
  assert.ok(hit('"short functions"', "prefers short functions"));
  assert.ok(!hit('"short functions"', "functions should be short"));
  assert.ok(hit("42", "no number here", 42), "a number finds the memory with that id");
  assert.ok(hit("postgres,", "postgres is fine"), "a trailing comma is not searched for");
  assert.equal(compileQuery("   "), null);
  assert.deepEqual(highlightRanges("Cache 缓存在重启后", compileQuery("cache 缓存重启")), [[0, 5], [6, 8], [9, 11]]);
});

Deno.test("view: the embedded JSON cannot close its script element or start markup", () => {
  const nasty = "</script><!-- <script> \u2028\u2029 & ]]>";
  const json = scriptSafeJson({ s: nasty });
  assert.doesNotMatch(json, /[<>&\u2028\u2029]/);
  assert.deepEqual(JSON.parse(json), { s: nasty });
  const html = renderPage({
    generated_at: "2026-12-01T00:00:00Z",
    scope: "project </title><script>",
    total: 1,
    included: 1,
    sessions: [],
    memories: [memory(1, nasty)],
  });
  assert.equal(html.match(/<script/g)?.length, 2, "the data script and the page script, nothing else");
  assert.equal(html.match(/<\/script>/g)?.length, 2);
  assert.match(html, /<title>Sage memories<\/title>/);
});

function memory(id: number, content: string, extra: Partial<ViewMemory> = {}): ViewMemory {
  const at = new Date(Date.UTC(2026, 10, 1, 12) + id * 3_600_000).toISOString();
  return {
    id,
    project: PROJECT,
    session: null,
    kind: "fact",
    content,
    tags: [],
    metadata: {},
    created_at: at,
    updated_at: at,
    has_vector: null,
    superseded_by: null,
    ...extra,
  };
}

Deno.test({
  name: "view: the command writes a private page, to stdout with --output -, and refuses bad flags",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const f = await setup();
    const env = { ...f.env, SAGE_HOME: `${f.dir}/home-cli` };
    // Default place, private: the folder 0700, the file 0600. No opener on PATH: it says how to open the page.
    const noOpener = await tempDir("path");
    const first = await runSage(["view"], { env: { ...env, PATH: noOpener } });
    assert.equal(first.code, 0, first.stderr);
    const [file] = [...Deno.readDirSync(`${env.SAGE_HOME}/view`)].map((e) => `${env.SAGE_HOME}/view/${e.name}`);
    assert.match(file, /\/view\/shop-api-[0-9a-f]{8}\.html$/);
    assert.equal(Deno.statSync(file).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(`${env.SAGE_HOME}/view`).mode! & 0o777, 0o700);
    assert.match(first.stderr, new RegExp(`19 memories of project ${PROJECT}, written to ${file}`));
    assert.match(
      first.stderr,
      new RegExp(`Could not open a browser \\(xdg-open is not installed\\)\\. Open this in one: file://${file}`),
    );
    assert.equal(first.stdout, "");

    // An opener is called with the file (a stand-in xdg-open that records its arguments).
    const bin = await tempDir("bin");
    await Deno.writeTextFile(`${bin}/xdg-open`, `#!/bin/sh\nprintf '%s\\n' "$@" > "${bin}/opened"\n`, { mode: 0o755 });
    const opened = await runSage(["view", "--all-projects"], { env: { ...env, PATH: `${bin}:/usr/bin:/bin` } });
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal(Deno.readTextFileSync(`${bin}/opened`), `${env.SAGE_HOME}/view/all-projects.html\n`);
    assert.doesNotMatch(opened.stderr, /Could not open/);

    // --output FILE replaces an older, readable file with a private one.
    const out = `${f.dir}/mine.html`;
    Deno.writeTextFileSync(out, "old", { mode: 0o644 });
    const written = await runSage(["view", "--output", out, "--no-open", "--limit", "3"], { env });
    assert.equal(written.code, 0, written.stderr);
    assert.equal(Deno.statSync(out).mode! & 0o777, 0o600);
    assert.match(Deno.readTextFileSync(out), /"total":19,"included":3,/);
    assert.deepEqual([...Deno.readDirSync(f.dir)].filter((e) => e.name.includes("partial")), []);

    // stdout: the page and nothing else; --command shapes the commands the page copies.
    const piped = await runSage(
      ["view", "--output", "-", "--command", "./run_sage_single.sh", "--since", "2026-11-01"],
      {
        env,
      },
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^<!doctype html>\n/);
    assert.match(piped.stdout, /<\/html>\n$/);
    assert.match(piped.stdout, /"command":"\.\/run_sage_single\.sh"/);
    assert.match(piped.stdout, /"total":19,"included":9,/); // the other project's memory is not in scope
    assert.match(piped.stderr, /9 of 19 memories \(the newest\) of project \/home\/ana\/shop-api, written to stdout/);

    // Bad flags: exit 2, a clear message, nothing on stdout, nothing written.
    const fresh = { ...env, SAGE_HOME: `${f.dir}/home-untouched` };
    const target = `${f.dir}/never.html`;
    const cases: [string[], RegExp][] = [
      [["--limit", "0"], /--limit must be at least 1/],
      [["--limit", "ten"], /--limit must be a whole number, got "ten"/],
      [["--since", "yesterday"], /--since must be an ISO 8601 date or time .* got "yesterday"/],
      [["--output", `${f.dir}/no/such/folder/x.html`], /--output: the folder .*\/no\/such\/folder does not exist/],
      [["--output", f.dir], /is a folder; give a file name/],
      [["--output", ""], /--output needs a file name, or - for stdout/],
      [["--all-projects", "--project", "/x"], /give --project or --all-projects, not both/],
      [["--colour"], /Unknown option '--colour'/],
      [["extra"], /unexpected argument "extra"/],
    ];
    const results = await Promise.all(
      cases.map(([args]) =>
        runSage(["view", ...args, ...(args[0] === "--output" ? [] : ["--output", target])], { env: fresh })
      ),
    );
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i][0].join(" ")}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, cases[i][1]);
      assert.equal(r.stdout, "");
    });
    assert.equal(await Deno.stat(target).catch(() => null), null);
    assert.equal(await Deno.stat(fresh.SAGE_HOME).catch(() => null), null);
  },
});

Deno.test({
  name: "view: sage delete removes what the page's command names; several ids need --yes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const url = await freshDatabase();
    const env = { DATABASE_URL: url, SAGE_HOME: await tempDir("home"), SAGE_PROJECT: PROJECT };
    const ids: number[] = [];
    for (const text of ["first to go", "second to go", "stays"]) {
      const r = await runSage(["save", text, "--json"], { env });
      ids.push(JSON.parse(r.stdout).id);
    }
    const refused = await runSage(["delete", String(ids[0]), String(ids[1])], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /this would delete 2 memories; nothing was deleted\nAdd --yes to delete them\./);
    const bad = await runSage(["delete", "12abc"], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /id must be a positive integer/);
    assert.deepEqual(await idsOf(url, () => true), ids);
    const missing = await runSage(["delete", "99999"], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no memory with id 99999/);
    const ok = await runSage(["delete", String(ids[0]), `#${ids[1]}`, "--yes"], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `deleted 2 memories: ${ids[0]} ${ids[1]}\n`);
    assert.deepEqual(await idsOf(url, () => true), [ids[2]]);
  },
});

Deno.test({
  name: "view: the page in Chromium (render, search, filters, safety, keyboard, narrow window, no requests)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const f = await setup();
    const file = await writePage(f, "page");
    const browser = await launchChromium();
    try {
      const { page, context, requests, errors } = await open(browser, file);
      const all = await idsOf(f.url, (m) => m.project === PROJECT);
      let copied = "";

      await t.step("Chinese and English memories render, with the page's title and counts", async () => {
        assert.equal(await page.title(), `Sage memories · project ${PROJECT}`);
        assert.match((await page.textContent("[data-testid=summary]"))!, /project \/home\/ana\/shop-api · 19 memories/);
        assert.deepEqual(await shownIds(page), all);
        const text = (await rowText(page)).join("\n");
        assert.match(text, /数据库迁移改用 PostgreSQL 16 的逻辑复制/);
        assert.match(text, /Retry failed payment captures with exponential backoff/);
        assert.match((await status(page))!, /^19 memories, newest first$/);
        // Local dates (UTC+8): the migration decision was made on 5 October at 20:00 UTC, 6 October in Shanghai.
        assert.match(text, /decision2026-10-06 04:00/);
      });

      await t.step("search narrows the list, in English and in Chinese", async () => {
        const search = async (q: string) => await changing(page, () => page.fill("[data-testid=search]", q));
        await search("backoff");
        assert.deepEqual(await shownIds(page), await idsOf(f.url, (m) => /backoff/i.test(m.content)));
        assert.equal(await page.textContent(".row.mem mark"), "backoff");
        await search("缓存重启");
        const cache = await idsOf(f.url, (m) => m.content.includes("缓存在重启后"));
        assert.equal(cache.length, 1);
        assert.deepEqual(await shownIds(page), cache);
        await search("postgresql 迁移");
        assert.deepEqual(
          await shownIds(page),
          await idsOf(f.url, (m) => /postgresql/i.test(m.content) && m.content.includes("迁移")),
        );
        await search("nothing-like-this");
        assert.equal(await shownIds(page).then((x) => x.length), 0);
        assert.ok(await page.isVisible("text=No memory matches the search and filters."));
        await search("");
        assert.equal((await shownIds(page)).length, 19);
      });

      await t.step("filters: kind, tag (all must match), session, date range", async () => {
        await changing(page, () => page.click("[data-testid=kind-decision]"));
        assert.deepEqual(
          await shownIds(page),
          await idsOf(f.url, (m) => m.project === PROJECT && m.kind === "decision"),
        );
        assert.equal(await page.getAttribute("[data-testid=kind-decision]", "aria-pressed"), "true");
        await changing(page, () => page.click("[data-testid=kind-decision]"));

        await changing(page, () => page.click("[data-testid=tag-payments]"));
        await changing(page, () => page.click("[data-testid=tag-retry]"));
        const both = await idsOf(f.url, (m) => m.tags.includes("payments") && m.tags.includes("retry"));
        assert.equal(both.length, 2);
        assert.deepEqual(await shownIds(page), both);
        // The count on a kind says what choosing it would show with the other filters kept.
        assert.match((await page.textContent("[data-testid=kind-task]"))!, /task\s*1/);
        await changing(page, () => page.click("[data-testid=tag-payments]"));
        await changing(page, () => page.click("[data-testid=tag-retry]"));

        const options = await page.$$eval(
          "[data-testid=session] option",
          (o) => (o as HTMLOptionElement[]).map((x) => [x.value, x.textContent ?? ""]),
        );
        const migration = options.find(([, label]) => label.startsWith("数据库迁移"))!;
        await changing(page, () => page.selectOption("[data-testid=session]", migration[0]));
        const sessionIds = await idsOf(f.url, (m) => m.session === "7f3c2a10-0000-4000-8000-000000000002");
        assert.equal(sessionIds.length, 4);
        assert.deepEqual(await shownIds(page), sessionIds);
        await changing(page, () => page.selectOption("[data-testid=session]", "-2"));
        // The same from the session's header in the list.
        await changing(page, () => page.click(".row.session:has-text('数据库迁移') >> text=Only this session"));
        assert.deepEqual(await shownIds(page), sessionIds);
        assert.equal(await page.inputValue("[data-testid=session]"), migration[0]);
        await changing(page, () => page.click(".row.session:has-text('数据库迁移') >> text=All sessions"));
        assert.equal((await shownIds(page)).length, 19);

        // 6 October, local time: the decision (5 Oct 20:00 UTC) and the cache turn (6 Oct 02:15 UTC).
        await changing(page, () => page.fill("[data-testid=from]", "2026-10-06"));
        await changing(page, () => page.fill("[data-testid=to]", "2026-10-06"));
        const sixth = await idsOf(
          f.url,
          (m) => m.created_at >= "2026-10-05T16:00" && m.created_at < "2026-10-06T16:00",
        );
        assert.equal(sixth.length, 2);
        assert.deepEqual(await shownIds(page), sixth);
        await changing(page, () => page.click("text=Reset filters >> nth=0"));
        assert.equal((await shownIds(page)).length, 19);
      });

      await t.step("hostile memories stay text: nothing runs, the page stays whole", async () => {
        await changing(page, () => page.fill("[data-testid=search]", "pwned"));
        const text = (await rowText(page)).join("\n");
        assert.equal((await shownIds(page)).length, 5);
        assert.match(text, /<script>window\.__pwned = 'script'<\/script>/);
        assert.match(text, /<img src=x onerror=/);
        for (const row of await page.$$(".row.mem")) {
          await row.click();
          await page.waitForSelector("[data-testid=content]");
        }
        assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned), undefined);
        assert.equal(await page.title(), `Sage memories · project ${PROJECT}`);
        assert.equal(await page.locator("script").count(), 2);
        assert.equal(await page.locator("img, iframe, object, embed, a[href^='javascript']").count(), 0);
        assert.equal(await page.locator("body svg[onload], [onerror]").count(), 0);
        assert.match((await page.textContent("[data-testid=content]"))!, /pwned/);
        // Secrets were redacted when saved: neither the file nor the page has them.
        const html = await Deno.readTextFile(file);
        assert.ok(!html.includes("ghp_AbCd") && !html.includes("hunter2secret"));
        await changing(page, () => page.fill("[data-testid=search]", "deploy token"));
        assert.match(
          (await rowText(page)).join("\n"),
          /CI deploy token \[REDACTED token\], database postgres:\/\/app:\[REDACTED\]@db\.internal/,
        );
      });

      await t.step("the policy blocks any request and any HTML string, even from injected code", async () => {
        const fetched = await page.evaluate(() =>
          fetch("http://127.0.0.1:9/x").then(() => "fetched", (e) => `blocked: ${e}`)
        );
        assert.match(fetched, /^blocked/);
        const html = await page.evaluate(() => {
          try {
            document.body.insertAdjacentHTML("beforeend", "<b>x</b>");
            return "inserted";
          } catch (e) {
            return `refused: ${(e as Error).name}`;
          }
        });
        assert.equal(html, "refused: TypeError");
        errors.splice(0); // the refusals above log errors of their own
      });

      await t.step("keyboard: / searches, j and k move, Enter opens, the delete command is copied", async () => {
        await changing(page, () => page.click("text=Reset filters >> nth=0"));
        await page.keyboard.press("Escape");
        await page.keyboard.press("/");
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "search");
        await page.keyboard.type("payment");
        const payment = await idsOf(f.url, (m) => m.project === PROJECT && /payment/i.test(`${m.content} ${m.tags}`));
        assert.ok(payment.length >= 3);
        // Typing searches at every keystroke, and "paym" finds as many as "payment": wait for the last one's marks.
        await page.waitForFunction(() => {
          const marks = [...document.querySelectorAll(".row.mem mark")];
          return marks.length > 0 && marks.every((m) => m.textContent?.toLowerCase() === "payment");
        });
        assert.match((await status(page))!, new RegExp(`^${payment.length} of`));
        await page.keyboard.press("ArrowDown"); // from the search box to the list
        const selected = () => page.$eval(".row.mem.sel", (r) => Number(r.id.slice(1)));
        const order = await page.$$eval(".row.mem", (rows) => rows.map((r) => Number(r.id.slice(1))));
        assert.equal(await selected(), order[0]);
        await page.keyboard.press("j");
        assert.equal(await selected(), order[1]);
        await page.keyboard.press("j");
        await page.keyboard.press("k");
        assert.equal(await selected(), order[1]);
        assert.equal(await page.evaluate(() => location.hash), `#m${order[1]}`);
        await page.keyboard.press("Enter");
        assert.equal(await page.evaluate(() => document.activeElement?.className), "detail");
        assert.equal(await page.inputValue("[data-testid=delete-command]"), `sage delete ${order[1]}`);
        await page.keyboard.press("Escape");
        await page.keyboard.press("c");
        await page.waitForSelector(".toast.show");
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `sage delete ${order[1]}`);
        copied = `sage delete ${order[1]}`;
        await page.click("[data-testid=bulk-delete]");
        await page.waitForFunction(
          (n) => document.querySelector(".toast")?.textContent?.includes(`${n} memories`),
          order.length,
        );
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `sage delete ${order.join(" ")} --yes`);
        await page.keyboard.press("/");
        await changing(page, () => page.keyboard.press("Escape")); // clears the search
        assert.equal(await page.inputValue("[data-testid=search]"), "");
        assert.match((await status(page))!, /^19 memories/);
      });

      await t.step("at 360 px: no sideways scrolling; the memory opens over the list and closes", async () => {
        const narrow = await open(browser, file, { width: 360, height: 740, dark: true });
        const p = narrow.page;
        assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= 360));
        assert.ok(await p.isVisible("[data-testid=search]"));
        assert.ok(!(await p.isVisible(".detail")));
        await p.click(".row.mem >> nth=1");
        await p.keyboard.press("Enter");
        assert.ok(await p.isVisible(".detail"));
        assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= 360));
        await p.click("text=← Back");
        assert.ok(!(await p.isVisible(".detail")));
        await p.click("text=Filters");
        assert.ok(await p.isVisible("[data-testid=kind-note]"));
        assert.deepEqual(narrow.errors, []);
        assert.deepEqual(narrow.requests, [`file://${file}`]);
        await narrow.context.close();
      });

      await t.step("all projects: a header per project, and a project filter", async () => {
        const wide = await open(browser, await writePage(f, "all", "--all-projects"));
        const p = wide.page;
        assert.equal(await p.title(), "Sage memories · all projects");
        assert.deepEqual(await p.$$eval(".row.project .name", (r) => r.map((x) => x.textContent)), [PROJECT, OTHER]);
        const options = await p.$$eval(
          "[data-testid=project] option",
          (o) => (o as HTMLOptionElement[]).map((x) => [x.value, x.textContent ?? ""]),
        );
        await changing(p, () => p.selectOption("[data-testid=project]", options.find(([, l]) => l === OTHER)![0]));
        assert.deepEqual(await shownIds(p), await idsOf(f.url, (m) => m.project === OTHER));
        assert.deepEqual(wide.errors, []);
        await wide.context.close();
      });

      await t.step("the copied command really deletes, and the next page no longer has it", async () => {
        const [program, ...args] = copied.split(" ");
        assert.equal(program, "sage");
        const id = Number(args[1]);
        const content = await contentOf(f.url, id);
        const r = await runSage(args, { env: f.env });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `deleted memory ${id}\n`);
        const after = await runSage(["view", "--output", "-"], { env: f.env });
        assert.match(after.stdout, /"total":18,/);
        assert.ok(!after.stdout.includes(scriptSafeJson(content)), "the deleted memory is not in the new page");
      });

      await t.step("no request left the page: only the file itself was loaded", () => {
        assert.deepEqual(requests, [`file://${file}`]);
        assert.deepEqual(errors, []);
      });

      const shot = Deno.env.get("SAGE_VIEW_SCREENSHOT");
      if (shot) await screenshot(browser, shot);
      await context.close();
    } finally {
      await browser.close();
    }
  },
});

/** The README's picture: the realistic project alone (no hostile test memories), one memory open. */
async function screenshot(browser: Browser, path: string): Promise<void> {
  const url = await freshDatabase();
  const ts = await newService({ url, project: PROJECT, model: null });
  try {
    await ts.service.importLines(realisticLines());
  } finally {
    await ts.close();
  }
  const dir = await tempDir("shot");
  const f: Fixture = { url, dir, env: { DATABASE_URL: url, SAGE_HOME: `${dir}/home`, SAGE_PROJECT: PROJECT } };
  const { page, context } = await open(browser, await writePage(f, "shot"), { width: 1280, height: 760 });
  await page.click("text=缓存在重启后会丢失");
  await page.screenshot({ path });
  await context.close();
}

Deno.test({
  name: "view: superseded links jump to the newer memory; vector yes, no, unknown",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const data: ViewData = {
      generated_at: "2026-12-01T00:00:00Z",
      scope: `project ${PROJECT}`,
      total: 4,
      included: 3,
      sessions: [],
      memories: [
        memory(1, "The API rate limit is 100 requests per minute.", { superseded_by: 3, has_vector: true }),
        memory(2, "Deploys happen on Tuesdays.", { has_vector: false, superseded_by: 99 }),
        memory(3, "The API rate limit is 500 requests per minute.", { tags: ["api"], metadata: { source: "ops" } }),
      ],
    };
    const dir = await tempDir("sup");
    const file = `${dir}/page.html`;
    await Deno.writeTextFile(file, renderPage(data));
    const browser = await launchChromium();
    try {
      const { page, requests, errors } = await open(browser, file);
      assert.match((await page.textContent("[data-testid=summary]"))!, /3 of 4 memories included/);
      await page.click("#r1");
      const fields = () => page.textContent(".fields");
      assert.match((await fields())!, /Vectoryes/);
      assert.match((await fields())!, /Superseded by#3/);
      await page.click("[data-jump='3']");
      assert.equal(await page.$eval(".row.mem.sel", (r) => r.id), "r3");
      assert.equal(await page.evaluate(() => location.hash), "#m3");
      assert.match((await fields())!, /Supersedes#1/);
      assert.match((await fields())!, /Vectorunknown/);
      assert.match((await page.textContent(".metadata"))!, /"source": "ops"/);
      await page.evaluate(() => history.back());
      await page.waitForFunction(() => document.querySelector(".row.mem.sel")?.id === "r1");
      await page.click("#r2");
      assert.match((await fields())!, /Vectorno/);
      assert.match((await fields())!, /Superseded by#99 \(not in this page\)/);
      await changing(page, () => page.check("[data-testid=hide-superseded]"));
      assert.deepEqual(await shownIds(page), [3]);
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [`file://${file}`]);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name: "view: 10,000 memories: only the rows in view exist, and the last one is reachable",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const url = await freshDatabase();
    const ts = await newService({ url, project: PROJECT, model: null });
    try {
      const t0 = Date.parse("2025-01-01T00:00:00Z");
      await ts.service.importLines(
        Array.from({ length: 10_000 }, (_, i) =>
          JSON.stringify({
            content: `memory number ${i} ${i % 10 === 0 ? "数据库迁移" : "cache timeout"}`,
            kind: i % 3 ? "note" : "fact",
            created_at: new Date(t0 + i * 3_600_000).toISOString(),
          })),
      );
    } finally {
      await ts.close();
    }
    const dir = await tempDir("big");
    const env = { DATABASE_URL: url, SAGE_HOME: `${dir}/home`, SAGE_PROJECT: PROJECT };
    const r = await runSage(["view", "--output", `${dir}/big.html`, "--no-open"], { env });
    assert.equal(r.code, 0, r.stderr);
    const browser = await launchChromium();
    try {
      const { page, errors } = await open(browser, `${dir}/big.html`, { height: 900 });
      assert.match((await status(page))!, /^10,000 memories/);
      assert.ok((await page.locator(".row").count()) < 40, "rows outside the view are not in the DOM");
      await page.focus("[data-testid=list]");
      await page.keyboard.press("End");
      assert.match((await page.textContent(".row.mem.sel"))!, /memory number 0 数据库迁移/);
      await changing(page, () => page.fill("[data-testid=search]", "数据库迁移"));
      assert.match((await status(page))!, /^1,000 of 10,000/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },
});
