/**
 * Sage: long-term memory for Claude Code. `sage` (or `sage serve`) is the MCP server on stdio; other
 * subcommands are the command-line edge (see lib/cli/main.ts).
 */
import { answerInitialize } from "./lib/mcp/handshake.ts";
import { loadLater } from "./lib/modules.ts";

if (import.meta.main) {
  // `sage` and `sage serve` as Claude Code starts them: `initialize` is answered first (lib/mcp/handshake.ts). With
  // flags, the usual path answers it a little later.
  if (Deno.args.length === 0 || (Deno.args.length === 1 && Deno.args[0] === "serve")) await answerInitialize();
  // The command line loads once the handshake is answered (lib/modules.ts says why by a built name).
  const { main } = await loadLater<typeof import("./lib/cli/main.ts")>(new URL("./lib/cli/main.ts", import.meta.url));
  // `serve` returns when the client closes stdin; every other command when it is done.
  Deno.exit(await main(Deno.args));
}
