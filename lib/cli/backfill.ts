import type { BackfillStats } from "../memory/service.ts";
import { type CommandSpec, note, out, outJson } from "./command.ts";

export const command: CommandSpec = {
  name: "backfill",
  summary: "Import Claude Code's past conversations (its transcripts) as the hooks would have captured them.",
  usage: "backfill [DIR] [--since TIME] [--project PATH] [--dry-run] [--json]",
  details: [
    "DIR defaults to $CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects. Every turn goes to the project the hooks",
    "would file it under (the git root of the folder the session ran in), keyed by its id: running backfill again,",
    "or a hook capturing the same conversation later, updates it in place and never stores it twice. Projects with a",
    ".sageignore file are skipped; <private> text and secrets are removed as always. Progress goes to stderr.",
  ].join("\n"),
  options: {
    since: {
      type: "string",
      arg: "TIME",
      help: "only turns from then on: 2026-11-01, 2026-11-01T09:00Z, or an age (30d)",
    },
    project: { type: "string", arg: "PATH", help: "only transcripts of this project (its git root, absolute)" },
    "dry-run": { type: "boolean", help: "count what would be stored; write nothing" },
    json: { type: "boolean", help: "print the summary as one JSON document" },
  },
  positionals: { min: 0, max: 1 },
  async run(ctx) {
    const service = await ctx.service();
    let last = 0;
    const stats = await service.backfill({
      dir: ctx.positionals[0],
      since: ctx.values.since,
      project: ctx.values.project,
      dryRun: ctx.values["dry-run"] === true,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < 1000 && p.transcripts < p.total) return;
        last = now;
        const rate = p.seconds > 0 ? Math.round(p.turns / p.seconds) : 0;
        note(`backfill: ${p.transcripts}/${p.total} transcripts, ${p.turns} turns, ${rate} turns/s`);
      },
    });
    if (ctx.values.json) outJson(stats);
    else out(summary(stats));
    return 0;
  },
};

function summary(s: BackfillStats): string {
  const t = s.transcripts;
  const why = [
    [t.subagent, "subagent"],
    [t.opted_out, "opted out by .sageignore"],
    [t.other_project, "other projects"],
    [t.older, "not changed since --since"],
    [t.unreadable, "unreadable"],
  ].filter(([n]) => n).map(([n, w]) => `${n} ${w}`).join(", ");
  const verb = s.dry_run ? "would be " : "";
  const projects = Object.entries(s.projects).sort((a, b) => b[1] - a[1]);
  const rate = s.seconds > 0 ? Math.round(s.turns.found / s.seconds) : 0;
  return [
    `${s.dry_run ? "dry run, nothing written: " : ""}transcripts from ${s.dir}`,
    `  ${t.found} found, ${t.read} read, ${t.skipped} skipped${why ? ` (${why})` : ""}`,
    `turns: ${s.turns.found} (${s.turns.saved} ${verb}saved, ${s.turns.updated} ${verb}updated, ` +
    `${s.turns.unchanged} unchanged${s.turns.failed ? `, ${s.turns.failed} refused: see the log` : ""})`,
    `projects: ${projects.length}`,
    ...projects.map(([p, n]) => `  ${p}: ${n} turns`),
    `${s.seconds.toFixed(1)} s, ${rate} turns/s`,
  ].join("\n");
}
