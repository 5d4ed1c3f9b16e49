/**
 * A child process spoken to in newline-delimited JSON-RPC on raw pipes, as Claude Code speaks to an MCP server: every
 * byte of stdout is kept (so a test can prove nothing but JSON-RPC ever reached it) and every frame is parsed in
 * order. The main suite's RawServer (`sage serve`) and the container checks' Rpc (the run script) build on it; it
 * needs nothing from either suite's environment.
 */
import { concatBytes } from "./process.ts";

/** A JSON-RPC message as it came off the wire. */
export interface RpcMessage {
  jsonrpc: string;
  id?: number | string | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  method?: string;
}

/** A tool result as the MCP spec defines it (the SDK's zod-derived type is lost under Deno). */
export interface ToolResult {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export class RpcProcess {
  readonly child: Deno.ChildProcess;
  readonly spawnedAt = performance.now();
  readonly stdoutChunks: Uint8Array[] = [];
  /** Every frame the process wrote, in order (replies with a null id and notifications included). */
  readonly frames: RpcMessage[] = [];
  /** Everything the process wrote to stderr so far. */
  stderr = "";
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";
  #ended = false;
  #waiting = new Map<number, { resolve: (m: RpcMessage) => void; reject: (e: Error) => void }>();
  #arrived = new Map<number, { message: RpcMessage; at: number }>();
  #done: Promise<void>;

  constructor(command: string, args: string[], options: { env: Record<string, string>; cwd: string }) {
    this.child = new Deno.Command(command, {
      args,
      env: options.env,
      clearEnv: true,
      cwd: options.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#done = Promise.all([this.#readStdout(), this.#readStderr()]).then(() => {});
  }

  async #readStdout(): Promise<void> {
    const text = new TextDecoder(); // lenient here; the strict checks run over the kept bytes
    for await (const chunk of this.child.stdout) {
      this.stdoutChunks.push(chunk);
      this.#buffer += text.decode(chunk, { stream: true });
      let nl;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        let message: RpcMessage;
        try {
          message = JSON.parse(line);
        } catch {
          continue; // the strict checks report it
        }
        this.frames.push(message);
        if (typeof message.id === "number") {
          this.#arrived.set(message.id, { message, at: performance.now() });
          this.#waiting.get(message.id)?.resolve(message);
          this.#waiting.delete(message.id);
        }
      }
    }
    // stdout closed: whatever is still waiting will never get a reply.
    this.#ended = true;
    for (const w of this.#waiting.values()) w.reject(new Error(`the process ended; stderr:\n${this.stderr}`));
    this.#waiting.clear();
  }

  async #readStderr(): Promise<void> {
    const text = new TextDecoder();
    for await (const chunk of this.child.stderr) this.stderr += text.decode(chunk, { stream: true });
  }

  /** Writes raw bytes (one or more frames, or anything else) to the process's stdin. */
  async write(bytes: Uint8Array | string): Promise<void> {
    await this.#writer.write(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  }

  /** Sends one message as one line. */
  async send(message: Record<string, unknown>): Promise<void> {
    await this.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
  }

  async notify(method: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.send({ method, params });
  }

  /** Waits for the reply with this id (already arrived or still to come); fails when the process ends first. */
  reply(id: number, timeoutMs = 60_000): Promise<RpcMessage> {
    const have = this.#arrived.get(id);
    if (have) return Promise.resolve(have.message);
    if (this.#ended) return Promise.reject(new Error(`the process has ended; stderr:\n${this.stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`no reply to request ${id} within ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Sends a request with this id and waits for its reply. */
  async call(id: number, method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000) {
    const reply = this.reply(id, timeoutMs);
    await this.send({ id, method, params }).catch((err) => this.#waiting.get(id)?.reject(err));
    return await reply;
  }

  /** When the reply with this id arrived, in ms after spawn. */
  replyTime(id: number): number | undefined {
    const a = this.#arrived.get(id);
    return a ? a.at - this.spawnedAt : undefined;
  }

  /** Closes stdin (how Claude Code ends a server) and waits for the process and its pipes. */
  async close(): Promise<Deno.CommandStatus> {
    await this.#writer.close().catch(() => {});
    return await this.wait();
  }

  /** Waits for the process to end by itself. */
  async wait(): Promise<Deno.CommandStatus> {
    const status = await this.child.status;
    await this.#done;
    return status;
  }

  /** All of stdout as bytes. */
  stdout(): Uint8Array {
    return concatBytes(this.stdoutChunks);
  }
}
