/**
 * Configuration: environment variables and command-line flags folded into one typed object, in one place.
 * Flags win over environment variables; both win over defaults. README "Configuration" lists every key.
 */
import { isLogLevel, type LogLevel } from "./log.ts";
import { invalid } from "./errors.ts";
import { normalizeProject } from "./project.ts";

export interface Config {
  /** PostgreSQL URL; unset means Sage runs its own private cluster under `home`. */
  dbUrl?: string;
  /** Sage's data directory (private cluster, logs, hook state). */
  home: string;
  /** Embedding model folder (transformers.js layout); undefined when none is configured or bundled. */
  modelPath?: string;
  /** Which ONNX file to load: auto (quantized when present), fp32, q8, fp16, … */
  embedDtype: string;
  /** Texts per embedding batch (imports, reindex). */
  embedBatch: number;
  /** Explicit project; otherwise derived from `cwd`. */
  project?: string;
  /** Working directory the project is derived from. */
  cwd: string;
  /** Explicit session id to save into. */
  session?: string;
  logLevel: LogLevel;
  logFile?: string;
  /** Largest accepted memory text, in characters. */
  maxContentChars: number;
  /** Folder holding pg_ctl/initdb/postgres for the private cluster. */
  pgBin?: string;
  /** OS user that runs the private cluster when Sage itself runs as root (PostgreSQL refuses root). */
  pgUser: string;
  /** Hooks: token budget of the SessionStart digest; largest block a hook adds, in characters (both hook events). */
  hookDigestTokens: number;
  hookMaxChars: number;
  /** SAGE_PATH_MAP "HOST=LOCAL": rewrites transcript paths (the container sees the host's ~/.claude elsewhere). */
  pathMap?: string;
  /** Claude Code's folder (CLAUDE_CONFIG_DIR, else ~/.claude): its transcripts are under `projects/`. */
  claudeDir?: string;
  /** SAGE_DISABLE: hooks do nothing. */
  disabled: boolean;
  /** How long to wait for a database connection (hooks working directly use a short one). */
  connectTimeoutMs: number;
}

/** The flags every command accepts (see main.ts). */
export interface GlobalFlags {
  "db-url"?: string;
  "embed-model"?: string;
  home?: string;
  project?: string;
  session?: string;
  "log-level"?: string;
}

/** Where a bundled model lives: beside the code in a dev checkout, inside the binary after `deno compile --include models/default`. */
export const BUNDLED_MODEL_DIR = new URL("../models/default/", import.meta.url);

export function loadConfig(
  flags: GlobalFlags = {},
  env: Record<string, string | undefined> = Deno.env.toObject(),
  /** Used when neither --log-level nor SAGE_LOG_LEVEL is set (the server logs more than a typed command). */
  defaultLogLevel: LogLevel = "info",
): Config {
  const logLevel = flags["log-level"] ?? env.SAGE_LOG_LEVEL ?? defaultLogLevel;
  if (!isLogLevel(logLevel)) {
    throw invalid(`unknown log level "${logLevel}"`, "Use one of: debug, info, warn, error, silent.");
  }
  const cwd = Deno.cwd();
  const project = nonEmpty(flags.project) ?? nonEmpty(env.SAGE_PROJECT);
  return {
    dbUrl: nonEmpty(flags["db-url"]) ?? nonEmpty(env.DATABASE_URL),
    home: nonEmpty(flags.home) ?? nonEmpty(env.SAGE_HOME) ?? defaultHome(env),
    modelPath: nonEmpty(flags["embed-model"]) ?? nonEmpty(env.SAGE_EMBED_MODEL) ?? bundledModelPath(),
    embedDtype: nonEmpty(env.SAGE_EMBED_DTYPE) ?? "auto",
    embedBatch: positiveInt("SAGE_EMBED_BATCH", env.SAGE_EMBED_BATCH, 32),
    // On the command line and in the environment, `.`, `../x` and `~/x` mean what they mean in a shell.
    project: project && normalizeProject(project, { cwd, home: env.HOME ?? env.USERPROFILE }),
    cwd,
    session: nonEmpty(flags.session) ?? nonEmpty(env.SAGE_SESSION),
    logLevel,
    logFile: nonEmpty(env.SAGE_LOG_FILE),
    maxContentChars: positiveInt("SAGE_MAX_CONTENT_CHARS", env.SAGE_MAX_CONTENT_CHARS, 200_000),
    pgBin: nonEmpty(env.SAGE_PG_BIN),
    pgUser: nonEmpty(env.SAGE_PG_USER) ?? "postgres",
    hookDigestTokens: positiveInt("SAGE_HOOK_DIGEST_TOKENS", env.SAGE_HOOK_DIGEST_TOKENS, 600),
    hookMaxChars: hookChars(env.SAGE_HOOK_MAX_CHARS),
    pathMap: nonEmpty(env.SAGE_PATH_MAP),
    claudeDir: nonEmpty(env.CLAUDE_CONFIG_DIR) ?? homeDir(env, ".claude"),
    disabled: ["1", "true", "yes"].includes((env.SAGE_DISABLE ?? "").trim().toLowerCase()),
    connectTimeoutMs: 10_000,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() ? value.trim() : undefined;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw invalid(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Claude Code drops a hook's added context above 10,000 characters: the block must stay below, with room to spare. */
export const HOOK_CHARS_LIMIT = 9_500;

function hookChars(raw: string | undefined): number {
  const n = positiveInt("SAGE_HOOK_MAX_CHARS", raw, 8_000);
  if (n < 1_000 || n > HOOK_CHARS_LIMIT) {
    throw invalid(
      `SAGE_HOOK_MAX_CHARS must be from 1000 to ${HOOK_CHARS_LIMIT} (Claude Code cuts hook output at 10000), got "${raw}"`,
    );
  }
  return n;
}

/** SAGE_HOME, or its default; usable when the rest of the configuration is broken (hooks still log there). */
export function sageHome(env: Record<string, string | undefined> = Deno.env.toObject()): string {
  return nonEmpty(env.SAGE_HOME) ?? defaultHome(env);
}

/**
 * ~/.sage for normal users. Root gets /var/lib/sage: PostgreSQL will not run as root, and the user it runs as
 * instead cannot enter /root.
 */
function defaultHome(env: Record<string, string | undefined>): string {
  if (Deno.build.os !== "windows" && Deno.uid?.() === 0) return "/var/lib/sage";
  const home = env.HOME ?? env.USERPROFILE;
  if (!home) {
    throw invalid("cannot find your home directory", "Set SAGE_HOME to the folder Sage should keep its data in.");
  }
  return `${home.replace(/[\\/]+$/, "")}/.sage`;
}

function homeDir(env: Record<string, string | undefined>, sub: string): string | undefined {
  const home = nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE);
  return home ? `${home.replace(/[\\/]+$/, "")}/${sub}` : undefined;
}

function bundledModelPath(): string | undefined {
  try {
    const path = decodeURIComponent(BUNDLED_MODEL_DIR.pathname);
    Deno.statSync(`${path}config.json`);
    return path;
  } catch {
    return undefined;
  }
}

/** A database URL without its password, for status output and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}
