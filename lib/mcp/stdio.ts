/**
 * The MCP server on STDIO. stdout carries JSON-RPC frames and nothing else: console output is rerouted to stderr
 * before anything else loads. The process ends when the client closes stdin (Claude Code's way of stopping a
 * server), when it stops reading stdout, or on a signal.
 *
 * The transport is our own (the SDK's stops reading for good after one line over its 10 MiB buffer, and then never
 * sees EOF): one JSON-RPC message per line, read as bytes, and per the JSON-RPC 2.0 spec a line that is not JSON gets
 * -32700 and one that is not a request, notification or response gets -32600, with the request's id when it has
 * one. A line over MAX_LINE_BYTES is skipped without being held in memory and answered -32600. Requests other than
 * `ping` before `initialize` has been answered are refused (MCP lifecycle). What lib/mcp/handshake.ts read before the
 * SDK loaded is read first, and its early answer to `initialize` is not sent twice.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/shared/transport.d.ts"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/types.d.ts"
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { log } from "../log.ts";
import { concatBytes, type EarlyStart, takeEarlyStart } from "./handshake.ts";

/**
 * Longest line accepted. The largest legitimate request (save_conversation with two texts at the default 200,000
 * characters, each escaped as \uXXXX) is about 2.4 MB.
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How much of an oversized line is kept to find its id. */
const HEAD_BYTES = 64 * 1024;
/** How long shutting down may take before the process ends anyway. */
const SHUTDOWN_MS = 5_000;

/** Anything that calls console.log (a library, a stray debug line) must not corrupt the protocol stream. */
export function guardStdout(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
  console.trace = toStderr;
}

/**
 * Serves `server` on stdin/stdout until the client goes away; `onInitialized` runs once the client has
 * initialised, `onShutdown` before the server closes. Resolves when it is over.
 */
export function runStdio(
  server: McpServer,
  handlers: { onInitialized(): void; onShutdown(why: string): Promise<void> },
): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const shutdown = async (why: string) => {
      if (closing) return;
      closing = true;
      log.debug("shutting down", { why });
      // A shutdown stuck on a hung database must not keep the process alive.
      const timer = setTimeout(resolve, SHUTDOWN_MS);
      await handlers.onShutdown(why).catch((err) => log.warn("shutdown", { error: String(err) }));
      await server.close().catch(() => {});
      clearTimeout(timer);
      resolve();
    };
    server.server.oninitialized = () => handlers.onInitialized();
    for (const sig of Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM", "SIGHUP"]) {
      try {
        Deno.addSignalListener(sig as Deno.Signal, () => shutdown(sig));
      } catch {
        // signal not supported here
      }
    }
    // Claude Code ends a server by closing its stdin; a client that stops reading stdout ends it too.
    const transport = new LineTransport((why) => void shutdown(why), takeEarlyStart());
    server.connect(transport).then(() => log.debug("serving MCP on stdio"));
  });
}

type Id = string | number | null;

/** Newline-delimited JSON-RPC on this process's stdin and stdout. */
class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #onEnd: (why: string) => void;
  readonly #early: EarlyStart | null;
  #initializeId: Id | undefined;
  #initialized = false;
  /** The id of an `initialize` the handshake answered: the SDK's own reply to it is not sent again. */
  #answered: Id | undefined;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();
  // The line being read: its pieces so far, their size, or (over the limit) its head and length.
  #parts: Uint8Array[] = [];
  #size = 0;
  #skipped: { head: Uint8Array; bytes: number } | null = null;

  constructor(onEnd: (why: string) => void, early: EarlyStart | null) {
    this.#onEnd = onEnd;
    this.#early = early;
    if (early?.answered !== undefined) {
      this.#answered = this.#initializeId = early.answered;
      this.#initialized = true;
    }
  }

  start(): Promise<void> {
    this.#read().catch((err) => {
      log.warn("reading stdin failed", { error: String(err) });
      this.#onEnd("stdin failed");
    });
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    const m = message as { id?: Id; result?: unknown; error?: { message?: string } };
    if (this.#answered !== undefined && m.id === this.#answered && (m.result !== undefined || m.error)) {
      this.#answered = undefined;
      // Only a client whose request the handshake's check accepted and the SDK's schema did not: say so.
      if (m.error) log.warn("initialize was answered early but the SDK refused it", { error: m.error.message });
      return this.#writing;
    }
    if (!this.#initialized && m.result !== undefined && m.id === this.#initializeId) this.#initialized = true;
    const bytes = new TextEncoder().encode(`${JSON.stringify(message)}\n`);
    this.#writing = this.#writing.then(() => this.#writeAll(bytes));
    return this.#writing;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.onclose?.();
    }
    return Promise.resolve();
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return;
    try {
      for (let o = 0; o < bytes.length;) o += await Deno.stdout.write(bytes.subarray(o));
    } catch (err) {
      // EPIPE: the client closed its end. Nobody can hear us any more; that ends the server, quietly.
      log.debug("stdout closed by the client", { error: (err as Error).message });
      this.#onEnd("stdout closed");
    }
  }

  /** Reads stdin (after what the handshake read) line by line; EOF ends the server. */
  async #read(): Promise<void> {
    if (this.#early) {
      this.#feed(this.#early.pending);
      if (this.#early.ended) return this.#onEnd("stdin closed");
    }
    const buf = new Uint8Array(256 * 1024);
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      this.#feed(buf.subarray(0, n));
    }
    this.#onEnd("stdin closed");
  }

  /** Splits input into lines without ever holding more than MAX_LINE_BYTES of one. */
  #feed(input: Uint8Array): void {
    let chunk = input;
    while (chunk.length) {
      const nl = chunk.indexOf(10);
      const piece = nl < 0 ? chunk : chunk.subarray(0, nl);
      if (this.#skipped) this.#skipped.bytes += piece.length;
      else if (this.#size + piece.length > MAX_LINE_BYTES) {
        this.#skipped = {
          head: concatBytes([...this.#parts, piece]).slice(0, HEAD_BYTES),
          bytes: this.#size + piece.length,
        };
        this.#parts = [];
        this.#size = 0;
      } else {
        this.#parts.push(piece.slice()); // the read buffer is reused by the next read
        this.#size += piece.length;
      }
      if (nl < 0) break;
      if (this.#skipped) this.#tooLarge(this.#skipped.head, this.#skipped.bytes);
      else this.#line(concatBytes(this.#parts));
      this.#parts = [];
      this.#size = 0;
      this.#skipped = null;
      chunk = chunk.subarray(nl + 1);
    }
  }

  #line(bytes: Uint8Array): void {
    const text = new TextDecoder().decode(bytes).replace(/\r$/, "");
    if (!text.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#error(null, -32700, "Parse error: the line is not valid JSON");
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      this.#error(idOf(value), -32600, "Invalid Request: not a JSON-RPC 2.0 request, notification or response");
      return;
    }
    const message = parsed.data as JSONRPCMessage & { id?: Id; method?: string };
    if (!this.#initialized && message.id !== undefined && typeof message.method === "string") {
      if (message.method === "initialize") this.#initializeId = message.id;
      else if (message.method !== "ping") {
        this.#error(message.id, -32600, "Invalid Request: the server is not initialized; send initialize first");
        return;
      }
    }
    this.onmessage?.(message);
  }

  #tooLarge(head: Uint8Array, bytes: number): void {
    log.warn("request too large; skipped", { bytes, limit: MAX_LINE_BYTES });
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    this.#error(
      topLevelId(new TextDecoder().decode(head)),
      -32600,
      `Invalid Request: the message is too large (${mib(bytes)}; the limit is ${mib(MAX_LINE_BYTES)})`,
    );
  }

  #error(id: Id, code: number, message: string): void {
    void this.send({ jsonrpc: "2.0", id, error: { code, message } } as unknown as JSONRPCMessage);
  }
}

/** The id of something that parsed as JSON but is not a valid message, when it has a usable one. */
function idOf(value: unknown): Id {
  const id = value && typeof value === "object" && !Array.isArray(value) ? (value as { id?: unknown }).id : null;
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : null;
}

/**
 * The top-level "id" of a JSON object from its first bytes (the rest of the line was not kept), or null. Scans
 * strings and nesting so an "id" inside params does not count.
 */
export function topLevelId(head: string): Id {
  let depth = 0;
  let i = 0;
  const str = /"(?:[^"\\]|\\.)*"/y;
  while (i < head.length) {
    const c = head[i];
    if (c === '"') {
      str.lastIndex = i;
      const m = str.exec(head);
      if (!m) return null; // the head ends inside a string
      i += m[0].length;
      if (depth !== 1 || m[0] !== '"id"') continue;
      const value = /^\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\]|\\.)*")\s*[,}]/.exec(head.slice(i));
      if (!value) continue; // a value "id", or an id that is not a string or number
      const id = JSON.parse(value[1]);
      return typeof id === "number" && !Number.isFinite(id) ? null : id;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (--depth <= 0) return null;
    }
    i++;
  }
  return null;
}
