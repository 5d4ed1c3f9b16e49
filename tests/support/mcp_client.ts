/**
 * An MCP client (the real SDK, over stdio) connected to a `sage serve` child process, plus the raw-pipe variant
 * for tests that must see every byte the server writes.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/index.d.ts"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/client/stdio.d.ts"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ROOT, sageArgs, sageEnv } from "./harness.ts";
import { type RpcMessage, RpcProcess, type ToolResult } from "./rpc.ts";

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

export type { RpcMessage, ToolResult };

/**
 * `sage serve` on raw pipes: frames are written as bytes, and every byte of stdout is kept so a test can check
 * that nothing but JSON-RPC ever reached it.
 */
export class RawServer extends RpcProcess {
  constructor(env: Record<string, string>) {
    const { command, args } = sageArgs(["serve"]);
    super(command, args, { env: sageEnv(env), cwd: ROOT });
  }

  /** Sends a request as one line and waits for its reply. */
  request(id: number, method: string, params: Record<string, unknown> = {}): Promise<RpcMessage> {
    return this.call(id, method, params);
  }
}

export const INITIALIZE_PARAMS = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "raw-test", version: "1.0.0" },
};
