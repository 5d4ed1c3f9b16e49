/**
 * `deno task bench`: the whole suite. Prints a table, writes the raw numbers to bench/results/latest.json, the
 * table to bench/results/latest.md and the plot to bench/results/latency.png.
 *
 *   deno task bench [--only handshake,embed,latency,peer] [--sizes 1000,10000,100000] [--runs 60]
 *                   [--no-glove] [--no-setup] [--out DIR]
 *
 * Sub-tasks: bench:handshake, bench:embed, bench:latency, bench:peer (each one part, same output files; a part not
 * run keeps no numbers). bench/setup.sh runs first (idempotent): Debian's python3-onnx/numpy, the e5-sized model,
 * the pinned peer server.
 */
import { parseArgs } from "node:util";
import { benchEmbed, type EmbedResult } from "./embed.ts";
import { BARE_SERVER_ARGS, benchHandshakes, type HandshakeResult, stopPrivateCluster } from "./handshake.ts";
import { benchSeries, type LatencySeries } from "./latency.ts";
import { PEER_HOW, PEER_NAME, type PeerResult, peerRuntime } from "./peer.ts";
import { chart, type Series } from "./plot.ts";
import { profileSearch, type SearchProfile } from "./profile.ts";
import {
  childEnv,
  E5_FP32,
  E5_Q8,
  GLOVE,
  machine,
  type ModelChoice,
  REPO,
  round,
  runSage,
  startBench,
  table,
} from "./support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string" },
    sizes: { type: "string" },
    runs: { type: "string" },
    "no-glove": { type: "boolean" },
    "no-setup": { type: "boolean" },
    out: { type: "string" },
  },
});
const parts = new Set((values.only ?? "handshake,embed,latency,peer").split(","));
const sizes = (values.sizes ?? "1000,10000,100000").split(",").map(Number);
const runs = Number(values.runs ?? 60);
const BARE = "bare SDK server (bench/bare_server.ts: the floor)";
const outDir = values.out ?? `${REPO}/bench/results`;
const wall0 = performance.now();
const elapsed = () => `${((performance.now() - wall0) / 1000).toFixed(0)}s`;
const log = (s: string) => console.error(`[${elapsed()}] ${s}`);
/** The 1-minute load average when each part started: this is a shared machine, and it says how busy it was. */
const sections: { part: string; at_s: number; load_1min: number }[] = [];
const section = async (part: string) => {
  const load = Number((await Deno.readTextFile("/proc/loadavg").catch(() => "NaN")).split(" ")[0]);
  sections.push({ part, at_s: round((performance.now() - wall0) / 1000, 0), load_1min: load });
  log(`${part} (load average ${load}) …`);
};

// ---- setup ----------------------------------------------------------------------------------------------
let setupS = 0;
if (!values["no-setup"]) {
  log("bench/setup.sh (python3-onnx, the e5-sized model, the peer server) …");
  const t0 = performance.now();
  const r = await new Deno.Command("bash", { args: [`${REPO}/bench/setup.sh`], stdout: "inherit", stderr: "inherit" })
    .output();
  if (!r.success) Deno.exit(1);
  setupS = round((performance.now() - t0) / 1000, 1);
}

const info = await machine();
const git = async (...args: string[]) =>
  new TextDecoder().decode(
    (await new Deno.Command("git", { args: ["-C", REPO, ...args], stdout: "piped" }).output())
      .stdout,
  ).trim();
const source = {
  commit: await git("rev-parse", "--short", "HEAD"),
  uncommitted_in_lib: (await git("status", "--porcelain", "--", "lib", "db", "main.ts")).split("\n").filter(Boolean),
};
log(`machine: ${JSON.stringify(info)}`);
const models: Record<string, ModelChoice> = Object.fromEntries([E5_Q8, E5_FP32, GLOVE].map((m) => [m.label, m]));

const bench = await startBench();
const results: {
  handshake?: HandshakeResult[];
  embed?: EmbedResult[];
  latency?: LatencySeries[];
  profile?: SearchProfile[];
  peer?: PeerResult;
} = {};
try {
  if (parts.has("handshake")) {
    await section("handshake");
    const readyUrl = await bench.freshDatabase();
    await runSage(childEnv({ DATABASE_URL: readyUrl }), ["migrate"]);
    const e5 = { SAGE_EMBED_MODEL: E5_Q8.path };
    let home = 0;
    results.handshake = await benchHandshakes([
      {
        name: "ready (db up; e5-sized model loading)",
        runs: 9,
        envFor: () => Promise.resolve(childEnv({ ...e5, DATABASE_URL: readyUrl })),
        firstSearch: true,
      },
      {
        name: "unreachable (no server at the URL)",
        runs: 9,
        envFor: () =>
          Promise.resolve(childEnv({ ...e5, DATABASE_URL: `postgresql://sage@/sage?host=${bench.root}/no-such-dir` })),
      },
      {
        name: "creating (private cluster: initdb…)",
        runs: 5,
        envFor: async () => {
          const dir = `${bench.root}/hs-${++home}`;
          await Deno.mkdir(dir, { mode: 0o711 });
          return childEnv({ ...e5, SAGE_HOME: dir });
        },
        firstSearch: true,
        after: stopPrivateCluster,
      },
      { name: BARE, runs: 9, args: BARE_SERVER_ARGS, envFor: () => Promise.resolve(childEnv({})) },
    ]);
  }

  if (parts.has("embed")) {
    results.embed = [];
    for (const m of [E5_Q8, E5_FP32, GLOVE]) {
      await section(`embedding throughput, ${m.label}`);
      const opts = m === GLOVE ? { texts: 512, singles: 40 } : m === E5_FP32 ? { texts: 64, rounds: 5 } : { rounds: 7 };
      results.embed.push(await benchEmbed(m, opts));
    }
  }

  if (parts.has("latency") || parts.has("peer")) {
    results.latency = [];
    results.profile = [];
    // The peer runs beside the e5 series (a ratio needs both); GloVe is the lower bound, on its own.
    const series = !parts.has("latency") || values["no-glove"] ? [E5_Q8] : [E5_Q8, GLOVE];
    for (const m of series) {
      await section(
        `latency series, ${m.label}${m === E5_Q8 && parts.has("peer") ? " side by side with server-memory" : ""}`,
      );
      results.latency.push(
        await benchSeries(
          bench,
          m,
          sizes,
          runs,
          log,
          async (url, n) => {
            if (m !== E5_Q8 || !parts.has("latency")) return;
            log(`  ${m.label}: profiling search and save at ${n} …`);
            const c = await bench.client(url);
            try {
              results.profile!.push(await profileSearch(url, c, m, n));
            } finally {
              await c.end();
            }
          },
          // Each peer call reads (and a save rewrites) the whole store: fewer calls at 100k keep the budget.
          m === E5_Q8 && parts.has("peer")
            ? { root: bench.root, runs: (n) => (n >= 100_000 ? Math.min(runs, 20) : runs) }
            : undefined,
        ),
      );
    }
    if (parts.has("peer")) {
      const e5 = results.latency.find((s) => s.model === E5_Q8.label)!;
      results.peer = {
        server: PEER_NAME,
        runtime: await peerRuntime(),
        how: PEER_HOW,
        points: e5.points.map((p) => p.peer!).filter(Boolean),
      };
    }
    if (!parts.has("latency")) delete results.profile;
  }
} finally {
  await bench.close();
}

// ---- report ---------------------------------------------------------------------------------------------

const wallS = round((performance.now() - wall0) / 1000, 1);
info.load_average_at_end = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3).join(" ");
const md: string[] = [];
const out = (s = "") => {
  console.log(s);
  md.push(s);
};
const fence = (rows: (string | number)[][]) => {
  out("```");
  out(table(rows));
  out("```");
};
const ms = (x: number | undefined) => (x === undefined ? "-" : String(round(x, 1)));

out(`# Sage benchmark — ${String(info.date).slice(0, 16).replace("T", " ")} UTC`);
out();
out(
  `Machine: ${info.cpu} (${
    (info.cpu_features as string[]).join(", ")
  }), ${info.cores} cores, ${info.memory_gib} GiB, ${info.os}; ` +
    `Deno ${info.deno}, node ${info.node}, ${info.postgres}; load average ${info.load_average_at_start} at start, ` +
    `${info.load_average_at_end} at end (a shared machine: other work ran alongside). ` +
    `Source: ${source.commit}${
      source.uncommitted_in_lib.length
        ? ` + uncommitted changes in lib/db (${source.uncommitted_in_lib.length} files)`
        : ""
    }.`,
);
out(
  `Load average (1 min, 2 cores) when each part started: ${
    sections.map((x) =>
      `${x.part.replace(/,.*| side by side.*/, "")}${
        x.part.includes(",") ? ` ${x.part.split(", ")[1].split(" ")[0]}` : ""
      } ${x.load_1min}`
    ).join("; ")
  }.`,
);
out(
  `Every figure is the median over repeated runs (p95 beside latencies); ratios compare figures measured in this one run. ` +
    `Wall time ${wallS} s (setup ${setupS} s).`,
);
out();
out("Models:");
for (const m of Object.values(models)) out(`- ${m.label}: ${m.description}`);
out();

const targets: { target: string; value: string; met: boolean }[] = [];

if (results.handshake) {
  out("## Handshake (spawn → reply, raw pipes, fresh process each run)");
  const rows: (string | number)[][] = [[
    "scenario",
    "runs",
    "initialize p50",
    "p95",
    "tools/list p50",
    "p95",
    "first search p50",
  ]];
  for (const h of results.handshake) {
    rows.push([
      h.scenario,
      h.runs,
      ms(h.initialize_ms.median),
      ms(h.initialize_ms.p95),
      ms(h.tools_list_ms.median),
      ms(h.tools_list_ms.p95),
      h.first_search_ms ? `${ms(h.first_search_ms.median)}${h.first_search_ok ? "" : " (error reply)"}` : "-",
    ]);
  }
  fence(rows);
  const sage = results.handshake.filter((h) => h.scenario !== BARE);
  const worst = Math.max(...sage.map((h) => h.initialize_ms.median));
  targets.push({
    target: "initialize < 150 ms after spawn, whatever the database and model are doing",
    value: `worst scenario median ${ms(worst)} ms (${sage.map((h) => ms(h.initialize_ms.median)).join(" / ")})`,
    met: worst < 150,
  });
  const bare = results.handshake.find((h) => h.scenario === BARE);
  if (bare) {
    const ratio = round(sage[0].initialize_ms.median / bare.initialize_ms.median, 2);
    targets.push({
      target: "initialize within 1.1× of a bare MCP server with the same SDK (db up, model loading)",
      value: `${ms(sage[0].initialize_ms.median)} vs ${ms(bare.initialize_ms.median)} ms: ${ratio}×`,
      met: ratio <= 1.1,
    });
  }
  out();
}

const e5Embed = results.embed?.find((e) => e.model === E5_Q8.label);
if (results.embed) {
  out("## Embedding throughput: Sage's Embedder vs the same model bare on onnxruntime-node");
  out(
    "Batch: texts/s embedding the set in batches of 32 (length-sorted, as Sage does). Single: one text per call, ms. " +
      "pipeline = transformers.js feature-extraction alone (what Sage's worker wraps).",
  );
  const rows: (string | number)[][] = [[
    "model",
    "tokens/text",
    "batch/s sage",
    "bare",
    "pipeline",
    "sage÷bare",
    "single ms sage",
    "bare",
    "pipeline",
    "sage÷bare (speed)",
    "agreement",
  ]];
  for (const e of results.embed) {
    rows.push([
      e.model,
      e.tokens_per_text,
      e.sage.batch_texts_per_s,
      e.bare.batch_texts_per_s,
      e.pipeline.batch_texts_per_s,
      e.ratio_batch,
      `${ms(e.sage.single_ms.median)} (p95 ${ms(e.sage.single_ms.p95)})`,
      `${ms(e.bare.single_ms.median)} (p95 ${ms(e.bare.single_ms.p95)})`,
      ms(e.pipeline.single_ms.median),
      e.ratio_single,
      e.agreement_min_cosine,
    ]);
  }
  fence(rows);
  if (e5Embed) {
    targets.push({
      target: "Sage's embedding throughput ≥ 0.9× bare onnxruntime (e5-sized q8, same batch)",
      value: `batch ${e5Embed.ratio_batch}×, single ${e5Embed.ratio_single}×`,
      met: e5Embed.ratio_batch >= 0.9 && e5Embed.ratio_single >= 0.9,
    });
  }
  out();
}

if (results.latency && parts.has("latency")) {
  out("## Latency over MCP stdio (SDK client → `sage serve`), ms");
  for (const s of results.latency) {
    out(`### ${s.model} (${s.dimensions} d), ${s.runs} calls of each kind per size`);
    const rows: (string | number)[][] = [[
      "memories",
      "vector path",
      "save_memory p50",
      "p95",
      "save_conversation p50",
      "p95",
      "search_memory p50",
      "p95",
      "get_context p50",
      "p95",
      "first search",
      "RSS idle MiB",
      "RSS load MiB",
    ]];
    for (const p of s.points) {
      rows.push([
        p.memories,
        p.vector_path,
        ms(p.save_ms.median),
        ms(p.save_ms.p95),
        ms(p.save_conversation_ms.median),
        ms(p.save_conversation_ms.p95),
        ms(p.search_ms.median),
        ms(p.search_ms.p95),
        ms(p.context_ms.median),
        ms(p.context_ms.p95),
        p.first_search_ms,
        p.rss_idle?.rss_mib ?? "-",
        p.rss_load ? `${p.rss_load.rss_mib} (peak ${p.rss_load.peak_mib})` : "-",
      ]);
    }
    fence(rows);
    out("How the database was filled, and the bulk rates:");
    for (const p of s.points) {
      const q = p.populate;
      out(
        `- ${p.memories}: ${q.how}: ${q.import_memories} memories imported in ${q.import_s} s (${q.import_per_s}/s)` +
          (q.reindex_per_s ? `; sage reindex ${q.reindex_memories} in ${q.reindex_s} s (${q.reindex_per_s}/s)` : "") +
          (q.vector_fill_s !== undefined
            ? `; vectors by SQL ${q.vector_fill_s} s; HNSW build ${q.index_build_s} s`
            : ""),
      );
    }
    out();
  }
  const e5 = results.latency.find((s) => s.model === E5_Q8.label);
  const big = e5?.points.find((p) => p.memories === 100_000) ?? e5?.points[e5.points.length - 1];
  if (big) {
    targets.push({
      target: `search p50 < 20 ms and p95 < 50 ms at 100k (e5-sized q8)`,
      value: `at ${big.memories}: p50 ${ms(big.search_ms.median)} ms, p95 ${ms(big.search_ms.p95)} ms`,
      met: big.memories >= 100_000 && big.search_ms.median < 20 && big.search_ms.p95 < 50,
    });
  }
  if (e5 && e5Embed) {
    const limit = 1.2 * e5Embed.bare.single_ms.median + 5;
    const worst = Math.max(...e5.points.map((p) => p.save_ms.median));
    targets.push({
      target: "save p50 ≤ 1.2 × bare single-text embedding + 5 ms (e5-sized q8)",
      value: `limit ${ms(limit)} ms (bare ${ms(e5Embed.bare.single_ms.median)} ms); save p50 ${
        e5.points.map((p) => `${ms(p.save_ms.median)} at ${p.memories}`).join(", ")
      }`,
      met: worst <= limit,
    });
  }
}

if (results.profile?.length) {
  out("## Where a search's time goes (in-process, same database, e5-sized q8), ms p50 (p95)");
  const keys = [...new Set(results.profile.flatMap((p) => Object.keys(p.phases_ms)))];
  const rows: (string | number)[][] = [["phase", ...results.profile.map((p) => `${p.memories}`)]];
  for (const k of keys) {
    rows.push([
      k,
      ...results.profile.map((p) => p.phases_ms[k] ? `${ms(p.phases_ms[k].median)} (${ms(p.phases_ms[k].p95)})` : "-"),
    ]);
  }
  fence(rows);
  out("The same for a save (MemoryService.saveMemory, as save_memory calls it), ms p50 (p95):");
  const skeys = [...new Set(results.profile.flatMap((p) => Object.keys(p.save_phases_ms)))];
  const srows: (string | number)[][] = [["phase", ...results.profile.map((p) => `${p.memories}`)]];
  for (const k of skeys) {
    srows.push([
      k,
      ...results.profile.map((p) =>
        p.save_phases_ms[k] ? `${ms(p.save_phases_ms[k].median)} (${ms(p.save_phases_ms[k].p95)})` : "-"
      ),
    ]);
  }
  fence(srows);
  out(
    `Database round trips (statements, BEGIN/COMMIT included), median per call: ${
      results.profile.map((p) => `${p.memories}: search ${p.round_trips.search}, save ${p.round_trips.save}`).join("; ")
    }.`,
  );
  out("Slowest statements of one search, as PostgreSQL executed them (EXPLAIN ANALYZE; plans in latest.json):");
  for (const p of results.profile) {
    for (const [k, v] of Object.entries(p.explain)) {
      const top = v.plan.split("\n").filter((l) => /Scan|Join|Sort |Aggregate|Limit|Agg/.test(l))
        .map((l) =>
          l.trim().replace(/^->\s*/, "").replace(/\s*\(cost=[^)]*\)/, "").replace(/ \(actual time=[\d.]+\.\./, " (")
            .replace(/'\[[-0-9.e,]{50,}\]'/g, "'[…]'")
        )
        .filter((l) => !/^Sort Key|^Group Key/.test(l)).slice(0, 5).join(" ← ");
      out(`- ${p.memories}: ${k}: execution ${v.execution_ms} ms: ${top.slice(0, 400)}`);
    }
  }
  out();
}

if (results.peer) {
  out(`## Side by side: Sage vs ${results.peer.server} (${results.peer.runtime})`);
  out(`Peer workload: ${results.peer.how}.`);
  const e5 = results.latency?.find((s) => s.model === E5_Q8.label);
  const glove = results.latency?.find((s) => s.model === GLOVE.label);
  const rows: (string | number)[][] = [[
    "memories",
    "peer save p50",
    "p95",
    "peer search p50",
    "p95",
    "hits",
    "peer RSS MiB",
    "sage(e5) save p50",
    "sage(e5) search p50",
    "search: peer÷sage(e5)",
    "save: peer÷sage(e5)",
    "search: peer÷sage(glove)",
  ]];
  for (const p of results.peer.points) {
    const s = e5?.points.find((x) => x.memories === p.memories);
    const g = glove?.points.find((x) => x.memories === p.memories);
    rows.push([
      p.memories,
      ms(p.save_ms.median),
      ms(p.save_ms.p95),
      ms(p.search_ms.median),
      ms(p.search_ms.p95),
      p.search_hits,
      p.rss_load?.rss_mib ?? "-",
      ms(s?.save_ms.median),
      ms(s?.search_ms.median),
      s ? `${round(p.search_ms.median / s.search_ms.median, 2)}×` : "-",
      s ? `${round(p.save_ms.median / s.save_ms.median, 2)}×` : "-",
      g ? `${round(p.search_ms.median / g.search_ms.median, 2)}×` : "-",
    ]);
  }
  fence(rows);
  out("A ratio above 1 means Sage is faster.");
  const p10 = results.peer.points.find((p) => p.memories === 10_000);
  const s10 = e5?.points.find((p) => p.memories === 10_000);
  if (p10 && s10) {
    const ratio = round(p10.search_ms.median / s10.search_ms.median, 2);
    targets.push({
      target: "search faster than the official memory server at 10k (e5-sized q8)",
      value: `peer ${ms(p10.search_ms.median)} ms ÷ Sage ${ms(s10.search_ms.median)} ms = ${ratio}×`,
      met: ratio > 1,
    });
  }
  out();
}

if (targets.length) {
  out("## Targets");
  fence([["target", "measured", "met?"], ...targets.map((t) => [t.target, t.value, t.met ? "MET" : "MISSED"])]);
  out();
}
out(`Wall time of this run: ${wallS} s (setup ${setupS} s). Raw numbers: latest.json; plot: latency.png.`);

// ---- files ----------------------------------------------------------------------------------------------

await Deno.mkdir(outDir, { recursive: true });
const trimPlans = (x: unknown) =>
  JSON.parse(JSON.stringify(x), (_k, v) => typeof v === "string" ? v.replace(/'\[[-0-9.e,]{200,}\]'/g, "'[…]'") : v);
// A complete run starts afresh; a sub-task keeps the other parts' figures (and only those) from the last run.
const previous = parts.size === 4 ? {} : Object.fromEntries(
  Object.entries(await Deno.readTextFile(`${outDir}/latest.json`).then(JSON.parse).catch(() => ({})))
    .filter(([k]) => ["handshake", "embed", "latency", "profile", "peer", "targets", "complete_run"].includes(k)),
);
// A sub-task replaces its own part and keeps the others' numbers from the last run (each part says when it ran).
const stamp = { date: info.date, wall_s: wallS, setup_s: setupS, source, load_by_part: sections };
const merged: Record<string, unknown> = {
  ...previous,
  machine: info,
  models,
  targets: targets.length ? targets : (previous as Record<string, unknown>).targets,
};
for (const [k, v] of Object.entries(results)) if (v !== undefined) merged[k] = { ...stamp, results: trimPlans(v) };
if (parts.size === 4) merged.complete_run = stamp;
await Deno.writeTextFile(`${outDir}/latest.json`, JSON.stringify(merged, null, 2) + "\n");
if (parts.size === 4 || !(await Deno.stat(`${outDir}/latest.md`).catch(() => null))) {
  await Deno.writeTextFile(`${outDir}/latest.md`, md.join("\n") + "\n");
}

// The plot: search and save latency against the number of memories, Sage and the peer side by side.
const e5 = results.latency?.find((s) => s.model === E5_Q8.label);
const glove = results.latency?.find((s) => s.model === GLOVE.label);
if (e5 || results.peer) {
  const pts = (xs: { memories: number }[] | undefined, f: (p: never) => number) =>
    (xs ?? []).map((p) => [p.memories, f(p as never)] as [number, number]);
  const BLUE: [number, number, number] = [31, 90, 180];
  const GREEN: [number, number, number] = [40, 150, 70];
  const RED: [number, number, number] = [200, 50, 40];
  const GRAY: [number, number, number] = [120, 120, 120];
  type P = { search_ms: { median: number; p95: number }; save_ms: { median: number; p95: number } };
  type C = P & { context_ms: { median: number } };
  const search: Series[] = [
    { label: "sage search p50 (e5)", color: BLUE, points: pts(e5?.points, (p: P) => p.search_ms.median) },
    { label: "sage search p95 (e5)", color: BLUE, dashed: true, points: pts(e5?.points, (p: P) => p.search_ms.p95) },
    { label: "sage get_context p50", color: GREEN, points: pts(e5?.points, (p: C) => p.context_ms.median) },
    { label: "sage search p50 (glove)", color: GRAY, points: pts(glove?.points, (p: P) => p.search_ms.median) },
    { label: "peer search p50", color: RED, points: pts(results.peer?.points, (p: P) => p.search_ms.median) },
    {
      label: "peer search p95",
      color: RED,
      dashed: true,
      points: pts(results.peer?.points, (p: P) => p.search_ms.p95),
    },
  ].filter((s) => s.points.length);
  const save: Series[] = [
    { label: "sage save p50 (e5)", color: BLUE, points: pts(e5?.points, (p: P) => p.save_ms.median) },
    { label: "sage save p95 (e5)", color: BLUE, dashed: true, points: pts(e5?.points, (p: P) => p.save_ms.p95) },
    { label: "sage save p50 (glove)", color: GRAY, points: pts(glove?.points, (p: P) => p.save_ms.median) },
    { label: "peer save p50", color: RED, points: pts(results.peer?.points, (p: P) => p.save_ms.median) },
    {
      label: "peer save p95",
      color: RED,
      dashed: true,
      points: pts(results.peer?.points, (p: P) => p.save_ms.p95),
    },
  ].filter((s) => s.points.length);
  const png = chart(
    "LATENCY OVER MCP STDIO AGAINST NUMBER OF MEMORIES (LOG-LOG)",
    [
      `${info.cpu}, ${info.cores} CORES; ${String(info.date).slice(0, 10)}; MEDIANS OF ${runs} CALLS (DASHED: P95)`,
      "E5 = MULTILINGUAL-E5-SMALL ARCHITECTURE, RANDOM WEIGHTS, INT8; GLOVE = STATIC 100-D (LOWER BOUND)",
      `PEER = @MODELCONTEXTPROTOCOL/SERVER-MEMORY@${results.peer ? results.peer.server.split("@").pop() : "-"} (NODE)`,
    ],
    [{ title: "SEARCH", series: search }, { title: "SAVE", series: save }],
    sizes,
  );
  await Deno.writeFile(`${outDir}/latency.png`, png);
}
// deno fmt's layout, so `deno task check` stays clean with the results committed.
await new Deno.Command(Deno.execPath(), {
  args: ["fmt", "--quiet", "--line-width=120", `${outDir}/latest.json`, `${outDir}/latest.md`],
  stdout: "null",
  stderr: "inherit",
}).output();
log(`done in ${wallS} s; wrote ${outDir}/latest.json, latest.md, latency.png`);
