/**
 * The README's registration, with the real Claude Code CLI (installed by `scripts/setup --dev`):
 * `claude mcp add sage -- <checkout>/sage serve`, then `claude mcp list` must report sage as Connected.
 * Claude Code starts the server itself for the health check, so this proves the handshake Claude Code sees.
 */
import { assertRegistersConnected, freshDatabase, MODEL, REPO, tempDir } from "./support/harness.ts";

Deno.test("Claude Code: claude mcp add + claude mcp list shows sage Connected", async () => {
  const home = await tempDir("claude-home-");
  const project = `${home}/project`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  const env: Record<string, string> = {
    HOME: home,
    PATH: `${REPO}/.tools/bin:${Deno.env.get("PATH")}`,
    DATABASE_URL: await freshDatabase(),
    SAGE_EMBED_MODEL: MODEL,
    SAGE_LOG_LEVEL: "warn",
    DISABLE_AUTOUPDATER: "1",
  };
  await assertRegistersConnected(env, project);
});
