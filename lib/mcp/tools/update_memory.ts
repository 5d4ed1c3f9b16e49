import { z } from "zod";
import { formatMemory } from "../../format.ts";
import { KINDS } from "../../types.ts";
import { memoryResult, metadata, ownerProject } from "../schemas.ts";
import { defineTool } from "../tool.ts";

export const updateMemory = defineTool({
  name: "update_memory",
  title: "Update a memory",
  description:
    "Correct or refine a memory by id: new content, kind, tags or metadata (only what is given changes; metadata is replaced as a whole), or mark older memories it replaces (supersedes). The memory must belong to the current project, or to the project given.",
  input: {
    id: z.number().int().describe("The memory id."),
    project: ownerProject,
    content: z.string().optional().describe("The new text."),
    kind: z.enum(KINDS).optional(),
    tags: z.array(z.string()).optional().describe("The new tag list (replaces the old one)."),
    metadata,
    supersedes: z.array(z.number().int()).optional().describe(
      "Ids of older memories of the same project that this one replaces; they are marked as superseded by it.",
    ),
  },
  output: memoryResult,
  // Replacing text is not additive; repeating the same update changes nothing more.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(service, args) {
    const m = await service.update(args);
    return { text: `Updated.\n${formatMemory(m)}`, data: m };
  },
});
