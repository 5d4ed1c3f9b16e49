/** The prompts (Claude Code shows them as /mcp__sage__save, /mcp__sage__status, /mcp__sage__recall). */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { describeError } from "../errors.ts";
import { formatStatus } from "../format.ts";
import type { GetService } from "./tool.ts";

const userText = (text: string) => ({
  messages: [{ role: "user" as const, content: { type: "text" as const, text } }],
});

export function registerPrompts(server: McpServer, getService: GetService): void {
  server.registerPrompt("save", {
    title: "Save this conversation to memory",
    description: "Save the important points of this conversation to Sage.",
    argsSchema: { focus: z.string().optional().describe("What to concentrate on (optional).") },
  }, ({ focus }: { focus?: string }) =>
    userText(
      [
        "Review our conversation so far and save what a future session on this project should know, using Sage's save_memory tool:",
        '- decisions and their reasons (kind "decision")',
        '- my preferences about code, tools and style (kind "preference")',
        '- facts learned about the project, its setup and its pitfalls (kind "fact")',
        '- open threads and next steps (kind "task")',
        "Write each memory self-contained (readable without this conversation), one idea each, with a few tags. Do not save secrets. Skip what is already saved. Then list what you saved with the ids.",
        focus ? `Focus on: ${focus}` : "",
      ].filter(Boolean).join("\n"),
    ));

  server.registerPrompt("status", {
    title: "Sage status",
    description: "Show Sage's health: database, model, memory counts.",
  }, async () =>
    userText(
      `Here is the status of Sage, my memory server. Summarise it in a few lines and point out anything that needs fixing.\n\n${
        formatStatus(await (await getService()).status())
      }`,
    ));

  server.registerPrompt("recall", {
    title: "Recall a topic",
    description: "Bring back what Sage remembers about a topic.",
    argsSchema: { topic: z.string().describe("What to recall.") },
  }, async ({ topic }: { topic: string }) => {
    let block: string;
    try {
      const ctx = await (await getService()).context({ query: topic, token_budget: 3000 });
      block = ctx.text || `(Sage has no memories about "${topic}" in this project.)`;
    } catch (err) {
      block = `(Sage could not search: ${describeError(err)})`;
    }
    return userText(
      `What do we know about "${topic}" from earlier sessions? Use these memories from Sage, cite them as [memory:ID], and say what is missing.\n\n${block}`,
    );
  });
}
