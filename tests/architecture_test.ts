/**
 * The shape of lib/, checked: imports only point down the layers (edges → composition → use cases →
 * repositories → database and model → base), no edge reaches the database or the model, and files and functions
 * stay small. A failure names the file and the import that broke the rule.
 */
import assert from "node:assert/strict";
import { REPO } from "./support/harness.ts";

/** Layers, lowest first; a file may import its own layer or lower ones. */
const LAYERS: [string, RegExp][] = [
  ["base", /^lib\/(types|errors|log|version|config|project|files|modules)\.ts$|^lib\/text\//],
  ["db and model", /^lib\/db\/[^/]+\.ts$|^lib\/embed\/|^db\/migrations\//],
  ["repositories", /^lib\/db\/repos\//],
  ["use cases", /^lib\/memory\//],
  ["composition", /^lib\/app\.ts$/],
  ["edge support", /^lib\/format\.ts$|^lib\/view\//],
  ["hook edge", /^lib\/hooks\//],
  ["MCP edge", /^lib\/mcp\//],
  ["CLI edge", /^lib\/cli\//],
];

/** What an edge may never import: SQL, the connection, the model's machinery. */
const EDGE_FORBIDDEN = /^lib\/db\/(repos\/|database\.ts|connect\.ts|migrate\.ts|sql\.ts)|^lib\/embed\//;
/** The one exception: `sage db` and `sage doctor` start, stop and inspect the private cluster's processes. */
const EDGE_ALLOWED = new Set(["lib/db/cluster.ts"]);

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${REPO}/${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sources(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

function layerOf(path: string): number {
  const i = LAYERS.findIndex(([, re]) => re.test(path));
  if (i < 0) throw new Error(`${path} belongs to no layer: add it to LAYERS in tests/architecture_test.ts`);
  return i;
}

/** Relative imports of a file (static and dynamic, type-only included), resolved to repository paths. */
function importsOf(path: string, text: string): string[] {
  const found = [...text.matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return found.map((rel) => new URL(rel, `file:///${path}`).pathname.slice(1));
}

Deno.test("architecture: imports only point down the layers, and edges never reach SQL or the model", async () => {
  const problems: string[] = [];
  for (const file of [...await sources("lib"), ...await sources("db")]) {
    const from = layerOf(file);
    for (const target of importsOf(file, await Deno.readTextFile(`${REPO}/${file}`))) {
      const to = layerOf(target);
      if (to > from) problems.push(`${file} (${LAYERS[from][0]}) imports ${target} (${LAYERS[to][0]}), a layer above`);
      if (LAYERS[from][0].endsWith("edge") && EDGE_FORBIDDEN.test(target) && !EDGE_ALLOWED.has(target)) {
        problems.push(`${file} is an edge and imports ${target}: go through a use case (lib/memory/service.ts)`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("architecture: lib/db imports nothing from lib/memory", async () => {
  for (const file of await sources("lib/db")) {
    const bad = importsOf(file, await Deno.readTextFile(`${REPO}/${file}`)).filter((t) => t.startsWith("lib/memory/"));
    assert.deepEqual(bad, [], file);
  }
});

Deno.test("architecture: no file in lib/ over 450 lines, no function over 120", async () => {
  const problems: string[] = [];
  for (const file of await sources("lib")) {
    const lines = (await Deno.readTextFile(`${REPO}/${file}`)).split("\n");
    if (lines.length > 450) problems.push(`${file}: ${lines.length} lines`);
    for (const f of functionsOf(lines)) {
      if (f.length > 120) problems.push(`${file}:${f.start + 1} ${f.name}: ${f.length} lines`);
    }
  }
  assert.deepEqual(problems, []);
});

/**
 * Functions and methods by their opening line (`function x(`, `x(…) {`, `x = (…) =>` at the start of a line) and
 * the brace that closes them, read from the code with strings, template literals and comments blanked out. A
 * heuristic, exact on deno-fmt formatted code.
 */
function functionsOf(source: string[]): { name: string; start: number; length: number }[] {
  const lines = codeOnly(source);
  const head =
    /^\s*(?:export\s+)?(?:async\s+)?(?:function\*?\s+(\w+)|(?:(?:private|static|readonly|async|get|set)\s+)*#?(\w+)\s*(?:<[^>]*>)?\s*\([^;]*$|(?:const|let)\s+(\w+)\s*=\s*(?:async\s*)?\()/;
  const out: { name: string; start: number; length: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(head);
    if (!m || /^\s*(if|for|while|switch|catch|return|await)\b/.test(lines[i])) continue;
    const end = closingLine(lines, i);
    if (end !== null) out.push({ name: m[1] ?? m[2] ?? m[3], start: i, length: end - i + 1 });
  }
  return out;
}

/** The lines with every character inside a string, template literal or comment replaced by a space. */
function codeOnly(lines: string[]): string[] {
  let state: "code" | "block" | "template" = "code";
  return lines.map((line) => {
    let out = "";
    let quote: string | null = null;
    for (let j = 0; j < line.length; j++) {
      const c = line[j];
      if (state === "block") {
        if (c === "*" && line[j + 1] === "/") state = "code", j++;
        out += " ";
      } else if (state === "template" || quote) {
        if (c === "\\") j++, out += " ";
        else if (state === "template" && c === "`") state = "code";
        else if (quote && c === quote) quote = null;
        out += " ";
      } else if (c === "/" && line[j + 1] === "/") break;
      else if (c === "/" && line[j + 1] === "*") state = "block", j++, out += "  ";
      else if (c === "`") state = "template", out += " ";
      else if (c === '"' || c === "'") quote = c, out += " ";
      else out += c;
    }
    return out;
  });
}

/** The line whose `}` closes the first `{` opened at or after line `start`; null for a statement (`;` first). */
function closingLine(lines: string[], start: number): number | null {
  let depth = 0;
  let opened = false;
  for (let i = start; i < lines.length; i++) {
    for (const c of lines[i]) {
      if (c === ";" && !opened) return null;
      if (c === "{") depth++, opened = true;
      else if (c === "}" && --depth === 0 && opened) return i;
    }
  }
  return null;
}

Deno.test("architecture: the compiled binary includes every module Sage loads by a built name (lib/modules.ts, the worker)", async () => {
  // What `deno compile` is told to include: the Dockerfile's list, globs expanded.
  const dockerfile = await Deno.readTextFile(`${REPO}/Dockerfile`);
  const list = dockerfile.match(/modules=\$\(for f in ([^;]+); do/)?.[1].trim().split(/\s+/) ?? [];
  const included = new Set<string>();
  for (const entry of list) {
    const [dir, glob] = entry.includes("*") ? [entry.slice(0, entry.lastIndexOf("/")), true] : [entry, false];
    if (!glob) included.add(entry);
    else {for (const f of Deno.readDirSync(`${REPO}/${dir}`)) {
        if (f.name.endsWith(".ts")) included.add(`${dir}/${f.name}`);
      }}
  }
  // What the sources load by a built name: every `new URL("….ts", import.meta.url)`, the serve command's `later("…")`,
  // and the commands of lib/cli/main.ts.
  const loaded = new Set<string>();
  const files = ["main.ts", ...await sources("lib")];
  for (const file of files) {
    const text = await Deno.readTextFile(`${REPO}/${file}`);
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
    for (const m of text.matchAll(/new URL\("([^"]+\.ts)", import\.meta\.url\)|later<[^>]*>\("([^"]+\.ts)"\)/g)) {
      loaded.add(new URL(m[1] ?? m[2], `file:///${dir}/`).pathname.slice(1));
    }
  }
  const cli = await Deno.readTextFile(`${REPO}/lib/cli/main.ts`);
  for (const m of cli.matchAll(/commandModule\("([a-z_]+)"\)/g)) loaded.add(`lib/cli/${m[1]}.ts`);
  assert.ok(loaded.has("lib/cli/main.ts") && loaded.has("lib/app.ts") && loaded.has("lib/cli/hook_event.ts"));
  for (const f of loaded) {
    assert.ok(await Deno.stat(`${REPO}/${f}`).catch(() => null), `${f} does not exist`);
    assert.ok(included.has(f), `${f} is loaded by a built name but not included by deno compile`);
  }
});
