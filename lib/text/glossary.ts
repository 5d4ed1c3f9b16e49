/**
 * Keyword terms in the other language: a Chinese prompt about 端口 should find the memory that says "port", an
 * English one about "secure storage" the memory that says 安全存储, even with no model (or one that knows a
 * single language). The words come from glossary.json: general vocabulary of the field (code, data,
 * infrastructure, web and mobile, version control, testing, security, payments, operations), each Chinese word with
 * its English equivalents, not any one project's words. The same way, an abbreviation of the field and its long form
 * give each other (abbreviations.json: "PR" and "pull request", "k8s" and "kubernetes"). Numbers written in Chinese
 * ("四十分钟") also give their digits. These terms add to a memory's keyword score but not to the query's
 * weight (lib/memory/rank.ts): the prompt's information is what it says, in its own words.
 */
import ABBREVIATIONS from "./abbreviations.json" with { type: "json" };
import GLOSSARY from "./glossary.json" with { type: "json" };
import { analyze, hasCjk, queryTerms } from "./terms.ts";

/** A long prompt (a pasted log) is about a few things: its first translations are enough. */
const MAX_TRANSLATIONS = 24;
/** A long word (环境变量: seven terms) would make one short equivalent ("env") outweigh the rest of the prompt. */
const MAX_WEIGHT = 3;

interface Entry {
  /** Each English equivalent as its analyzed terms ("secure storage" → secur, storag). */
  en: string[][];
  /** How many terms the Chinese word is in a prompt (回调: 回, 调, 回调). */
  sourceTerms: number;
}

interface Glossary {
  byChinese: Map<string, Entry>;
  longestChinese: number;
  /** English words and phrases by their first term, with the terms each one gives (Chinese pairs, or other forms). */
  byEnglish: Map<string, { phrase: string[]; gives: string[][] }[]>;
}

let glossary: Glossary | null = null;

function load(): Glossary {
  if (glossary) return glossary;
  const g: Glossary = { byChinese: new Map(), longestChinese: 0, byEnglish: new Map() };
  const english = (phrase: string[], gives: string[][]) => {
    const list = g.byEnglish.get(phrase[0]) ?? [];
    list.push({ phrase, gives });
    g.byEnglish.set(phrase[0], list);
  };
  for (const [zh, en] of Object.entries(GLOSSARY as Record<string, string[]>)) {
    const entry = { en: en.map((p) => analyze(p)).filter((t) => t.length), sourceTerms: analyze(zh).length };
    g.byChinese.set(zh, entry);
    g.longestChinese = Math.max(g.longestChinese, Array.from(zh).length);
    for (const phrase of entry.en) english(phrase, [chineseTerms(zh)]);
  }
  // An abbreviation and its long forms ("PR", "pull request") each give the others.
  for (const [short, long] of Object.entries(ABBREVIATIONS as Record<string, string[]>)) {
    const forms = [short, ...long].map((f) => analyze(f)).filter((t) => t.length);
    for (const form of forms) english(form, forms.filter((f) => f !== form));
  }
  return glossary = g;
}

/** A keyword term from the other language, and the share of its idf it scores with. */
export interface Translation {
  term: string;
  /**
   * The source word's own terms per term of this equivalent: 回调 is three terms of the prompt (回, 调, 回调) and
   * "webhook" one, so a memory saying "webhook" scores about what one saying 回调 would.
   */
  weight: number;
}

/** The terms of `text` in the other language, not already among its own terms (`own`, from queryTerms). */
export function translatedTerms(text: string, own: string[] = queryTerms(text)): Translation[] {
  const out = new Map<string, number>();
  const add = (terms: string[], sourceTerms: number) => {
    for (const term of terms) out.set(term, Math.max(out.get(term) ?? 0, sourceTerms / terms.length));
  };
  if (hasCjk(text)) fromChinese(text, add);
  fromEnglish(text, add);
  for (const t of own) out.delete(t);
  return [...out].slice(0, MAX_TRANSLATIONS).map(([term, weight]) => ({
    term,
    weight: round(Math.min(weight, MAX_WEIGHT)),
  }));
}

type Add = (terms: string[], sourceTerms: number) => void;

/** English terms of the glossary words in the Chinese runs (longest match first), and Chinese numbers' digits. */
function fromChinese(text: string, add: Add): void {
  const { byChinese, longestChinese } = load();
  for (const run of text.normalize("NFKC").match(/\p{Script=Han}+/gu) ?? []) {
    const chars = Array.from(run);
    for (let i = 0; i < chars.length;) {
      const number = chineseNumber(chars, i);
      if (number) {
        add([String(number.value)], analyze(chars.slice(i, i + number.length).join("")).length);
        i += number.length;
        continue;
      }
      let found = 0;
      // Single characters are too ambiguous inside words (表 in 表示, 新 in 更新): two or more only.
      for (let n = Math.min(longestChinese, chars.length - i); n >= 2 && !found; n--) {
        const entry = byChinese.get(chars.slice(i, i + n).join(""));
        if (entry) {
          for (const terms of entry.en) add(terms, entry.sourceTerms);
          found = n;
        }
      }
      i += found || 1;
    }
  }
}

/** For the glossary's English words and phrases in the text: their Chinese pairs, and an abbreviation's other forms. */
function fromEnglish(text: string, add: Add): void {
  const words = analyze(text.replace(/\p{Script=Han}+/gu, " "));
  const { byEnglish } = load();
  words.forEach((word, i) => {
    for (const { phrase, gives } of byEnglish.get(word) ?? []) {
      if (phrase.every((t, j) => words[i + j] === t)) { for (const terms of gives) add(terms, phrase.length); }
    }
  });
}

/** A Chinese word's keyword terms: its character pairs (a single character alone), not each of its characters. */
function chineseTerms(word: string): string[] {
  const chars = Array.from(word);
  if (chars.length === 1) return chars;
  return chars.slice(1).map((c, i) => chars[i] + c);
}

const round = (x: number) => Math.round(x * 100) / 100;

const DIGITS: Record<string, number> = {
  零: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

/**
 * A number written in Chinese at `start` (up to 999: 四十 → 40, 一百二十 → 120, 十五 → 15), of two characters or
 * more: a lone 十 is as often a word (十分, "very") as a number.
 */
function chineseNumber(chars: string[], start: number): { value: number; length: number } | null {
  let i = start;
  let value = 0;
  let digit: number | null = null;
  let units = 0;
  let last = Infinity;
  while (i < chars.length) {
    const c = chars[i];
    if (c in DIGITS) {
      if (digit !== null) break;
      digit = DIGITS[c];
    } else if (c === "十" || c === "百") {
      const unit = c === "十" ? 10 : 100;
      if (unit >= last) break; // 十十 or 十百 is no number
      last = unit;
      value += (digit ?? 1) * unit;
      digit = null;
      units++;
    } else break;
    i++;
  }
  if (!units || i - start < 2) return null;
  return { value: value + (digit ?? 0), length: i - start };
}
