/**
 * An MCP client (the real SDK, over stdio) connected to a `sage serve` child process, plus the raw-pipe variant
 * for tests that must see every byte the server writes.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/index.d.ts"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ROOT, sageArgs, sageEnv } from "./harness.ts";
import { concatBytes } from "./process.ts";

/** A tool result as the MCP spec defines it (the SDK's zod-derived type is lost under Deno). */
export interface ToolResult {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface SageClient {
  client: Client;
  /** Calls a tool; a JSON-RPC error is returned as an isError result so callers check one shape. */
  call(name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  /** The text of a result's first content item. */
  text(r: ToolResult): string;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** Starts `sage serve` with `env` (on top of sageEnv's defaults) and connects the SDK client. */
export async function connectSage(env: Record<string, string>): Promise<SageClient> {
  const { command, args } = sageArgs(["serve"]);
  const transport = new StdioClientTransport({ command, args, env: sageEnv(env), cwd: ROOT, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
  const client = new Client({ name: "sage-test", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    async call(name, args = {}) {
      try {
        return await client.callTool({ name, arguments: args }) as ToolResult;
      } catch (err) {
        return { content: [{ type: "text", text: `JSON-RPC error: ${(err as Error).message}` }], isError: true };
      }
    },
    text: (r) => r.content[0]?.text ?? "",
    stderr: () => stderr,
    close: () => client.close(),
  };
}

/**
 * The database name in a harness URL (postgresql://sage@/NAME?host=…). Not `new URL()`: a user with an empty
 * host is not a valid WHATWG URL.
 */
export function dbName(url: string): string {
  const name = url.match(/^postgres(?:ql)?:\/\/[^/]*\/([^?]+)/)?.[1];
  if (!name) throw new Error(`no database name in ${url}`);
  return decodeURIComponent(name);
}

/** A JSON-RPC message as it came off the wire. */
export interface RpcMessage {
  jsonrpc: string;
  id?: number | string | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  method?: string;
}

/**
 * `sage serve` on raw pipes: frames are written as bytes, and every byte of stdout is kept so a test can check
 * that nothing but JSON-RPC ever reached it.
 */
export class RawServer {
  readonly child: Deno.ChildProcess;
  readonly spawnedAt = performance.now();
  readonly stdoutBytes: Uint8Array[] = [];
  /** Every frame the server wrote, in order (replies with a null id included). */
  readonly frames: RpcMessage[] = [];
  stderrText = "";
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";
  #waiting = new Map<number, (m: RpcMessage) => void>();
  #arrived = new Map<number, { message: RpcMessage; at: number }>();
  #done: Promise<void>;

  constructor(env: Record<string, string>) {
    const { command, args } = sageArgs(["serve"]);
    this.child = new Deno.Command(command, {
      args,
      env: sageEnv(env),
      clearEnv: true,
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#done = Promise.all([this.#readStdout(), this.#readStderr()]).then(() => {});
  }

  async #readStdout(): Promise<void> {
    const dec = new TextDecoder(); // lenient here; the strict check runs over the kept bytes
    for await (const chunk of this.child.stdout) {
      this.stdoutBytes.push(chunk);
      this.#buffer += dec.decode(chunk, { stream: true });
      let nl;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        let message: RpcMessage;
        try {
          message = JSON.parse(line);
        } catch {
          continue; // reported by checkStdout
        }
        this.frames.push(message);
        if (typeof message.id === "number") {
          this.#arrived.set(message.id, { message, at: performance.now() });
          this.#waiting.get(message.id)?.(message);
        }
      }
    }
  }

  async #readStderr(): Promise<void> {
    const dec = new TextDecoder();
    for await (const chunk of this.child.stderr) this.stderrText += dec.decode(chunk, { stream: true });
  }

  /** Writes raw bytes (one or more frames) to the server's stdin. */
  async write(bytes: Uint8Array | string): Promise<void> {
    await this.#writer.write(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  }

  /** Sends a request as one line and waits for its reply. */
  async request(id: number, method: string, params: Record<string, unknown> = {}): Promise<RpcMessage> {
    await this.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    return await this.reply(id);
  }

  /** Waits for the reply with this id (already arrived or still to come). */
  reply(id: number, timeoutMs = 60_000): Promise<RpcMessage> {
    const have = this.#arrived.get(id);
    if (have) return Promise.resolve(have.message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to request ${id}`)), timeoutMs);
      this.#waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  /** When the reply with this id arrived, in ms after spawn. */
  replyTime(id: number): number | undefined {
    const a = this.#arrived.get(id);
    return a ? a.at - this.spawnedAt : undefined;
  }

  async notify(method: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.write(`${JSON.stringify({ jsonrpc: "2.0", method, params })}\n`);
  }

  /** Closes stdin (how Claude Code ends a server) and waits for the process and its pipes. */
  async close(): Promise<Deno.CommandStatus> {
    await this.#writer.close().catch(() => {});
    const status = await this.child.status;
    await this.#done;
    return status;
  }

  /** All of stdout as bytes. */
  stdout(): Uint8Array {
    return concatBytes(this.stdoutBytes);
  }
}

export const INITIALIZE_PARAMS = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "raw-test", version: "1.0.0" },
};
