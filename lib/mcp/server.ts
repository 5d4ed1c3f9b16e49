/**
 * The MCP edge: tools (lib/mcp/tools, one file each), prompts and resources over the memory service. It declares
 * schemas and wording for the model, calls one use case per tool, and turns results into readable text plus
 * structured content.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { INSTRUCTIONS, SERVER_INFO } from "./identity.ts";
import { registerPrompts } from "./prompts.ts";
import { registerResources } from "./resources.ts";
import type { GetService, Tool } from "./tool.ts";
import { deleteMemory } from "./tools/delete_memory.ts";
import { exportMemories } from "./tools/export_memories.ts";
import { getContext } from "./tools/get_context.ts";
import { getMemory } from "./tools/get_memory.ts";
import { getStatus } from "./tools/get_status.ts";
import { manageSession } from "./tools/manage_session.ts";
import { saveConversation } from "./tools/save_conversation.ts";
import { saveMemory } from "./tools/save_memory.ts";
import { searchMemory } from "./tools/search_memory.ts";
import { updateMemory } from "./tools/update_memory.ts";

/** In the order `tools/list` shows them. */
const TOOLS: Tool[] = [
  saveConversation,
  saveMemory,
  searchMemory,
  getContext,
  getMemory,
  updateMemory,
  deleteMemory,
  manageSession,
  exportMemories,
  getStatus,
];

/**
 * The server; `getService` gives the memory service, which loads after the handshake (its modules are most of
 * Sage's start-up time, and `initialize` must not wait for them).
 */
export function createMcpServer(getService: GetService): McpServer {
  const server = new McpServer({ ...SERVER_INFO }, { instructions: INSTRUCTIONS, capabilities: { logging: {} } });
  for (const tool of TOOLS) tool(server, getService);
  registerPrompts(server, getService);
  registerResources(server, getService);
  return server;
}
