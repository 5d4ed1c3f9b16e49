/** Small file-system questions several layers ask. */

/** Whether anything exists at `path` (a file, a folder, a socket…). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
