import { z } from "zod";
import { formatMemory } from "../../format.ts";
import { memoryDetailResult, ownerProject } from "../schemas.ts";
import { defineTool, READ_ONLY } from "../tool.ts";

export const getMemory = defineTool({
  name: "get_memory",
  title: "Get a memory",
  description:
    "Read one memory in full by its id (as cited, [memory:42] → 42). The memory must belong to the current project, or to the project given.",
  input: { id: z.number().int().describe("The memory id."), project: ownerProject },
  output: memoryDetailResult,
  annotations: READ_ONLY,
  async run(service, args) {
    const m = await service.get(args.id, args.project);
    return { text: formatMemory(m), data: m };
  },
});
