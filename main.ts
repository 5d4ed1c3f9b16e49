/**
 * Sage: long-term memory for Claude Code. `sage` (or `sage serve`) is the MCP server on stdio; other
 * subcommands are the command-line edge (see lib/cli/main.ts).
 */
import { answerInitialize } from "./lib/mcp/handshake.ts";

/**
 * The command line, loaded once the handshake is answered. Its name is built at run time on purpose: a literal would
 * make Deno load its whole graph (the MCP SDK, the database driver, the model runtime) before this file runs.
 * `deno compile` is told to include it (--include lib/cli/main.ts in the Dockerfile).
 */
const CLI = new URL("./lib/cli/main.ts", import.meta.url).href;

if (import.meta.main) {
  // `sage` and `sage serve` as Claude Code starts them: `initialize` is answered first (lib/mcp/handshake.ts). With
  // flags, the usual path answers it a little later.
  if (Deno.args.length === 0 || (Deno.args.length === 1 && Deno.args[0] === "serve")) await answerInitialize();
  const { main }: typeof import("./lib/cli/main.ts") = await import(CLI);
  // `serve` returns when the client closes stdin; every other command when it is done.
  Deno.exit(await main(Deno.args));
}
