/**
 * A memory cut to what matters for a query: its opening line (who said what, the prompt of a turn) and then the
 * lines and sentences holding the most query terms, in their original order, within a character budget. What is
 * left out is marked "…", so a reader (and the model) knows to fetch the whole memory when it needs more.
 */
import { analyze } from "./terms.ts";

const GAP = " … ";

/** `text` within `max` characters (whole when it fits), keeping the parts richest in `terms`. */
export function snippet(text: string, terms: Set<string>, max: number): { text: string; cut: boolean } {
  const flat = text.trim();
  if (flat.length <= max) return { text: flat, cut: false };
  const parts = pieces(flat);
  const score = parts.map((p, i) => {
    const hits = new Set(analyze(p).filter((t) => terms.has(t))).size;
    return { i, hits: i === 0 ? Infinity : hits };
  });
  const chosen = new Set<number>();
  let used = 0;
  for (const { i, hits } of [...score].sort((a, b) => b.hits - a.hits || a.i - b.i)) {
    if (hits === 0) break;
    const cost = parts[i].length + GAP.length;
    if (used + cost > max) continue;
    chosen.add(i);
    used += cost;
  }
  if (!chosen.size) return { text: `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`, cut: true };
  let out = "";
  let last = -1;
  for (const i of [...chosen].sort((a, b) => a - b)) {
    out += (last >= 0 && i !== last + 1 ? GAP : last >= 0 ? " " : "") + parts[i].trim();
    last = i;
  }
  if (last < parts.length - 1) out += GAP.trimEnd();
  // A single part longer than the budget: its beginning.
  if (out.length > max) out = `${out.slice(0, max - 1).trimEnd()}…`;
  return { text: out, cut: true };
}

/** Lines, and the sentences of long lines (English and Chinese punctuation). */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\n+/)) {
    if (line.length <= 200) {
      if (line.trim()) out.push(line);
      continue;
    }
    for (const s of line.match(/[^.!?。！？；;]+[.!?。！？；;]*\s*/g) ?? [line]) if (s.trim()) out.push(s);
  }
  return out;
}
