import { z } from "zod";
import { formatSave } from "../../format.ts";
import { metadata, project, saveResult } from "../schemas.ts";
import { defineTool } from "../tool.ts";

export const saveConversation = defineTool({
  name: "save_conversation",
  title: "Save a conversation turn",
  description:
    "Store one exchange (the user's prompt and your answer) in long-term memory, in the current session. Use it for turns worth finding again later; routine turns are captured automatically when Sage's hooks are installed. Returns the memory id; saving the same exchange twice returns the existing id.",
  input: {
    user_prompt: z.string().describe("What the user asked or said."),
    assistant_response: z.string().describe("What you answered (summarise long tool output)."),
    session: z.string().optional().describe("Session id; defaults to the current session."),
    project,
    tags: z.array(z.string()).optional().describe('Labels for filtering later, e.g. ["auth", "bug"].'),
    metadata,
  },
  output: saveResult,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(service, args) {
    const r = await service.saveConversation(args);
    return { text: formatSave(r), data: r };
  },
});
