/**
 * `sage hook <Event>`: what Claude Code runs for each hook event (see lib/hooks/handlers.ts).
 *
 * It never gets in Claude Code's way: whatever happens it exits 0, prints nothing but a valid answer, and logs
 * to $SAGE_HOME/logs/hooks.log (Claude Code may show a hook's stderr to the user). It asks the running Sage
 * server first (model loaded, fast); with none, it works directly against the database, keyword-only and
 * without loading a model (the server adds missing vectors when it next runs).
 */
import { configureLog, log } from "../log.ts";
import { handleHook, hookProject, hookSettings, KNOWN_EVENTS, parseHookInput } from "../hooks/handlers.ts";
import { loadLater } from "../modules.ts";
import { optedOut } from "../project.ts";
import { askServer } from "../hooks/socket.ts";
import { type CommandSpec, out } from "./command.ts";

/** How long a hook waits for the server, by event (Claude Code's own timeouts are longer; see hooks install). */
const WAIT_MS: Record<string, number> = { UserPromptSubmit: 2_500, SessionStart: 5_000 };
const CAPTURE_WAIT_MS = 50_000;
const MAX_INPUT = 16 * 1024 * 1024;

export const command: CommandSpec = {
  name: "hook",
  summary:
    "Handle a Claude Code hook event: SessionStart, UserPromptSubmit, Stop, SubagentStop, PreCompact, SessionEnd.",
  usage: "hook <Event>",
  details: "Reads Claude Code's hook JSON on stdin. Installed by `sage hooks install`; not meant to be run by hand.",
  positionals: { min: 1, max: 1 },
  failOpen: true,
  async run(ctx) {
    const { config } = ctx;
    const event = ctx.positionals[0];
    try {
      await Deno.mkdir(`${config.home}/logs`, { recursive: true, mode: 0o700 }); // private whatever the umask
      configureLog({ level: config.logLevel, stderr: false, file: `${config.home}/logs/hooks.log` });
    } catch {
      configureLog({ level: "silent", stderr: false });
    }
    const t0 = performance.now();
    try {
      if (!KNOWN_EVENTS.has(event)) {
        log.warn("unknown hook event ignored", { event });
        return 0;
      }
      if (config.disabled) return 0;
      const raw = await readStdin(MAX_INPUT);
      const input = parseHookInput(raw);
      const settings = hookSettings(config);
      const project = hookProject(input, settings);
      if (optedOut(project)) return 0;
      // The project is resolved here, from this hook's cwd and SAGE_PROJECT, and always sent: one server answers
      // the hooks of every Claude Code window, and without it a server started with its own SAGE_PROJECT (or
      // --project) filed every window's turns, and recalled for every window, under that one project.
      let stdout = await askServer(config, { event, input: raw, project }, WAIT_MS[event] ?? CAPTURE_WAIT_MS);
      let via = "server";
      if (stdout === null) {
        via = "direct";
        stdout = await direct(ctx.config, event, input);
      }
      if (stdout) out(stdout);
      log.debug("hook done", { event, via, ms: Math.round(performance.now() - t0) });
    } catch (err) {
      log.error("hook failed; Claude Code continues without it", {
        event,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return 0;
  },
};

/** No server: the hook does the work itself, without a model (loading one would take seconds). */
async function direct(
  config: CommandContextConfig,
  event: string,
  input: ReturnType<typeof parseHookInput>,
): Promise<string> {
  const { createService } = await loadLater<typeof import("../app.ts")>(new URL("../app.ts", import.meta.url));
  // No model (loading one takes seconds) and a short connection wait: a database that does not answer must
  // not hold every prompt for the pool's default 10 s.
  const service = createService(config, { keywordOnly: true, connectTimeoutMs: 2_000 });
  try {
    return await handleHook(service, event, input, hookSettings(config));
  } finally {
    await service.close();
  }
}

type CommandContextConfig = Parameters<CommandSpec["run"]>[0]["config"];

async function readStdin(max: number): Promise<string> {
  const bytes = await new Response(Deno.stdin.readable).bytes();
  if (bytes.length > max) throw new Error(`hook input is ${bytes.length} bytes; more than ${max}`);
  return new TextDecoder().decode(bytes);
}
