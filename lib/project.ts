/**
 * Project scope: memories belong to the repository they were made in. The project id is the git root of the
 * working directory (or the directory itself outside git), written with forward slashes so the same checkout
 * gets the same id from Linux, macOS, Windows and the container's run script.
 *
 * One folder has one id, however it is spelt: `/tmp//p`, `/tmp/p/.`, `/tmp/p/` and a symlink to it are all the
 * real path `/tmp/p`, as the git root found from the working directory is. A path that does not exist here (another
 * machine's, the container host's) is written out the same way without resolving links. `~` and relative paths
 * are resolved only where there is something to resolve them against (the command line: its working directory and
 * HOME); elsewhere (a tool argument, an import file) they are refused with the reason.
 */
import { invalid } from "./errors.ts";

export function findProjectRoot(cwd: string): string {
  let dir = cwd;
  while (true) {
    try {
      Deno.statSync(`${dir}/.git`); // a folder in a clone, a file in a worktree or submodule
      return normalizeProject(dir);
    } catch {
      // not here; go up
    }
    const parent = dir.replace(/[\\/][^\\/]*$/, "");
    if (parent === dir || parent === "" || /^[A-Za-z]:$/.test(parent)) return normalizeProject(cwd);
    dir = parent;
  }
}

/** What a relative or `~` project is resolved against, when there is anything. */
export interface ProjectBase {
  cwd: string;
  home?: string;
}

/** The canonical id of a project path (see the top of this file); throws invalid_input when it has none. */
export function normalizeProject(value: string, base?: ProjectBase): string {
  let path = value.trim().replace(/\\/g, "/");
  validateProject(path);
  if (path === "~" || path.startsWith("~/")) {
    if (!base?.home) throw notAbsolute(value, "~ (a home folder) cannot be resolved here");
    path = `${base.home.replace(/\\/g, "/")}${path.slice(1)}`;
  }
  if (!isAbsolute(path)) {
    if (!base) throw notAbsolute(value, "a relative path cannot be resolved here");
    path = `${base.cwd.replace(/\\/g, "/")}/${path}`;
  }
  path = spelledOut(path);
  try {
    path = spelledOut(Deno.realPathSync(path).replace(/\\/g, "/"));
  } catch {
    // not a folder on this machine: its written-out form is its id
  }
  validateProject(path);
  return path;
}

export function validateProject(project: string): void {
  if (!project) throw invalid("project must not be empty");
  if (project.length > 512) throw invalid(`project is ${project.length} characters; the limit is 512`);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(project)) throw invalid("project must not contain control characters");
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:\//.test(path);
}

function notAbsolute(value: string, why: string) {
  return invalid(
    `project must be an absolute path; ${why}: ${JSON.stringify(value)}`,
    "Give the repository's full path, such as /home/me/repo (or leave project out for the current one).",
  );
}

/** Repeated slashes collapsed, `.` dropped, `..` applied, no trailing slash: `/a//b/./c/../` → `/a/b`. */
function spelledOut(path: string): string {
  const drive = /^[A-Za-z]:/.exec(path)?.[0] ?? "";
  const parts: string[] = [];
  for (const part of path.slice(drive.length).split("/")) {
    if (!part || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `${drive}/${parts.join("/")}`;
}

/** True when the project has opted out of capture and recall (a `.sageignore` file at its root). */
export function optedOut(project: string): boolean {
  try {
    Deno.statSync(`${project}/.sageignore`);
    return true;
  } catch {
    return false;
  }
}
