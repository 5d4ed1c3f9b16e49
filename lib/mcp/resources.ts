/** The resources: sage://status, sage://sessions, sage://memory/{id}[?project=…] (JSON). */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GetService } from "./tool.ts";

const json = (uri: URL, value: unknown) => ({
  contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(value, null, 2) }],
});

export function registerResources(server: McpServer, getService: GetService): void {
  server.registerResource("status", "sage://status", {
    title: "Sage status",
    description: "Database, model and counts, as JSON.",
    mimeType: "application/json",
  }, async (uri: URL) => json(uri, await (await getService()).status()));

  server.registerResource("sessions", "sage://sessions", {
    title: "Sessions of this project",
    description: "Recent sessions of the current project, as JSON.",
    mimeType: "application/json",
  }, async (uri: URL) => json(uri, await (await getService()).listSessions({ limit: 50 })));

  // sage://memory/42 reads a memory of the current project; sage://memory/42?project=/path/to/repo, of another.
  server.registerResource("memory", new ResourceTemplate("sage://memory/{id}", { list: undefined }), {
    title: "A memory",
    description: "One memory of the current project by id, as JSON; add ?project=<path> for another project's.",
    mimeType: "application/json",
  }, async (uri: URL, { id }: { id: string | string[] }) => {
    const project = uri.searchParams.get("project") ?? undefined;
    return json(uri, await (await getService()).get(String(id).replace(/\?.*$/, ""), project));
  });
}
