import { formatHits } from "../format.ts";
import { type CommandSpec, FILTER_OPTIONS, filterArgs, intOption, out, outJson } from "./command.ts";

export const command: CommandSpec = {
  name: "search",
  summary: "Search memories (hybrid keyword + semantic by default) in the current project.",
  usage: "search <query> [options]",
  options: {
    limit: { type: "string", short: "n", arg: "N", help: "how many hits, 1-100 (default 10)" },
    mode: { type: "string", arg: "MODE", help: "hybrid (default), keyword or vector" },
    ...FILTER_OPTIONS,
    json: {
      type: "boolean",
      help:
        "print one JSON document: the ranked hits with text, id, score, time, project, session, kind, tags, metadata",
    },
  },
  positionals: { min: 1, max: 100 },
  async run(ctx) {
    const result = await (await ctx.service()).search({
      query: ctx.positionals.join(" "),
      limit: intOption(ctx.values, "limit"),
      mode: ctx.values.mode,
      ...filterArgs(ctx.values),
    });
    if (ctx.values.json) outJson(result);
    else out(formatHits(result));
    return 0;
  },
};
