import type { CommandSpec } from "./command.ts";

export const command: CommandSpec = {
  name: "serve",
  summary: "Run the MCP server on stdio (what Claude Code starts). stdout carries only JSON-RPC; logs go to stderr.",
  usage: "serve [options]",
  details: "The handshake is answered at once; the database connection and the embedding model load in the background.",
  async run(ctx) {
    const { serve } = await import("../mcp/serve.ts");
    await serve(ctx.config);
    return -1; // keep running until stdin closes
  },
};
