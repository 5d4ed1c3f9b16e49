import { type CommandSpec, note, out, outJson } from "./command.ts";
import { decodeUtf8 } from "./save.ts";

export const command: CommandSpec = {
  name: "import",
  summary: "Import memories from a JSONL file (from `sage export`, or records you wrote).",
  usage: "import <file | -> [--json]",
  details: [
    "Each line is a JSON object. Memory records need only `content`; optional: id, project, session, kind, tags,",
    'metadata, created_at, updated_at (kept exactly). Session records ({"type":"session", "id", …}) set session',
    "names and times. The whole file is validated first: one bad line and nothing is stored. Importing the same",
    "file again changes nothing.",
  ].join("\n"),
  options: { json: { type: "boolean", help: "print the counts as JSON" } },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const source = ctx.positionals[0];
    const bytes = source === "-" ? await new Response(Deno.stdin.readable).bytes() : await Deno.readFile(source);
    const lines = decodeUtf8(bytes, source === "-" ? "stdin" : source).split(/\r?\n/);
    const stats = await (await ctx.service()).importLines(
      lines,
      (done, total) => note(`import: ${done}/${total} memories`),
    );
    if (ctx.values.json) outJson(stats);
    else {
      out(
        `read ${stats.read} records: ${stats.imported} memories imported, ${stats.duplicates} already present, ` +
          `${stats.sessions} sessions, ${stats.remapped} given new ids (their id was taken)`,
      );
    }
    return 0;
  },
};
