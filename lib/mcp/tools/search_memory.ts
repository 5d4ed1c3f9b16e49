import { z } from "zod";
import { formatHits } from "../../format.ts";
import { filters, searchResult } from "../schemas.ts";
import { defineTool, READ_ONLY } from "../tool.ts";

export const searchMemory = defineTool({
  name: "search_memory",
  title: "Search memories",
  description:
    "Find memories by meaning and by exact words (names, identifiers, numbers), in Chinese or English. Searches the current project unless all_projects is true. Returns ranked hits with id, score, time, kind, tags and text.",
  input: {
    query: z.string().describe("What to look for, in natural language or keywords."),
    limit: z.number().int().optional().describe("How many hits, 1–100 (default 10)."),
    mode: z.enum(["hybrid", "keyword", "vector"]).optional().describe(
      "hybrid (default) fuses keyword and semantic search; keyword or vector forces one.",
    ),
    ...filters,
  },
  output: searchResult,
  annotations: READ_ONLY,
  async run(service, args) {
    const r = await service.search(args);
    return { text: formatHits(r), data: r };
  },
});
