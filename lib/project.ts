/**
 * Project scope: memories belong to the repository they were made in. The project id is the git root of the
 * working directory (or the directory itself outside git), written with forward slashes so the same checkout
 * gets the same id from Linux, macOS, Windows and the container's run script.
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

export function normalizeProject(value: string): string {
  const project = value.trim().replace(/\\/g, "/").replace(/(.)\/+$/, "$1");
  validateProject(project);
  return project;
}

export function validateProject(project: string): void {
  if (!project) throw invalid("project must not be empty");
  if (project.length > 512) throw invalid(`project is ${project.length} characters; the limit is 512`);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(project)) throw invalid("project must not contain control characters");
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
