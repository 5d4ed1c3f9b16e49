/**
 * The block `get_context` (and the UserPromptSubmit hook) puts in front of the model. Memories are chosen by
 * relevance until the token budget is full (the last one may be cut at a sentence boundary), then shown oldest
 * first so the model reads them as a story, each dated and citable as [memory:ID].
 */
import { cutToTokens, estimateTokens } from "../text/tokens.ts";
import type { ContextResult, SearchHit } from "../types.ts";

/** Below this many tokens left, a cut memory says too little to be worth its header. */
const MIN_PARTIAL_TOKENS = 40;

export function formatDate(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function itemHeader(hit: SearchHit, showProject: boolean): string {
  const parts = [`[memory:${hit.id}]`, formatDate(hit.created_at), hit.kind];
  if (hit.tags.length) parts.push(hit.tags.map((t) => `#${t}`).join(" "));
  if (showProject) parts.push(`project ${hit.project}`);
  return parts.join(" · ");
}

export function buildContext(
  query: string,
  project: string | null,
  hits: SearchHit[],
  budget: number,
  warnings: string[] = [],
): ContextResult {
  // The query is echoed short: a prompt with a pasted log must not spend the budget on itself.
  const shown = query.length > 120 ? `${query.slice(0, 119)}…` : query;
  const open = `<memories source="sage"${project ? ` project="${attr(project)}"` : ""} query="${attr(shown)}">\n` +
    "Memories from earlier sessions that may be relevant, oldest first. Cite one as [memory:ID].\n";
  const close = "</memories>";
  let used = estimateTokens(open) + estimateTokens(close);
  const chosen: { hit: SearchHit; body: string; truncated: boolean }[] = [];
  for (const hit of hits) {
    const header = itemHeader(hit, project === null);
    const headerTokens = estimateTokens(header) + 2;
    const left = budget - used - headerTokens;
    if (left <= 0) continue;
    const full = estimateTokens(hit.content);
    if (full <= left) {
      chosen.push({ hit, body: hit.content, truncated: false });
      used += headerTokens + full;
    } else if (left >= MIN_PARTIAL_TOKENS) {
      const cut = cutToTokens(hit.content, left);
      chosen.push({ hit, body: cut.text, truncated: true });
      used += headerTokens + estimateTokens(cut.text);
    }
  }
  if (!chosen.length) return { query, project, text: "", tokens: 0, items: [], warnings };
  chosen.sort((a, b) => a.hit.created_at.localeCompare(b.hit.created_at) || a.hit.id - b.hit.id);
  const body = chosen.map((c) => `\n${itemHeader(c.hit, project === null)}\n${c.body.trim()}\n`).join("");
  const text = `${open}${body}${close}`;
  return {
    query,
    project,
    text,
    tokens: estimateTokens(text),
    items: chosen.map((c) => ({
      id: c.hit.id,
      created_at: c.hit.created_at,
      kind: c.hit.kind,
      score: c.hit.score,
      truncated: c.truncated,
    })),
    warnings,
  };
}

function attr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/\n/g, " ");
}
