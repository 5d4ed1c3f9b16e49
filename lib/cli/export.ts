import { invalid } from "../errors.ts";
import { type CommandSpec, note } from "./command.ts";

export const command: CommandSpec = {
  name: "export",
  summary: "Export memories of the current project (or a session, or all projects).",
  usage: "export [--format jsonl|markdown] [--output FILE] [options]",
  details:
    "JSONL is lossless: `sage import` of the file into an empty database gives back every memory exactly (ids, times, tags, metadata, text).",
  options: {
    format: { type: "string", arg: "FORMAT", help: "jsonl (default) or markdown" },
    output: { type: "string", short: "o", arg: "FILE", help: "write to this file instead of stdout" },
    "all-projects": { type: "boolean", help: "every project" },
    session: { type: "string", arg: "ID", help: "only this session" },
  },
  async run(ctx) {
    const format = (ctx.values.format as string | undefined) ?? "jsonl";
    if (format !== "jsonl" && format !== "markdown") {
      throw invalid(`--format must be jsonl or markdown, got "${format}"`);
    }
    const target = ctx.values.output as string | undefined;
    // Written to a temporary file first, so a failed export never leaves half a file under the real name.
    const file = target ? await Deno.open(`${target}.partial`, { write: true, create: true, truncate: true }) : null;
    const enc = new TextEncoder();
    const sink = file ?? Deno.stdout;
    let lines = 0;
    try {
      for await (
        const line of (await ctx.service()).exportLines({
          format,
          all_projects: ctx.values["all-projects"] === true ? true : undefined,
          session: ctx.values.session,
        })
      ) {
        const bytes = enc.encode(format === "jsonl" ? `${line.text}\n` : line.text);
        for (let off = 0; off < bytes.length;) off += await sink.write(bytes.subarray(off));
        lines++;
      }
    } catch (err) {
      file?.close();
      if (target) await Deno.remove(`${target}.partial`).catch(() => {});
      throw err;
    }
    if (file && target) {
      file.close();
      await Deno.rename(`${target}.partial`, target);
      note(`exported ${lines} records to ${target}`);
    }
    return 0;
  },
};
