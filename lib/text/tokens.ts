/**
 * Token estimates, chunking and sentence-boundary cuts. Estimates are deliberately simple and model-free: one
 * token per CJK character, one per four other characters (close to BPE/WordPiece on English and code).
 */
import { hasCjk } from "./terms.ts";

const CJK_GLOBAL = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

export function estimateTokens(text: string): number {
  if (!text) return 0;
  const cjk = hasCjk(text) ? (text.match(CJK_GLOBAL)?.length ?? 0) : 0;
  return cjk + Math.ceil((text.length - cjk) / 4);
}

const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: "sentence" });

/** Sentences (with their trailing whitespace), using ICU rules that know Chinese punctuation too. */
export function sentences(text: string): string[] {
  return Array.from(sentenceSegmenter.segment(text), (s) => s.segment);
}

/**
 * Splits text into chunks of at most `maxTokens` (estimated), at sentence boundaries where possible, so each
 * chunk fits the embedding model's window. At most `maxChunks` chunks; the rest stays keyword-searchable only.
 */
export function chunkText(text: string, maxTokens: number, maxChunks: number): string[] {
  if (estimateTokens(text) <= maxTokens) return [text];
  const chunks: string[] = [];
  let current = "";
  let currentTokens = 0;
  const flush = () => {
    if (current.trim()) chunks.push(current.trim());
    current = "";
    currentTokens = 0;
  };
  for (const sentence of sentences(text)) {
    const t = estimateTokens(sentence);
    if (t > maxTokens) {
      flush();
      for (const piece of hardSplit(sentence, maxTokens)) chunks.push(piece);
      continue;
    }
    if (currentTokens + t > maxTokens) flush();
    current += sentence;
    currentTokens += t;
    if (chunks.length >= maxChunks) break;
  }
  flush();
  return chunks.slice(0, maxChunks);
}

/** A sentence too long for one chunk: cut at whitespace near the limit, or mid-run if there is none. */
function hardSplit(text: string, maxTokens: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (estimateTokens(rest) > maxTokens) {
    let end = approxCharsFor(rest, maxTokens);
    const space = rest.lastIndexOf(" ", end);
    if (space > end / 2) end = space;
    pieces.push(rest.slice(0, end).trim());
    rest = rest.slice(end);
  }
  if (rest.trim()) pieces.push(rest.trim());
  return pieces.filter(Boolean);
}

/** How many leading characters of `text` fit in `tokens`. */
function approxCharsFor(text: string, tokens: number): number {
  let used = 0;
  let i = 0;
  for (const ch of text) {
    used += CJK_TEST.test(ch) ? 1 : 0.25;
    if (used > tokens) break;
    i += ch.length;
  }
  return Math.max(1, i);
}
const CJK_TEST = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * The longest prefix of `text` that fits `maxTokens` and ends at a sentence boundary. If even the first sentence
 * is too long, it is cut at a word boundary. Appends "…" when anything was cut; the result, "…" included, fits.
 */
export function cutToTokens(text: string, maxTokens: number): { text: string; cut: boolean } {
  if (estimateTokens(text) <= maxTokens) return { text, cut: false };
  if (maxTokens < 2) return { text: ELLIPSIS.trim(), cut: true }; // no room for text and the ellipsis
  const withEllipsis = (s: string) => s.trimEnd() + ELLIPSIS;
  let out = "";
  for (const s of sentences(text)) {
    if (estimateTokens(withEllipsis(out + s)) > maxTokens) break;
    out += s;
  }
  if (!out.trim()) {
    // One token is kept for the ellipsis (" …" adds at most one to the estimate).
    let end = approxCharsFor(text, Math.max(1, maxTokens - 1));
    // Inside a word (letters or digits on both sides): back up to its start, unless the word is all there is.
    if (isWordChar(text[end - 1]) && isWordChar(text[end])) {
      let start = end;
      while (start > 0 && isWordChar(text[start - 1])) start--;
      if (start > 0) end = start;
    }
    out = text.slice(0, end);
  }
  return { text: withEllipsis(out), cut: true };
}
const ELLIPSIS = " …";

/** A letter or digit of a space-separated script; CJK runs may be cut anywhere. */
function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{M}\p{N}_]/u.test(ch) && !CJK_TEST.test(ch);
}
