/**
 * Who the MCP server says it is: name, instructions, capabilities and the protocol versions it speaks. Kept apart
 * from the SDK so the handshake (lib/mcp/handshake.ts) can answer `initialize` before the SDK has loaded; the SDK's
 * server is built from the same values (lib/mcp/server.ts), and tests/handshake_test.ts checks that both
 * answers are the same, protocol negotiation included.
 */
import { VERSION } from "../version.ts";

export const SERVER_INFO = { name: "sage", version: VERSION, title: "Sage — long-term memory" };

export const INSTRUCTIONS =
  `Sage is long-term memory that persists across Claude Code sessions, scoped to the current project.
- Before starting work on a topic, call get_context (or search_memory) to recall earlier decisions, preferences and findings.
- Save what a future session would want to know with save_memory: decisions and their reasons (kind "decision"), user preferences ("preference"), facts about the project ("fact"), open work ("task"). One self-contained idea per memory.
- Cite memories you rely on as [memory:ID].`;

/** What the server declares (logging) plus what registering tools, prompts and resources adds in the SDK. */
export const CAPABILITIES = {
  logging: {},
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true },
};

/** The SDK's supported protocol versions, newest first (the SDK is pinned; the handshake test compares). */
export const PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"];

/** The version to answer with: the client's when supported, else the newest (as the SDK negotiates). */
export function negotiateVersion(requested: string): string {
  return PROTOCOL_VERSIONS.includes(requested) ? requested : PROTOCOL_VERSIONS[0];
}
