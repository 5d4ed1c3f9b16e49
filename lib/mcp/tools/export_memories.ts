import { z } from "zod";
import { invalid } from "../../errors.ts";
import { allProjects, exportResult, project, session } from "../schemas.ts";
import { defineTool, READ_ONLY } from "../tool.ts";

/** Memories exported between two progress notifications. */
const PROGRESS_EVERY = 250;

export const exportMemories = defineTool({
  name: "export_memories",
  title: "Export memories",
  description:
    "Export memories of the current project (or a session, or all projects) as JSONL (lossless, re-importable with `sage import`) or Markdown (for reading). At most max_memories are returned here; the `sage export` command has no limit.",
  input: {
    format: z.enum(["jsonl", "markdown"]).optional().describe("jsonl (default) or markdown."),
    project,
    all_projects: allProjects.describe("Export every project."),
    session,
    max_memories: z.number().int().optional().describe("Stop after this many memories, 1–10000 (default 1000)."),
  },
  output: exportResult,
  annotations: READ_ONLY,
  async run(service, args, call) {
    const max = args.max_memories ?? 1000;
    if (!Number.isInteger(max) || max < 1 || max > 10_000) {
      throw invalid("max_memories must be an integer from 1 to 10000");
    }
    // Counted only when the client asked for progress: the total its notifications carry.
    const total = call.wantsProgress ? Math.min(max, await service.exportCount(args)) : undefined;
    await call.progress(0, total, `exporting ${total} memories`);
    const lines: string[] = [];
    let memories = 0;
    let truncated = false;
    for await (const line of service.exportLines(args)) {
      if (line.memory && memories === max) {
        truncated = true;
        break;
      }
      if (line.memory && ++memories % PROGRESS_EVERY === 0) {
        await call.progress(memories, total, `${memories} of ${total} memories`);
      }
      lines.push(line.text);
    }
    if (memories % PROGRESS_EVERY) await call.progress(memories, total, `${memories} of ${total} memories`);
    const format = args.format ?? "jsonl";
    const text = format === "markdown" ? lines.join("") : lines.join("\n");
    const note = truncated ? `\n\n(Stopped at ${max} memories; use \`sage export\` for everything.)` : "";
    return { text: text + note, data: { format, memories, truncated } };
  },
});
