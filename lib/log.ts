/**
 * The one logger. Everything goes to stderr (stdout belongs to JSON-RPC in `serve` mode) or, for hooks,
 * to a log file only, because Claude Code may show a hook's stderr to the user.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

interface LogState {
  level: LogLevel;
  file?: string;
  stderr: boolean;
}

const state: LogState = { level: "info", stderr: true };
const encoder = new TextEncoder();

export function configureLog(options: Partial<LogState>): void {
  Object.assign(state, options);
}

export function isLogLevel(value: string): value is LogLevel {
  return value in ORDER;
}

function write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < ORDER[state.level]) return;
  const extra = fields && Object.keys(fields).length ? " " + safeJson(fields) : "";
  const line = `sage ${level}: ${message}${extra}\n`;
  if (state.stderr) {
    try {
      Deno.stderr.writeSync(encoder.encode(line));
    } catch {
      // stderr closed: nothing sensible left to do
    }
  }
  if (state.file) {
    try {
      Deno.writeTextFileSync(state.file, `${new Date().toISOString()} ${line}`, { append: true });
    } catch {
      // a log file we cannot write must never break the caller
    }
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (v instanceof Error ? v.message : v));
  } catch {
    return String(value);
  }
}

export const log = {
  debug: (message: string, fields?: Record<string, unknown>) => write("debug", message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write("info", message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write("warn", message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write("error", message, fields),
};
