/** What every CLI command module exports, and the context it runs with. */
import type { Config } from "../config.ts";
import { invalid } from "../errors.ts";
import type { MemoryService } from "../memory/service.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Shown in --help. */
  help: string;
  /** Placeholder for the value in --help. */
  arg?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage line after `sage`, e.g. "search <query> [options]". */
  usage: string;
  /** Extra paragraphs for `sage <command> --help`. */
  details?: string;
  options?: Record<string, OptionSpec>;
  /** How many positional arguments are accepted. */
  positionals?: { min: number; max: number };
  /** Every failure (even bad configuration) exits 0: for commands Claude Code runs as hooks. */
  failOpen?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandContext {
  config: Config;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** The memory service (built by lib/app.ts on first use; closed by the dispatcher). */
  service(): Promise<MemoryService>;
}

/** Writes a line to stdout (results) — never used by `serve`. */
export function out(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`));
}

/** Writes a line to stderr (progress, notes). */
export function note(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`));
}

/** Pretty JSON on stdout: the one document `--json` promises. */
export function outJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Options shared by search-like commands. */
export const FILTER_OPTIONS: Record<string, OptionSpec> = {
  "all-projects": { type: "boolean", help: "every project, not only the current one" },
  session: { type: "string", arg: "ID", help: "only this session" },
  tag: { type: "string", multiple: true, arg: "TAG", help: "only memories with this tag (repeatable: all must match)" },
  kind: { type: "string", multiple: true, arg: "KIND", help: "only this kind (repeatable: any matches)" },
  after: { type: "string", arg: "TIME", help: "created at or after: 2026-11-01, 2026-11-01T09:00Z, or an age like 7d" },
  before: { type: "string", arg: "TIME", help: "created before (same formats)" },
};

export function filterArgs(values: CommandContext["values"]) {
  return {
    all_projects: values["all-projects"] === true ? true : undefined,
    session: values.session as string | undefined,
    tags: values.tag as string[] | undefined,
    kinds: values.kind as string[] | undefined,
    after: values.after as string | undefined,
    before: values.before as string | undefined,
  };
}

/** A numeric option, or a clear error. */
export function intOption(values: CommandContext["values"], name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
    throw invalid(`--${name} must be a whole number, got "${v}"`);
  }
  return n;
}
