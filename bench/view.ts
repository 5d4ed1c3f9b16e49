/// <reference lib="dom" />
/**
 * `deno task bench:view [--sizes 1000,10000,100000] [--runs N]`: the `sage view` page at scale. For each size, a
 * fresh database is filled with `sage import` (synthetic memories: topic words, a long tail, every tenth with
 * Chinese; sessions of 40), `sage view --output FILE` writes the page, and headless Chromium (Debian's, driven by
 * playwright-core) opens it from file:// several times. Measured: the page's size (bytes per memory, and beyond
 * the memory's own text), the command's time, load time (navigation start → first render ready, and → the first
 * frame after it), the JS heap, and search time (input event → list updated and painted; the first search after
 * load, which also builds the search text, separately). Medians; writes bench/results/view.md.
 */
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { launchChromium } from "../tests/support/browser.ts";
import { childEnv, machine, REPO, round, runSage, startBench, stats, syntheticJsonl, table } from "./support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { sizes: { type: "string" }, runs: { type: "string" }, out: { type: "string" } },
});
const sizes = (values.sizes ?? "1000,10000,100000").split(",").map(Number);
const runs = Number(values.runs ?? 5);
const PROJECT = "/bench/project";
/** A common topic word, a two-word AND, a rare long-tail word, Chinese by pieces (3 and 4 characters). */
const QUERIES = ["deploy", "release pipeline", "kaloru", "数据库", "缓存索引"];

const sessionId = (k: number) => `00000000-0000-4000-8000-${String(k).padStart(12, "0")}`;

/** Synthetic memories in sessions of 40, with their session lines first (as `sage export` writes them). */
function memoriesJsonl(n: number): string {
  const lines = syntheticJsonl(n, PROJECT).map((l, i) =>
    JSON.stringify({ ...JSON.parse(l), session: sessionId(i / 40 | 0) })
  );
  const sessions = Array.from(
    { length: Math.ceil(n / 40) },
    (_, k) =>
      JSON.stringify({ type: "session", id: sessionId(k), project: PROJECT, name: k % 3 ? null : `Session ${k}` }),
  );
  return [...sessions, ...lines].join("\n") + "\n";
}

async function searchOnce(page: Page, query: string): Promise<{ total: number; apply: number }> {
  return await page.evaluate((q) =>
    new Promise<{ total: number; apply: number }>((resolve) => {
      const input = document.querySelector<HTMLInputElement>("[data-testid=search]")!;
      const t0 = performance.now();
      document.addEventListener("sage:update", (e) => {
        const apply = (e as CustomEvent<{ ms: number }>).detail.ms;
        // The frame that shows the result: a task after the next animation frame runs once it is painted.
        requestAnimationFrame(() => setTimeout(() => resolve({ total: performance.now() - t0, apply }), 0));
      }, { once: true });
      input.value = q;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }), query);
}

const bench = await startBench();
const browser = await launchChromium(["--enable-precise-memory-info"]);
const rows: (string | number)[][] = [[
  "memories",
  "page MB",
  "bytes/memory",
  "beyond text",
  "sage view s",
  "ready ms",
  "load ms",
  "heap MB",
  "first search ms",
  "search ms p50",
  "p95",
  "filter part p50",
]];
const raw: Record<string, unknown>[] = [];
try {
  const info = await machine();
  for (const n of sizes) {
    const dir = await Deno.makeTempDir({ dir: bench.root, prefix: `view-${n}-` });
    const env = childEnv({
      DATABASE_URL: await bench.freshDatabase(),
      SAGE_HOME: `${dir}/home`,
      SAGE_PROJECT: PROJECT,
    });
    await Deno.writeTextFile(`${dir}/in.jsonl`, memoriesJsonl(n));
    await runSage(env, ["import", `${dir}/in.jsonl`]);
    // Right after a bulk import into a new database the planner has no statistics yet, and the export that
    // `sage view` reads takes many times longer (15 s instead of about 1 s at 100k) until autovacuum analyzes
    // the table. Measured here as a user meets it later: analyzed.
    const db = await bench.client(env.DATABASE_URL);
    await db.query("ANALYZE");
    await db.end();
    const file = `${dir}/page.html`;
    const made = await runSage(env, ["view", "--output", file, "--no-open"]);
    const bytes = (await Deno.stat(file)).size;
    const textBytes = syntheticJsonl(n, PROJECT).reduce(
      (a, l) => a + new TextEncoder().encode(JSON.parse(l).content).length,
      0,
    );
    const loads: number[] = [];
    const painted: number[] = [];
    const heaps: number[] = [];
    const firsts: number[] = [];
    const totals: number[] = [];
    const applies: number[] = [];
    for (let r = 0; r < runs; r++) {
      // A new context for each load, after the previous one had a moment to go: its teardown would share the cores.
      await new Promise((r) => setTimeout(r, 500));
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`file://${file}`);
      await page.waitForFunction(() => performance.getEntriesByName("sage-painted").length > 0, null, {
        timeout: 120_000,
      });
      const t = await page.evaluate(() => ({
        ready: performance.getEntriesByName("sage-ready")[0].startTime,
        painted: performance.getEntriesByName("sage-painted")[0].startTime,
        heap: (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0,
      }));
      loads.push(t.ready);
      painted.push(t.painted);
      heaps.push(t.heap / 2 ** 20);
      firsts.push((await searchOnce(page, QUERIES[r % QUERIES.length])).total);
      await searchOnce(page, "");
      for (const q of QUERIES) {
        const s = await searchOnce(page, q);
        totals.push(s.total);
        applies.push(s.apply);
        await searchOnce(page, "");
      }
      await context.close();
    }
    const result = {
      memories: n,
      page_bytes: bytes,
      bytes_per_memory: round(bytes / n, 1),
      bytes_beyond_text_per_memory: round((bytes - textBytes) / n, 1),
      sage_view_s: round(made.ms / 1000, 2),
      load_ms: stats(loads),
      painted_ms: stats(painted),
      heap_mib: stats(heaps),
      first_search_ms: stats(firsts),
      search_ms: stats(totals),
      filter_ms: stats(applies),
    };
    raw.push(result);
    rows.push([
      n,
      round(bytes / 2 ** 20, 2),
      result.bytes_per_memory,
      result.bytes_beyond_text_per_memory,
      result.sage_view_s,
      result.load_ms.median,
      result.painted_ms.median,
      result.heap_mib.median,
      result.first_search_ms.median,
      result.search_ms.median,
      result.search_ms.p95,
      result.filter_ms.median,
    ]);
    console.error(`${n}: done`);
  }
  const report = `# sage view benchmark — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC

Machine: ${info.cpu}, ${info.cores} cores, load average ${info.load_average_at_start} at start; Deno ${info.deno},
Chromium ${browser.version()} headless (playwright-core). ${runs} page loads per size; searches: ${
    QUERIES.map((q) => `\`${q}\``).join(", ")
  } after each load. Medians (p95 beside search).

\`\`\`
${table(rows)}
\`\`\`

- page MB, bytes/memory: the HTML file \`sage view\` wrote; "beyond text" leaves out the memories' own text (UTF-8)
- sage view s: the whole command (start, export from PostgreSQL, page, write), as a user runs it
- ready ms: navigation start → the page's script has built the list (its \`sage-ready\` mark); load ms: → the first
  frame after it, laid out and painted (what one sees)
- first search: the first search after load, which also prepares every memory's search text
- search ms: input event → list filtered, rendered and painted; filter part: the filtering and counting alone

Raw figures: \`${JSON.stringify({ machine: info, results: raw })}\`
`;
  const out = values.out ?? `${REPO}/bench/results/view.md`;
  await Deno.writeTextFile(out, report);
  // Formatted as `deno task check` wants the committed copy.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", out], cwd: REPO }).output();
  console.log(table(rows));
  console.error(`written to ${out}`);
} finally {
  await browser.close();
  await bench.close();
}
