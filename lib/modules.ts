/**
 * Loading a module when it is first needed, by a name Deno does not read ahead. A dynamic import of a literal name
 * makes Deno load that module's whole graph (for the commands: the MCP SDK, the database driver, the model runtime)
 * as soon as the file holding it loads, so every hook process and every command paid for all of them. The caller
 * builds the URL from its own `import.meta.url`. `deno compile` must be told of each such module: the Dockerfile's
 * --include list (tests/architecture_test.ts checks it names every one).
 */
export function loadLater<T>(url: URL): Promise<T> {
  return import(url.href);
}
