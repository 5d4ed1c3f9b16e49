import { invalid } from "../errors.ts";
import { checkId } from "../memory/validate.ts";
import { type CommandSpec, note, out } from "./command.ts";

export const command: CommandSpec = {
  name: "delete",
  summary: "Delete memories by id (the ids `sage search` and `sage view` show).",
  usage: "delete <id>... [--yes]",
  details: "One id is deleted as given; several need --yes. Ids are unique across projects.",
  options: {
    yes: { type: "boolean", short: "y", help: "confirm deleting more than one memory" },
  },
  positionals: { min: 1, max: 100_000 },
  async run(ctx) {
    const ids = [...new Set(ctx.positionals.map((p) => checkId(p.replace(/^#/, ""), "id")))];
    if (ids.length > 1 && ctx.values.yes !== true) {
      throw invalid(`this would delete ${ids.length} memories; nothing was deleted`, "Add --yes to delete them.");
    }
    // Ids the user typed, from `sage view` of any project: they name their memories wherever those are.
    const { deleted, not_found } = await (await ctx.service()).delete({ ids, all_projects: true, confirm: true });
    if (deleted.length) {
      out(`deleted ${deleted.length === 1 ? "memory" : `${deleted.length} memories:`} ${deleted.join(" ")}`);
    }
    if (not_found.length) note(`sage: no memory with id ${not_found.join(", ")}`);
    return not_found.length ? 1 : 0;
  },
};
