/**
 * Human- and model-readable text for use-case results, shared by the MCP tools (their text content) and the CLI
 * (its non-JSON output), so both read the same. Only edges import this file.
 */
import { formatDate } from "./text/time.ts";
import type { Memory, MemoryDetail, SaveResult, SearchResult, Session } from "./types.ts";

export function formatSave(r: SaveResult): string {
  const lines = [
    r.duplicate
      ? `Already stored as memory ${r.id} (same content in ${r.project}); nothing new was saved.`
      : `Saved memory ${r.id} (${r.kind}) in ${r.project}${r.session ? `, session ${r.session}` : ""}.`,
  ];
  if (r.redactions.length) lines.push(`Removed before storing: ${[...new Set(r.redactions)].join(", ")}.`);
  if (r.supersedes?.length) {
    lines.push(`Supersedes ${r.supersedes.map((id) => `memory ${id}`).join(", ")} (older value; kept, ranked below).`);
  }
  for (const w of r.warnings) lines.push(`Note: ${w}.`);
  return lines.join("\n");
}

export function formatHits(r: SearchResult): string {
  const scope = r.project === null ? "all projects" : r.project;
  if (!r.hits.length) {
    return [`No memories match "${r.query}" in ${scope}.`, ...r.warnings.map((w) => `Note: ${w}.`)].join("\n");
  }
  const out = [`${r.hits.length} memor${r.hits.length === 1 ? "y" : "ies"} for "${r.query}" in ${scope} (${r.mode}):`];
  r.hits.forEach((h, i) => {
    const tags = h.tags.length ? ` · ${h.tags.map((t) => `#${t}`).join(" ")}` : "";
    const where = r.project === null ? ` · ${h.project}` : "";
    const old = h.superseded_by ? ` · superseded by [memory:${h.superseded_by}]` : "";
    out.push(
      `\n${i + 1}. [memory:${h.id}] score ${h.score.toFixed(3)} · ${
        formatDate(h.created_at)
      } · ${h.kind}${tags}${where}${old}`,
    );
    out.push(indent(h.content));
  });
  for (const w of r.warnings) out.push(`\nNote: ${w}.`);
  return out.join("\n");
}

export function formatMemory(m: Memory | MemoryDetail): string {
  const lines = [
    `[memory:${m.id}] ${m.kind} · created ${formatDate(m.created_at)}${
      m.updated_at !== m.created_at ? ` · updated ${formatDate(m.updated_at)}` : ""
    }`,
    `project: ${m.project}${m.session ? ` · session: ${m.session}` : ""}`,
  ];
  if (m.superseded_by) lines.push(`superseded by [memory:${m.superseded_by}] (a newer value)`);
  if (m.tags.length) lines.push(`tags: ${m.tags.join(", ")}`);
  if (Object.keys(m.metadata).length) lines.push(`metadata: ${JSON.stringify(m.metadata)}`);
  if ("embedding" in m) {
    lines.push(
      `vector: ${m.embedding ? `${m.embedding.chunks} chunk(s), ${m.embedding.model}` : "none for the current model"}`,
    );
  }
  lines.push("", m.content);
  return lines.join("\n");
}

export function formatSessions(list: Session[]): string {
  if (!list.length) return "No sessions yet.";
  return list.map((s) =>
    `${s.current ? "* " : "  "}${s.id}${s.name ? ` "${s.name}"` : ""} · ${s.memories} memories · last used ${
      formatDate(s.updated_at)
    } · ${s.project}`
  ).join("\n");
}

export function formatSession(s: Session & { kinds?: Record<string, number> }): string {
  const kinds = s.kinds && Object.keys(s.kinds).length
    ? ` (${Object.entries(s.kinds).map(([k, n]) => `${n} ${k}`).join(", ")})`
    : "";
  return [
    `Session ${s.id}${s.name ? ` "${s.name}"` : ""}${s.current ? " (current)" : ""}`,
    `project: ${s.project}`,
    `memories: ${s.memories}${kinds}`,
    `created ${formatDate(s.created_at)} · last used ${formatDate(s.updated_at)}`,
  ].join("\n");
}

export function formatStatus(s: Record<string, unknown>): string {
  const db = s.database as Record<string, unknown>;
  const model = s.model as Record<string, unknown>;
  const counts = s.counts as Record<string, unknown> | undefined;
  const lines = [
    `Sage ${s.version} · up ${s.uptime_seconds}s`,
    `project: ${s.project}`,
    `session: ${s.session ?? "none yet"}`,
  ];
  lines.push(
    db.connected
      ? `database: ${db.location} · PostgreSQL ${db.server_version} · pgvector ${db.pgvector_version} · schema v${db.schema_version}`
      : `database: NOT CONNECTED: ${db.error}`,
  );
  const m = model.state === "ready"
    ? `${model.name} (${model.dtype}, ${model.dimensions} dimensions, loaded in ${model.loadMs} ms)`
    : model.state === "loading"
    ? `loading ${model.path}`
    : `${model.state}: ${model.error ?? ""}`;
  lines.push(`model: ${m}`);
  if (counts) {
    const kinds = Object.entries(counts.kinds_in_project as Record<string, number>).map(([k, n]) => `${n} ${k}`).join(
      ", ",
    );
    lines.push(
      `memories: ${counts.memories_in_project} in this project${kinds ? ` (${kinds})` : ""}, ${counts.memories} in all`,
      `sessions: ${counts.sessions_in_project} in this project, ${counts.sessions} in all`,
    );
    if (counts.with_current_vectors !== null && counts.with_current_vectors !== counts.memories) {
      lines.push(
        `vectors: ${counts.with_current_vectors} of ${counts.memories} memories have one from the current model (\`sage reindex\` fills the rest)`,
      );
    }
  }
  if (typeof s.backfill === "string") lines.push(s.backfill);
  return lines.join("\n");
}

function indent(text: string): string {
  return text.trim().split("\n").map((l) => `   ${l}`).join("\n");
}
