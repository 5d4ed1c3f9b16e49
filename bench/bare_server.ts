/**
 * The floor for Sage's handshake (bench/handshake.ts): a bare MCP server with the same SDK, one trivial tool, on
 * stdio under `deno run`. What `sage serve` spends beyond this is its own start-up.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/stdio.d.ts"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "bare", version: "1.0.0" });
server.registerTool(
  "echo",
  { description: "Echo the text.", inputSchema: { text: z.string() } },
  ({ text }: { text: string }) => ({ content: [{ type: "text" as const, text }] }),
);
await server.connect(new StdioServerTransport());
