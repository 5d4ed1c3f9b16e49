/**
 * Sage: long-term memory for Claude Code. `sage` (or `sage serve`) is the MCP server on stdio; other
 * subcommands are the command-line edge (see lib/cli/main.ts).
 */
import { main } from "./lib/cli/main.ts";

if (import.meta.main) {
  // `serve` returns when the client closes stdin; every other command when it is done.
  Deno.exit(await main(Deno.args));
}
