import { z } from "zod";
import { contextResult, filters } from "../schemas.ts";
import { defineTool, READ_ONLY } from "../tool.ts";

export const getContext = defineTool({
  name: "get_context",
  title: "Recall context",
  description:
    "Get the memories most relevant to a topic as one block to read before working on it: dated, citable as [memory:ID], oldest first, within a token budget. Use it at the start of a task or when the user refers to earlier work.",
  input: {
    query: z.string().describe("The topic or task at hand."),
    max_results: z.number().int().optional().describe("At most this many memories, 1–50 (default 8)."),
    token_budget: z.number().int().optional().describe(
      "Approximate size limit of the block in tokens, 100–32000 (default 1500).",
    ),
    ...filters,
  },
  output: contextResult,
  annotations: READ_ONLY,
  async run(service, args) {
    const r = await service.context(args);
    const text = r.text || `No memories relevant to "${r.query}".${r.warnings.map((w) => `\nNote: ${w}.`).join("")}`;
    return { text, data: r };
  },
});
