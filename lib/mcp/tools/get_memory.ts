import { z } from "zod";
import { formatMemory } from "../../format.ts";
import { memoryDetailResult } from "../schemas.ts";
import { defineTool, READ_ONLY } from "../tool.ts";

export const getMemory = defineTool({
  name: "get_memory",
  title: "Get a memory",
  description: "Read one memory in full by its id (as cited, [memory:42] → 42).",
  input: { id: z.number().int().describe("The memory id.") },
  output: memoryDetailResult,
  annotations: READ_ONLY,
  async run(service, args) {
    const m = await service.get(args.id);
    return { text: formatMemory(m), data: m };
  },
});
