/**
 * Keyword terms for BM25, computed here and nowhere else (stored in memories.terms, used for queries).
 *
 * PostgreSQL's text search does not split Chinese, and its parser depends on the database locale, so terms are
 * made in app code:
 * - Chinese/Japanese/Korean runs give every character (unigram) and every adjacent pair (bigram): a query for
 *   "数据库" matches "数据库迁移" through 数据/据库, and a one-character query like "猫" still matches.
 * - Other words are lowercased, stop words dropped, English words Porter-stemmed ("deployments" → "deploy").
 * - Identifiers keep their whole form and their parts: `getUserName` → getusername, get, user, name;
 *   `MAX_RETRIES` → max_retries, max, retri. A plural abbreviation gives its singular: `PRs` → prs, pr. Dotted numbers stay whole and lose a leading "v" ("v1.2.3" → 1.2.3),
 *   so versions and addresses match exactly.
 */
import { stemmer } from "stemmer";

/**
 * Which analyzer made stored terms. Raise it whenever analyze() would store different terms for the same text: the
 * server then re-analyses older memories in the background. 2: a plural abbreviation gives its singular.
 */
export const TERMS_VERSION = 2;

const CJK = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}";
const TOKEN = new RegExp(`([${CJK}]+)|\\b[vV]?(\\d+(?:\\.\\d+)+)|([\\p{L}\\p{M}\\p{N}_]+)`, "gu");
const CJK_CHAR = new RegExp(`[${CJK}]`, "u");
const MAX_TERM_LENGTH = 64;

// Common English function words; they add nothing but candidates.
const STOP_WORDS = new Set(
  ("a an and are as at be been but by can could did do does for from had has have he her hers him his how i if " +
    "in into is it its just me my no nor not of on or our ours she so than that the their them then there these " +
    "they this those to too us very was we were what when where which while who whom why will with would you " +
    "your yours am being having doing about above after again against all any because before below between both " +
    "down during each few further here more most once only other over own same should some such through under " +
    "until up off out also s t don").split(" "),
);
// Chinese particles that occur in almost every sentence.
const CJK_STOP_CHARS = new Set(Array.from("的了是在和就都也吗呢吧啊着与及之而"));

/** All terms of a text, with repeats, in order (the count is the document length for BM25). */
export function analyze(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize("NFKC").matchAll(TOKEN)) {
    if (m[1]) addCjk(m[1], out);
    else if (m[2]) out.push(m[2]);
    else addWord(m[3], out);
  }
  return out;
}

/** What a memory stores for its content: its distinct terms, and how many terms it has (its BM25 length). */
export function storedTerms(content: string): { terms: string[]; count: number } {
  const all = analyze(content);
  return { terms: [...new Set(all)], count: all.length };
}

/**
 * The distinct terms of a query, in first-seen order, without the terms of Chinese question words (什么, 怎么,
 * 哪个, 谁, 几…). Stored memories are mostly statements, so those words are rare in them, and rare means a high
 * idf: left in, "…是怎么选的" matched whichever memory happened to say 怎么, ahead of the one about the topic.
 * English question words are stop words already.
 */
export function queryTerms(text: string): string[] {
  return [...new Set(analyze(text))].filter((t) => !askingOnly(t));
}

const CJK_QUESTION_CHARS = new Set(Array.from("什么怎哪谁几吗呢吧啊"));

/** A CJK term that touches a question word, or is made of particles only. */
function askingOnly(term: string): boolean {
  if (!CJK_CHAR.test(term)) return false;
  const chars = Array.from(term);
  return chars.some((c) => CJK_QUESTION_CHARS.has(c)) || chars.every((c) => CJK_STOP_CHARS.has(c));
}

/** A two-character CJK term (a bigram of analyze()). */
export function isCjkPair(term: string): boolean {
  const chars = Array.from(term);
  return chars.length === 2 && chars.every((c) => CJK_CHAR.test(c));
}

/** A Chinese particle (的, 了, 是…): never a term of its own. */
export function isParticle(char: string): boolean {
  return CJK_STOP_CHARS.has(char);
}

/** True when the text has at least one character of a CJK script. */
export function hasCjk(text: string): boolean {
  return CJK_CHAR.test(text);
}

function addCjk(run: string, out: string[]): void {
  const chars = Array.from(run);
  for (let i = 0; i < chars.length; i++) {
    if (!CJK_STOP_CHARS.has(chars[i])) out.push(chars[i]);
    if (i + 1 < chars.length) out.push(chars[i] + chars[i + 1]);
  }
}

function addWord(word: string, out: string[]): void {
  // A plural abbreviation (PRs, APIs, URLs) is its whole form and its singular, not "AP" + "Is".
  if (/^\p{Lu}{2,}s$/u.test(word)) {
    out.push(word.toLowerCase());
    const singular = normalizeWord(word.slice(0, -1));
    if (singular) out.push(singular);
    return;
  }
  const parts = word.split(/_+|(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u).filter(Boolean);
  if (parts.length > 1) {
    const whole = word.toLowerCase().replace(/^_+|_+$/g, "");
    if (whole.length <= MAX_TERM_LENGTH) out.push(whole);
  }
  for (const part of parts) {
    const term = normalizeWord(part);
    if (term) out.push(term);
  }
}

function normalizeWord(part: string): string | null {
  const lower = part.toLowerCase();
  if (lower.length > MAX_TERM_LENGTH || STOP_WORDS.has(lower)) return null;
  return /^[a-z]{3,}$/.test(lower) ? stemmer(lower) : lower;
}

/** Every word as written (lowercased; CJK by character), stop words included: for comparing texts, not search. */
export function wordSet(text: string): Set<string> {
  return new Set(text.normalize("NFKC").toLowerCase().match(WORD) ?? []);
}
const WORD = new RegExp(`[${CJK}]|[\\p{L}\\p{N}_]+`, "gu");

/** Share of words two sets have in common (Jaccard). */
export function overlap(a: Set<string>, b: Set<string>): number {
  if (!a.size && !b.size) return 1;
  let inter = 0;
  for (const t of a) if (b.has(t)) inter++;
  return inter / (a.size + b.size - inter);
}

const NEGATIONS = new Set([
  ..."not no never none nor cannot can't don't doesn't didn't isn't aren't wasn't weren't won't shouldn't".split(" "),
  "t", // the tail of don't, isn't… once split into words
  ..."不没别未非无勿否".split(""),
]);

/**
 * Two texts say the same (the near-duplicate rule of MemoryService.saveMemory): their word sets differ in at most
 * one word in ten, each of those inert, and their numbers and negations come in the same order
 * ("beta 7 gamma 9" ≠ "beta 9 gamma 7").
 */
export function sayTheSame(a: string, b: string): boolean {
  const wa = wordSet(a);
  const wb = wordSet(b);
  if (overlap(wa, wb) < 0.9) return false;
  for (const w of [...wa].filter((x) => !wb.has(x)).concat([...wb].filter((x) => !wa.has(x)))) {
    if (/\d/.test(w) || NEGATIONS.has(w) || w.length > 12) return false;
  }
  return significant(a) === significant(b);
}

/** The numbers and negations of a text, in order. */
function significant(text: string): string {
  const words = text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
  return words.filter((w) => /\d/.test(w) || NEGATIONS.has(w)).join(" ");
}
