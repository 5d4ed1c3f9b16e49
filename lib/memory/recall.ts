/**
 * What the Claude Code hooks put in front of Claude: on every prompt the memories relevant to it (or nothing), and
 * at the start of a session a digest of the project. Each memory once per session (the injection ledger), the
 * newest value of a fact, within a block Claude Code keeps whole.
 *
 * The decision to inject, for a prompt (calibrated on ../shared/eval's dev files with two test models; see the README,
 * "What the prompt hook injects"). A memory is evidence for the prompt when
 *   - it holds at least KEYWORD_BAR of the prompt's keyword information (its BM25 share, Chinese question words
 *     left out): words a project uses everywhere (its own name, "app", "data") never add up to that, while a memory
 *     about the prompt's subject does, whatever the language;
 *   - or its similarity stands above what chance gives the best of the project's memories (vector evidence
 *     ≥ VECTOR_BAR: the z-score of lib/memory/rank.ts reaching √(2 ln N));
 *   - or it lies in the time the prompt names ("10 月 19 号", "the second week of September") and shares some of
 *     its words or meaning (keyword + vector ≥ TIME_EVIDENCE);
 *   - or both lists put it first, by words and by meaning, two independent signals agreeing (keyword + vector
 *     ≥ AGREEMENT_EVIDENCE).
 * When the prompt names something (a product, a library, a service: lib/text/names.ts) that no memory of the project
 * ever mentions, it is about something the project has not discussed: only strong evidence (≥ UNKNOWN_NAME_BAR)
 * counts. With no evidence, nothing is injected. With evidence, the ranked memories scoring at least PICK_SHARE of
 * the best are injected, best first, up to MAX_ITEMS and the character budget.
 */
import { knownTerms } from "../db/repos/candidates.ts";
import { recentByKind } from "../db/repos/memories.ts";
import { alreadyInjected, recordInjections, resetInjections } from "../db/repos/injections.ts";
import { normalizeProject } from "../project.ts";
import { cleanText } from "../text/clean.ts";
import { translatedTerms } from "../text/glossary.ts";
import { namesIn } from "../text/names.ts";
import { analyze, queryTerms } from "../text/terms.ts";
import { timeHint } from "../text/time.ts";
import { estimateTokens } from "../text/tokens.ts";
import type { SearchHit } from "../types.ts";
import { attr, DATA_NOTE, neutralize, recallBlock } from "./context.ts";
import type { Core } from "./core.ts";
import { queryVector } from "./query.ts";
import { rank } from "./rank.ts";

export const KEYWORD_BAR = 0.3;
export const VECTOR_BAR = 0.5;
export const TIME_EVIDENCE = 0.2;
export const AGREEMENT_EVIDENCE = 0.35;
export const UNKNOWN_NAME_BAR = 0.8;
export const PICK_SHARE = 0.3;
export const MAX_ITEMS = 10;
const MAX_PROMPT_CHARS = 4_000;

export interface RecallInput {
  prompt: string;
  project: string;
  /** The Claude Code session: its own memories are left out (Claude has them), and it keys the ledger. */
  session?: string;
  /** Largest block, in characters. */
  maxChars: number;
}

export type RecallDecision = "trivial" | "no evidence" | "unknown subject" | "nothing new" | "injected";

export interface RecallResult {
  /** The block to add to the prompt; empty when nothing is injected. */
  text: string;
  injected: number[];
  /** Relevant, but already injected in this session: named in the block, not repeated. */
  earlier: number[];
  decision: RecallDecision;
  warnings: string[];
}

/** The memories relevant enough to a prompt to put in front of Claude (the rule at the top of this file). */
export async function recall(core: Core, input: RecallInput): Promise<RecallResult> {
  const warnings: string[] = [];
  const none = (decision: RecallDecision): RecallResult => ({
    text: "",
    injected: [],
    earlier: [],
    decision,
    warnings,
  });
  const prompt = cleanText(input.prompt);
  if (trivial(prompt)) return none("trivial");
  const query = focus(prompt).slice(0, MAX_PROMPT_CHARS);
  const project = normalizeProject(input.project);
  const terms = queryTerms(query);
  const translations = translatedTerms(query, terms);
  const names = namesIn(query).map((n) => analyze(n)[0]).filter((t): t is string => !!t);
  const [vector, known] = await Promise.all([
    queryVector(core, query, "hybrid", warnings),
    core.db((db) => knownTerms(db, project, names)),
  ]);
  const hits = await core.db((db) =>
    rank(db, {
      terms,
      translations,
      query: vector,
      filters: { project, excludeSession: input.session },
      limit: MAX_ITEMS,
      mode: "hybrid",
      window: timeHint(query),
    })
  );
  const unknownName = names.some((n) => !known.has(n));
  const evidence = (h: SearchHit) => {
    const k = h.match.keyword ?? 0;
    const v = h.match.vector ?? 0;
    if (unknownName) return k + v >= UNKNOWN_NAME_BAR;
    const agree = h.match.keyword_rank === 1 && h.match.vector_rank === 1;
    return k >= KEYWORD_BAR || v >= VECTOR_BAR || (!!h.match.time && k + v >= TIME_EVIDENCE) ||
      (agree && k + v >= AGREEMENT_EVIDENCE);
  };
  if (!hits.some(evidence)) return none(unknownName && hits.length ? "unknown subject" : "no evidence");
  const best = hits[0].score;
  // The successor of a superseded memory is in the list whenever the old one is strong: the old one can go.
  const ids = new Set(hits.map((h) => h.id));
  const picked = hits.filter((h) => h.score >= PICK_SHARE * best && !(h.superseded_by && ids.has(h.superseded_by)));
  const shown = input.session
    ? await core.db((db) => alreadyInjected(db, input.session!, picked.map((h) => h.id)))
    : new Set<number>();
  const fresh = picked.filter((h) => !shown.has(h.id));
  if (!fresh.length) return { ...none("nothing new"), earlier: [...shown] };
  const highlight = new Set([...terms, ...translations.map((t) => t.term)]);
  const block = recallBlock(project, fresh, highlight, input.maxChars, [...shown]);
  const injected = block.items.map((i) => i.id);
  if (input.session) await core.db((db) => recordInjections(db, input.session!, injected, "UserPromptSubmit"));
  return { text: block.text, injected, earlier: [...shown], decision: "injected", warnings };
}

/**
 * What a new session should know about the project: recent preferences, decisions, open tasks, facts and the last
 * conversations, newest first (current values only), within `budget` tokens and `maxChars`. Empty when the project
 * has no memories. `session`: memories already injected there are left out, and the ones listed are recorded; when
 * the session's context was compacted or cleared (`reset`), its ledger starts over first.
 */
export async function digest(
  core: Core,
  input: { project: string; budget: number; maxChars?: number; session?: string; reset?: boolean },
): Promise<string> {
  const project = normalizeProject(input.project);
  const session = input.session;
  if (session && input.reset) await core.db((db) => resetInjections(db, session));
  const sections: [string, string[]][] = [
    ["Preferences", ["preference"]],
    ["Decisions", ["decision"]],
    ["Open tasks", ["task"]],
    ["Facts", ["fact"]],
    ["Summaries", ["summary"]],
    ["Recent conversations", ["conversation"]],
  ];
  let recent = await core.db((db) => recentByKind(db, project, sections.flatMap(([, k]) => k), 5));
  if (session && recent.length) {
    const shown = await core.db((db) => alreadyInjected(db, session, recent.map((m) => m.id)));
    recent = recent.filter((m) => !shown.has(m.id));
  }
  if (!recent.length) return "";
  const open = `<memories source="sage" kind="digest" project="${attr(project)}">\n` +
    `What Sage remembers about this project, newest first. ${DATA_NOTE}. search_memory or get_context find more; ` +
    "cite as [memory:ID].\n";
  const close = "</memories>";
  const maxChars = input.maxChars ?? Infinity;
  let used = estimateTokens(open + close);
  let chars = open.length + close.length;
  // Round by round (each section's newest, then each one's next…), so no section crowds out the others.
  const bySection = sections.map(([title, kinds]) => ({
    title,
    items: recent.filter((r) => kinds.includes(r.kind)),
    lines: [] as string[],
    ids: [] as number[],
  }));
  for (let round = 0; round < 5; round++) {
    for (const section of bySection) {
      const m = section.items[round];
      if (!m) continue;
      const text = m.kind === "conversation"
        ? m.content.replace(/^User:\s*/, "").split(/\n\s*\nAssistant:/)[0]
        : m.content;
      const line = `- [memory:${m.id}] ${m.created_at.slice(0, 10)}: ${neutralize(oneLine(text, 200))}`;
      const title = section.lines.length ? 0 : section.title.length + 3;
      const cost = estimateTokens(line) + 1 + (section.lines.length ? 0 : estimateTokens(section.title) + 2);
      if (used + cost > input.budget || chars + line.length + 1 + title > maxChars) continue;
      used += cost;
      chars += line.length + 1 + title;
      section.lines.push(line);
      section.ids.push(m.id);
    }
  }
  const filled = bySection.filter((x) => x.lines.length);
  if (!filled.length) return "";
  if (session) await core.db((db) => recordInjections(db, session, filled.flatMap((x) => x.ids), "SessionStart"));
  return `${open}${filled.map((x) => `\n${x.title}:\n${x.lines.join("\n")}`).join("\n")}\n${close}`;
}

/**
 * What a prompt is about, for recall: its prose. Pasted code blocks and log lines (mostly digits and symbols)
 * would otherwise bury the question in terms no memory holds. Falls back to the prompt when nothing is left.
 */
export function focus(prompt: string): string {
  const prose = prompt
    .replace(/```[\s\S]*?(```|$)/g, " ")
    .split("\n")
    .filter((line) => {
      const t = line.trim();
      if (!t) return false;
      const letters = t.match(/[\p{L}]/gu)?.length ?? 0;
      return letters / t.length >= 0.5;
    })
    .join("\n")
    .slice(0, 1_500)
    .trim();
  return prose || prompt.slice(0, 1_500);
}

/** Prompts that carry no topic ("ok", "continue", "yes please") recall nothing. */
function trivial(prompt: string): boolean {
  return queryTerms(prompt).length < 2 && prompt.trim().length < 12;
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
