import { type CommandSpec, out } from "./command.ts";

export const command: CommandSpec = {
  name: "migrate",
  summary: "Apply pending database migrations (Sage also does this whenever it opens the database).",
  usage: "migrate",
  async run(ctx) {
    const r = await (await ctx.service()).migrate();
    out(
      r.applied.length
        ? `applied migrations ${r.applied.join(", ")}; schema is at version ${r.version}`
        : `schema is at version ${r.version}; nothing to apply`,
    );
    return 0;
  },
};
