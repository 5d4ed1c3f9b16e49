/**
 * `sage selftest`: proves that this build can embed and analyse text, with no database and no network (the use case
 * is lib/memory/selftest.ts). The image build runs it on the compiled binary, so a broken native add-on or a missing
 * model fails the build instead of a user's first save.
 */
import { selftest } from "../memory/selftest.ts";
import { VERSION } from "../version.ts";
import { type CommandSpec, intOption, out } from "./command.ts";

export const command: CommandSpec = {
  name: "selftest",
  summary: "Check that the embedding model loads and embeds Chinese and English, and that keyword analysis works.",
  usage: "selftest [--dimensions N]",
  details: "Needs no database and no network. Prints a short report; exits 1 with the reason when something is broken.",
  options: {
    dimensions: { type: "string", arg: "N", help: "the width the model must have (default: config.json's)" },
  },
  async run(ctx) {
    const r = await selftest(ctx.config, intOption(ctx.values, "dimensions"));
    const ms = (n: number) => `${Math.round(n)} ms`;
    const names = Object.keys(r.terms);
    out(`sage ${VERSION} selftest`);
    out(`model      ${r.model.name} (${r.model.dtype}) from ${r.model.path}: loaded in ${ms(r.loadMs)}`);
    out(
      `embedding  ${names.join(" + ")}: ${r.model.dimensions} dimensions, finite, non-zero, ` +
        `cosine ${r.cosine.toFixed(3)} (${ms(r.embedMs)})`,
    );
    const preview = (t: string[]) => `${[...new Set(t)].slice(0, 4).join(", ")}, …`;
    out(`keywords   ${names.map((n) => `${n} ${r.terms[n].length} terms (${preview(r.terms[n])})`).join(", ")}`);
    out("ok");
    return 0;
  },
};
