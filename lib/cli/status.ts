import { formatStatus } from "../format.ts";
import { type CommandSpec, out, outJson } from "./command.ts";

export const command: CommandSpec = {
  name: "status",
  summary: "Show the database and pgvector versions, the embedding model, and memory and session counts.",
  usage: "status [--json]",
  details: "Exits with 1 when the database cannot be reached.",
  options: { json: { type: "boolean", help: "print one JSON document" } },
  async run(ctx) {
    const status = await (await ctx.service()).status({ waitForModel: true });
    if (ctx.values.json) outJson(status);
    else out(formatStatus(status));
    return (status.database as { connected: boolean }).connected ? 0 : 1;
  },
};
