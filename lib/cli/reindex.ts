import { type CommandSpec, note, out } from "./command.ts";

export const command: CommandSpec = {
  name: "reindex",
  summary:
    "Re-embed every memory with the current model (after changing SAGE_EMBED_MODEL), then drop other models' vectors.",
  usage: "reindex [--missing]",
  details:
    "Progress goes to stderr. Searches keep working meanwhile; memories not yet re-embedded are found by keyword.",
  options: { missing: { type: "boolean", help: "only memories that have no vector from the current model" } },
  async run(ctx) {
    const service = await ctx.service();
    const model = await service.loadModel();
    note(`reindex with ${model.name} (${model.dimensions} dimensions)`);
    const t0 = performance.now();
    let lastReport = 0;
    const r = await service.reindex({
      missingOnly: ctx.values.missing === true,
      onProgress: (done, total) => {
        const now = performance.now();
        if (now - lastReport < 1000 && done < total) return;
        lastReport = now;
        const rate = done / ((now - t0) / 1000);
        note(
          `reindex: ${done}/${total} (${total ? Math.round((100 * done) / total) : 100}%) ${
            rate.toFixed(0)
          } memories/s`,
        );
      },
    });
    const secs = (performance.now() - t0) / 1000;
    out(
      `re-embedded ${r.memories} memories in ${secs.toFixed(1)} s (${r.embedded} with vectors)` +
        (r.removed_models.length ? `; removed vectors of ${r.removed_models.join(", ")}` : ""),
    );
    return 0;
  },
};
