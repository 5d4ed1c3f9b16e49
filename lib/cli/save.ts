import { invalid } from "../errors.ts";
import { formatSave } from "../format.ts";
import { type CommandSpec, out, outJson } from "./command.ts";

export const command: CommandSpec = {
  name: "save",
  summary: "Save a memory in the current project.",
  usage: "save [text] [options]",
  details: "The text comes from the arguments, from --file, or from stdin when neither is given.",
  options: {
    kind: {
      type: "string",
      arg: "KIND",
      help: "note (default), decision, preference, fact, summary, task, reference, …",
    },
    tag: { type: "string", multiple: true, arg: "TAG", help: "a tag (repeatable)" },
    metadata: { type: "string", arg: "JSON", help: "a JSON object kept with the memory" },
    file: { type: "string", arg: "FILE", help: "read the text from this file" },
    supersedes: {
      type: "string",
      multiple: true,
      arg: "ID",
      help: "an older memory this one replaces (repeatable); it stays, marked superseded",
    },
    json: { type: "boolean", help: "print the result as JSON" },
  },
  positionals: { min: 0, max: 1000 },
  async run(ctx) {
    let content: string;
    if (ctx.values.file && ctx.positionals.length) throw invalid("give the text or --file, not both");
    if (ctx.values.file) {
      content = decodeUtf8(await Deno.readFile(ctx.values.file as string), ctx.values.file as string);
    } else if (ctx.positionals.length) content = ctx.positionals.join(" ");
    else if (!Deno.stdin.isTerminal()) content = decodeUtf8(await new Response(Deno.stdin.readable).bytes(), "stdin");
    else throw invalid("nothing to save", "Give the text as an argument, with --file, or on stdin.");
    let metadata: unknown;
    if (ctx.values.metadata !== undefined) {
      try {
        metadata = JSON.parse(ctx.values.metadata as string);
      } catch {
        throw invalid('--metadata must be a JSON object, e.g. \'{"source": "review"}\'');
      }
    }
    const result = await (await ctx.service()).saveMemory({
      content,
      kind: ctx.values.kind,
      tags: ctx.values.tag,
      metadata,
      session: ctx.config.session ?? null,
      supersedes: (ctx.values.supersedes as string[] | undefined)?.map((v) => v.trim()),
    });
    if (ctx.values.json) outJson(result);
    else out(formatSave(result));
    return 0;
  },
};

/** Strict UTF-8: undecodable bytes are an error, never silently replaced. */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalid(`${source} is not valid UTF-8 text`);
  }
}
