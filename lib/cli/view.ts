/**
 * `sage view`: writes one self-contained HTML page with the memories of the project (or all projects) and opens
 * it in the browser. No server, no port: the page holds its data and makes no request (lib/view/page.ts).
 */
import { basename, dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { invalid } from "../errors.ts";
import { shortHash } from "../text/hash.ts";
import type { MemoryService } from "../memory/service.ts";
import { checkTime } from "../memory/validate.ts";
import { renderPage, type ViewData } from "../view/page.ts";
import { type CommandSpec, intOption, note } from "./command.ts";

export interface ViewOptions {
  /** undefined: the service's current project. */
  project?: string;
  allProjects?: boolean;
  /** Keep only the newest N memories. */
  limit?: number;
  /** Keep only memories created at or after this time. */
  since?: Date;
  /** How the user runs Sage, for the commands the page copies. */
  command?: string;
}

/** The page's data: the scope's memories (lib/memory/browse.ts), in the page's shape. */
export async function loadViewData(service: MemoryService, options: ViewOptions = {}): Promise<ViewData> {
  const r = await service.browse({
    project: options.project,
    all_projects: options.allProjects ? true : undefined,
    since: options.since,
    limit: options.limit,
  });
  return {
    generated_at: new Date().toISOString(),
    scope: r.scope,
    total: r.total,
    included: r.memories.length,
    sessions: r.sessions.map(({ current: _, ...s }) => s),
    memories: r.memories,
    command: options.command,
  };
}

export const command: CommandSpec = {
  name: "view",
  summary: "Write a page to browse, search and prune memories, and open it in the browser.",
  usage: "view [--all-projects] [--output FILE | --output -] [--no-open] [--limit N] [--since TIME]",
  details: [
    "One self-contained HTML file: data, styles and script inline; no server, no port, no request of any kind.",
    "Default file: $SAGE_HOME/view/<project>.html (all-projects.html with --all-projects), readable only by you.",
    "The page changes nothing: to delete a memory it gives the command to run (sage delete <id>).",
  ].join("\n"),
  options: {
    "all-projects": { type: "boolean", help: "every project, not only the current one" },
    output: { type: "string", short: "o", arg: "FILE", help: "write the page here; - writes it to stdout" },
    "no-open": { type: "boolean", help: "do not open the page in the browser" },
    limit: { type: "string", arg: "N", help: "only the newest N memories (the page says how many it left out)" },
    since: { type: "string", arg: "TIME", help: "only memories created since: 2026-11-01, 2026-11-01T09:00Z, or 30d" },
    command: { type: "string", arg: "TEXT", help: 'how you run Sage, for the commands the page copies ("sage")' },
  },
  async run(ctx) {
    // Every flag is checked before anything is read or written.
    const limit = intOption(ctx.values, "limit");
    if (limit !== undefined && limit < 1) throw invalid("--limit must be at least 1");
    const since = checkTime("--since", ctx.values.since);
    const allProjects = ctx.values["all-projects"] === true;
    if (allProjects && ctx.values.project !== undefined) throw invalid("give --project or --all-projects, not both");
    const commandText = ctx.values.command as string | undefined;
    if (commandText !== undefined && !commandText.trim()) throw invalid("--command must not be empty");
    const output = ctx.values.output as string | undefined;
    if (output === "") throw invalid("--output needs a file name, or - for stdout");
    const toStdout = output === "-";
    const path = toStdout ? null : output ? await checkTarget(resolve(output)) : null;

    const service = await ctx.service();
    const data = await loadViewData(service, { allProjects, limit, since, command: commandText?.trim() });
    const page = new TextEncoder().encode(renderPage(data));
    const counted = data.included === data.total
      ? `${data.total} memories`
      : `${data.included} of ${data.total} memories (the newest)`;
    if (toStdout) {
      for (let off = 0; off < page.length;) off += await Deno.stdout.write(page.subarray(off));
      note(`sage view: ${counted} of ${data.scope}, written to stdout`);
      return 0;
    }
    const target = path ?? await defaultTarget(ctx.config.home, allProjects ? null : service.project);
    await writePrivate(target, page);
    note(`sage view: ${counted} of ${data.scope}, written to ${target}`);
    if (ctx.values["no-open"] !== true) {
      const problem = await openInBrowser(target);
      if (problem) note(`Could not open a browser (${problem}). Open this in one: ${pathToFileURL(target).href}`);
    }
    return 0;
  },
};

/** A file we may write: not a folder, in a folder that exists. */
async function checkTarget(path: string): Promise<string> {
  const info = await Deno.stat(path).catch(() => null);
  if (info?.isDirectory) throw invalid(`--output ${path} is a folder; give a file name`);
  const parent = await Deno.stat(dirname(path)).catch(() => null);
  if (!parent?.isDirectory) throw invalid(`--output: the folder ${dirname(path)} does not exist`);
  return path;
}

/** $SAGE_HOME/view/<project name>-<hash>.html (one file per project, so a new run refreshes an open tab). */
async function defaultTarget(home: string, project: string | null): Promise<string> {
  const dir = `${home}/view`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o700);
  if (project === null) return `${dir}/all-projects.html`;
  const name = basename(project).replace(/[^\w.-]+/g, "_").replace(/^[.]+/, "").slice(0, 40) || "project";
  return `${dir}/${name}-${shortHash(project)}.html`;
}

/** Writes a file only its owner can read, atomically: a reader never sees half a page. */
async function writePrivate(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${dirname(path)}/.${basename(path)}.${Deno.pid}.partial`;
  try {
    await Deno.remove(temp).catch(() => {}); // a leftover would keep its own mode
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

/** Opens the page with the system's opener; returns what went wrong, or null. */
async function openInBrowser(path: string): Promise<string | null> {
  const [cmd, args] = Deno.build.os === "darwin"
    ? ["open", [path]]
    : Deno.build.os === "windows"
    ? ["cmd", ["/c", "start", "", path]]
    : ["xdg-open", [path]];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
  } catch (err) {
    return err instanceof Deno.errors.NotFound ? `${cmd} is not installed` : (err as Error).message;
  }
  // Openers usually return at once; one that stays (it became the browser) is left running.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([child.status, new Promise<null>((r) => timer = setTimeout(() => r(null), 3000))]);
  clearTimeout(timer);
  if (status === null) {
    child.unref();
    return null;
  }
  return status.success ? null : `${cmd} exited with code ${status.code}`;
}
