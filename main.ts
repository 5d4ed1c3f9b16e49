/**
 * Sage: long-term memory for Claude Code. `sage` (or `sage serve`) is the MCP server on stdio; other
 * subcommands are the command-line edge (see lib/cli/main.ts).
 */
import { main } from "./lib/cli/main.ts";

if (import.meta.main) {
  const code = await main(Deno.args);
  // `serve` keeps running until stdin closes; every other command ends here.
  if (code !== -1) Deno.exit(code);
}
