import { z } from "zod";
import { deleteResult, filters } from "../schemas.ts";
import { defineTool } from "../tool.ts";

export const deleteMemory = defineTool({
  name: "delete_memory",
  title: "Delete memories",
  description:
    "Delete one memory by id, or several by ids or filters (session, tags, kinds, time range, project). Ids act on memories of the current project, of the project given with them, or of any project with all_projects: true; otherwise an id from another project is reported as not found. Deleting more than one requires confirm: true; without it nothing is deleted and the error says how many would be.",
  input: {
    id: z.number().int().optional().describe("Delete this one memory."),
    ids: z.array(z.number().int()).optional().describe("Delete these memories."),
    ...filters,
    project: filters.project.describe(
      "With id or ids: the project they belong to (default: the current one). Without: delete by this project.",
    ),
    confirm: z.boolean().optional().describe("Must be true to delete more than one memory."),
  },
  output: deleteResult,
  // Filters may match memories saved since the last call: repeating it is not guaranteed to change nothing.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(service, args) {
    const r = await service.delete(args);
    const n = r.deleted.length;
    const missing = r.not_found.length ? ` Not found: ${r.not_found.join(", ")}.` : "";
    return {
      text: `Deleted ${n} memor${n === 1 ? "y" : "ies"}${n ? `: ${r.deleted.join(", ")}` : ""}.${missing}`,
      data: r,
    };
  },
});
