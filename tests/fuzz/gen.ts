/**
 * Random and mutated inputs for the fuzz run (tests/fuzz/fuzz.ts), all from one seeded generator so a case is
 * reproduced from its seed: text (sizes, scripts, lone surrogates, NUL, U+FFFD, markup, secrets), JSON values (wrong
 * types, deep nesting), MCP tool arguments and whole JSON-RPC lines (valid, mutated, broken), hook inputs, and
 * Claude Code transcripts with hostile lines.
 */
import { mulberry32 } from "../support/tiny_model.ts";
import { appendTurn, text, toolUse, Transcript } from "../support/transcripts.ts";

export class Rand {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  float(): number {
    return this.#next();
  }
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** Sizes as inputs come: mostly short, sometimes long, rarely past every limit. */
  size(): number {
    const r = this.float();
    if (r < 0.6) return this.int(40);
    if (r < 0.85) return this.int(600);
    if (r < 0.97) return this.int(20_000);
    return 150_000 + this.int(100_000);
  }
}

const PIECES = [
  "deploy",
  "the",
  "migration",
  "数据库",
  "迁移",
  "部署失败",
  "😀",
  "👩‍👩‍👧",
  "e\u0301",
  "שלום",
  "مرحبا",
  "\u200b",
  "\u202e",
  " ",
  "\n",
  "\t",
  "\r\n",
  '"',
  "\\",
  "'",
  "`",
  "$1",
  "%s",
  "{}",
  "[]",
  "<",
  ">",
  "&amp;",
  "</memories>",
  "<memories>",
  "<private>",
  "</private>",
  "password=hunter2",
  "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
  "'; DROP TABLE",
  "memories; --",
  "\u0000",
  "\uFFFD",
  "\ud800",
  "\udfff",
  "\u0007",
  "\u001b[31m",
  "０１２",
  "ﬁ",
  "İ",
  "ß",
  "Ω",
  "∑",
  "\u00a0",
  "AKIAIOSFODNN7EXAMPLE",
  "mysql -u root -pSecret1",
  "/tmp//p/.",
  "~/repo",
  "../..",
  "C:\\Users\\x",
  "null",
  "NaN",
];

/** Text from the pieces above and random code points (surrogates, controls and private use included). */
export function str(r: Rand, len = r.size()): string {
  let s = "";
  while (s.length < len) {
    if (r.chance(0.7)) s += r.pick(PIECES);
    else s += String.fromCharCode(r.chance(0.5) ? 32 + r.int(95) : r.int(0x10000));
    if (len > 2000 && s.length < len - 2000 && r.chance(0.5)) s += "lorem ipsum dolor ".repeat(50);
  }
  return s.slice(0, len);
}

/** Any JSON value, sometimes nested very deep. */
export function value(r: Rand, depth = 0): unknown {
  if (depth === 0 && r.chance(0.03)) {
    let v: unknown = "bottom";
    for (let i = 0, n = 100 + r.int(5000); i < n; i++) v = r.chance(0.5) ? [v] : { a: v };
    return v;
  }
  const k = depth > 4 ? r.int(5) : r.int(8);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, 42, 7]);
    case 3:
    case 4:
      return str(r, r.int(60));
    case 5:
    case 6:
      return Array.from({ length: r.int(6) }, () => value(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(6) }, () => [str(r, r.int(12)), value(r, depth + 1)]));
  }
}

const PROJECTS = [
  "/fuzz/a",
  "/fuzz/b",
  "/fuzz/a/.",
  "/fuzz//b/",
  "relative/p",
  "~",
  "",
  " ",
  "/fuzz/" + "x".repeat(600),
];
const KINDS = ["note", "decision", "fact", "task", "preference", "summary", "reference", "conversation"];

function maybe<T>(r: Rand, p: number, f: () => T): T | undefined {
  return r.chance(p) ? f() : undefined;
}

/** Arguments a model could send, then bent: wrong types, missing or unknown fields, huge or hostile values. */
export function toolCall(r: Rand): { name: string; arguments: Record<string, unknown> } {
  const id = () => r.chance(0.8) ? 1 + r.int(60) : value(r);
  const filters = () => ({
    project: maybe(r, 0.3, () => r.pick(PROJECTS)),
    all_projects: maybe(r, 0.1, () => r.chance(0.8) ? true : value(r)),
    session: maybe(r, 0.1, () => str(r, r.int(30))),
    tags: maybe(r, 0.15, () => Array.from({ length: r.int(4) }, () => str(r, r.int(10)))),
    kinds: maybe(r, 0.1, () => [r.pick(KINDS)]),
    after: maybe(r, 0.1, () => r.pick(["7d", "2026-01-01", "garbage", "2026-02-30"])),
    before: maybe(r, 0.05, () => r.pick(["1h", "2027-01-01"])),
  });
  const tools: Record<string, () => Record<string, unknown>> = {
    save_memory: () => ({
      content: str(r),
      kind: maybe(r, 0.4, () => r.chance(0.8) ? r.pick(KINDS) : str(r, 10)),
      tags: maybe(r, 0.3, () => Array.from({ length: r.int(r.chance(0.1) ? 50 : 4) }, () => str(r, r.int(80)))),
      metadata: maybe(r, 0.3, () => r.chance(0.8) ? { note: value(r), password: str(r, 8) } : value(r)),
      project: maybe(r, 0.2, () => r.pick(PROJECTS)),
      session: maybe(r, 0.1, () => str(r, r.int(40))),
    }),
    save_conversation: () => ({
      user_prompt: str(r),
      assistant_response: str(r),
      project: maybe(r, 0.2, () => r.pick(PROJECTS)),
    }),
    search_memory: () => ({
      query: str(r, r.int(200)),
      limit: maybe(r, 0.3, () => r.chance(0.7) ? r.int(120) : value(r)),
      mode: maybe(r, 0.3, () => r.pick(["hybrid", "keyword", "vector", "other"])),
      ...filters(),
    }),
    get_context: () => ({
      query: str(r, r.int(200)),
      max_results: maybe(r, 0.3, () => r.int(60)),
      token_budget: maybe(r, 0.3, () => r.int(40_000)),
      ...filters(),
    }),
    get_memory: () => ({ id: id(), project: maybe(r, 0.2, () => r.pick(PROJECTS)) }),
    update_memory: () => ({
      id: id(),
      content: maybe(r, 0.6, () => str(r)),
      kind: maybe(r, 0.2, () => r.pick(KINDS)),
      tags: maybe(r, 0.2, () => [str(r, 10)]),
      metadata: maybe(r, 0.2, () => value(r)),
      supersedes: maybe(r, 0.1, () => [id()]),
      project: maybe(r, 0.2, () => r.pick(PROJECTS)),
    }),
    delete_memory: () =>
      r.chance(0.5)
        ? { id: id(), project: maybe(r, 0.2, () => r.pick(PROJECTS)) }
        : r.chance(0.5)
        ? { ids: Array.from({ length: 1 + r.int(5) }, id), confirm: maybe(r, 0.5, () => r.chance(0.8)) }
        : { ...filters(), confirm: maybe(r, 0.5, () => true) },
    manage_session: () => ({
      action: r.pick(["create", "switch", "info", "list", "explode"]),
      id: maybe(r, 0.4, () => str(r, r.int(40))),
      name: maybe(r, 0.4, () => str(r, r.int(300))),
      project: maybe(r, 0.2, () => r.pick(PROJECTS)),
      limit: maybe(r, 0.2, () => r.int(300)),
    }),
    export_memories: () => ({
      format: maybe(r, 0.5, () => r.pick(["jsonl", "markdown", "csv"])),
      max_memories: maybe(r, 0.5, () => r.int(20)),
      ...filters(),
    }),
    get_status: () => ({}),
  };
  const name = r.chance(0.03) ? str(r, 12) : r.pick(Object.keys(tools));
  let args: Record<string, unknown> = (tools[name] ?? (() => ({})))();
  for (const k of Object.keys(args)) if (args[k] === undefined) delete args[k];
  // Bend it: a field of the wrong type, one missing, one unknown, or all of it replaced.
  const keys = Object.keys(args);
  if (keys.length && r.chance(0.15)) args[r.pick(keys)] = value(r);
  if (keys.length && r.chance(0.08)) delete args[r.pick(keys)];
  if (r.chance(0.05)) args[str(r, 8)] = value(r);
  if (r.chance(0.03)) args = value(r) as Record<string, unknown>;
  return { name, arguments: args };
}

/** A whole line for `sage serve`'s stdin: a request (usually), or something that is not one. */
export function frame(
  r: Rand,
  id: number,
): { line: Uint8Array; request: boolean; tool?: string; alsoId?: number } {
  const enc = new TextEncoder();
  const k = r.float();
  if (k < 0.7) {
    const call = toolCall(r);
    const msg = { jsonrpc: "2.0", id, method: "tools/call", params: call };
    return { line: enc.encode(JSON.stringify(msg) + "\n"), request: true, tool: call.name };
  }
  if (k < 0.82) {
    const method = r.pick([
      "resources/read",
      "resources/list",
      "resources/templates/list",
      "prompts/get",
      "prompts/list",
      "tools/list",
      "ping",
      "logging/setLevel",
      "completion/complete",
      "no/such/method",
      "initialize",
    ]);
    const params = method === "resources/read"
      ? {
        uri: r.pick([
          "sage://status",
          "sage://sessions",
          `sage://memory/${r.int(60)}`,
          `sage://memory/x?project=${str(r, 10)}`,
          str(r, 20),
        ]),
      }
      : method === "prompts/get"
      ? { name: r.pick(["save", "status", "recall", str(r, 5)]), arguments: { topic: str(r, r.int(100)) } }
      : method === "logging/setLevel"
      ? { level: r.pick(["debug", "info", "nonsense"]) }
      : r.chance(0.3)
      ? value(r)
      : {};
    return { line: enc.encode(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n"), request: true };
  }
  if (k < 0.88) {
    // A notification or a stray response: no reply expected.
    const m = r.chance(0.5)
      ? {
        jsonrpc: "2.0",
        method: r.pick(["notifications/cancelled", "notifications/initialized", "x/y"]),
        params: value(r),
      }
      : { jsonrpc: "2.0", id: 1_000_000 + id, result: value(r) };
    return { line: enc.encode(JSON.stringify(m) + "\n"), request: false, alsoId: 1_000_000 + id };
  }
  // Not a valid message: broken JSON, other JSON, wrong envelopes, raw bytes (invalid UTF-8 included).
  const bad = r.pick([
    () => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: toolCall(r) }).slice(0, 1 + r.int(60)),
    () => JSON.stringify(value(r)),
    () => JSON.stringify({ jsonrpc: "1.0", id, method: "ping" }),
    () => JSON.stringify({ id, method: "ping" }),
    // Ids of every other shape (never a small positive integer: those are the run's own requests).
    () =>
      JSON.stringify({
        jsonrpc: "2.0",
        id: r.pick(["x", "", -1, 0, 1.5, 1e308, 2 ** 53, null, {}, [], true]),
        method: "ping",
      }),
    () => JSON.stringify([{ jsonrpc: "2.0", id, method: "ping" }]),
    () => str(r, r.int(200)).replace(/\n/g, " "),
    () => "",
  ])();
  const bytes = enc.encode(bad.replace(/[\r\n]/g, " ") + "\n");
  // Bytes that are not UTF-8 (never the newline that ends the line).
  if (bytes.length > 1 && r.chance(0.3)) {
    for (let i = 0; i < 3; i++) bytes[r.int(bytes.length - 1)] = 0x80 + r.int(0x7f);
  }
  return { line: bytes, request: false };
}

export const HOOK_EVENTS = ["SessionStart", "UserPromptSubmit", "Stop", "SubagentStop", "PreCompact", "SessionEnd"];

/** A transcript in Claude Code's shape with hostile lines mixed in; returns its bytes. */
export function transcript(r: Rand, session: string): Uint8Array {
  const t = new Transcript(session, { start: new Date(Date.UTC(2026, 0, 1) + r.int(1e9)).toISOString() });
  const lines: string[] = [];
  for (let i = 0, n = 1 + r.int(8); i < n; i++) {
    if (r.chance(0.7)) appendTurn(t, str(r, 1 + r.int(300)), str(r, 1 + r.int(600)));
    else {
      t.prompt(str(r, 1 + r.int(200)));
      t.assistant([toolUse(`toolu_${i}`, r.pick(["Bash", "Task", str(r, 5)]), { command: str(r, 50) })], "tool_use");
      t.toolResult(`toolu_${i}`, str(r, r.int(3000)), { isError: r.chance(0.3) });
      t.assistant([text(str(r, 100))], r.pick(["end_turn", null, "tool_use"]));
    }
  }
  for (const line of t.text().split("\n")) {
    if (!line) continue;
    lines.push(r.chance(0.1) ? mutateLine(r, line) : line);
    if (r.chance(0.05)) lines.push(JSON.stringify(value(r)));
  }
  const enc = new TextEncoder();
  let body = enc.encode(lines.join(r.chance(0.1) ? "\r\n" : "\n") + (r.chance(0.8) ? "\n" : ""));
  if (r.chance(0.1)) body = body.subarray(0, r.int(body.length)); // cut mid-line
  if (r.chance(0.1)) body = body.map((b) => (r.chance(0.002) ? 0xff : b));
  return body;
}

function mutateLine(r: Rand, line: string): string {
  const m = r.int(5);
  if (m === 0) return line.slice(0, r.int(line.length));
  if (m === 1) return line.replace(/"uuid":"[^"]*"/, `"uuid":${JSON.stringify(value(r))}`);
  if (m === 2) return line.replace(/"timestamp":"[^"]*"/, `"timestamp":${JSON.stringify(value(r))}`);
  if (m === 3) return line.replace(/"content":/, `"content":${JSON.stringify(value(r))},"x":`);
  return line.replace(/"type":"(user|assistant)"/, `"type":${JSON.stringify(value(r))}`);
}
