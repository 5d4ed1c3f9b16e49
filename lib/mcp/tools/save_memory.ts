import { z } from "zod";
import { formatSave } from "../../format.ts";
import { KINDS } from "../../types.ts";
import { metadata, project, saveResult } from "../schemas.ts";
import { defineTool } from "../tool.ts";

export const saveMemory = defineTool({
  name: "save_memory",
  title: "Save a memory",
  description:
    "Store a note, decision, preference, fact, summary, task or reference in long-term memory for this project. Write it self-contained (a future session reads it without this conversation) and keep one idea per memory. Returns the memory id; identical content is stored once.",
  input: {
    content: z.string().describe("The text to remember."),
    kind: z.enum(KINDS).optional().describe(
      'What it is; default "note". decision: a choice and its reason; preference: how the user likes things; fact: something true about the project; task: open work.',
    ),
    tags: z.array(z.string()).optional().describe("Labels for filtering later."),
    project,
    session: z.string().optional().describe("Session id; defaults to the current session."),
    metadata,
    supersedes: z.array(z.number().int()).optional().describe(
      "Ids of older memories this one replaces (a value that changed: a new port, a library swapped, a moved date). They stay, marked as superseded, and rank below it. A note that restates an older one with new numbers or names is recognised without this.",
    ),
  },
  output: saveResult,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(service, args) {
    const r = await service.saveMemory(args);
    return { text: formatSave(r), data: r };
  },
});
