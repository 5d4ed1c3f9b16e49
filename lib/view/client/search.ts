/**
 * Client side of `sage view`: the search box's rules. Pure string functions (no DOM), so Deno tests run them too;
 * lib/view/page.ts embeds them in the page.
 *
 * Text and queries are compared after NFKC (full-width letters and digits become ASCII) and lower-casing. Every
 * word of the query must be found (AND); `-word` excludes; `"two words"` is one exact piece; a number also matches
 * the memory with that id. Latin words match as substrings (`cach` finds "caching"). Chinese, Japanese and Korean
 * have no spaces between words, so a run of n such characters matches text that holds it whole, or holds it in at
 * most ⌈n/2⌉ pieces: 缓存重启 finds "缓存在重启后" (缓存 + 重启) but not a memory where the four characters are
 * merely scattered; 重启了 finds "重启…了". One or two characters must appear as typed.
 */

export interface Term {
  text: string;
  /** Matched by pieces (a CJK run of 3+ characters). */
  pieces: boolean;
  negate: boolean;
  /** All digits: also matches the memory with this id (0: not a number). */
  id: number;
}

export interface Matcher {
  terms: Term[];
  /** `hay` is normalizeText(text). */
  test(hay: string, id: number): boolean;
}

export function normalizeText(s: string): string {
  return (/[\u0080-\uffff]/.test(s) ? s.normalize("NFKC") : s).toLowerCase();
}

/** Whether `hay` holds `t` in at most ⌈n/2⌉ pieces (see above). */
export function inPieces(hay: string, t: string): boolean {
  if (hay.includes(t)) return true;
  for (const ch of t) if (!hay.includes(ch)) return false; // most texts stop here
  const n = t.length;
  const best = new Array<number>(n + 1).fill(Infinity);
  best[0] = 0;
  for (let i = 0; i < n; i++) {
    if (best[i] === Infinity) continue;
    // A piece that is not in the text cannot grow into one that is.
    for (let j = i + 1; j <= n && (j === i + 1 || hay.includes(t.slice(i, j))); j++) {
      best[j] = Math.min(best[j], best[i] + 1);
    }
  }
  return best[n] <= Math.ceil(n / 2);
}

/** A typed word as terms: split where CJK and other scripts meet, punctuation between words dropped. */
export function termsOf(word: string, negate: boolean, phrase: boolean): Term[] {
  if (phrase) return word ? [{ text: word, pieces: false, negate, id: 0 }] : [];
  const cjk =
    "\\u1100-\\u11ff\\u3040-\\u30ff\\u3130-\\u318f\\u3400-\\u4dbf\\u4e00-\\u9fff\\uac00-\\ud7af\\uf900-\\ufaff";
  const runs = word.match(new RegExp(`[${cjk}]+|[^${cjk}]+`, "g")) ?? [];
  // Punctuation typed between or after words ("缓存，重启", "postgres,") is not something to look for.
  const wanted = runs.length > 1 ? runs.filter((r) => /[\p{L}\p{N}]/u.test(r)) : runs;
  return wanted.map((run) => run.replace(/(?<=[\p{L}\p{N}])[,;:!?.]+$/u, "")).map((text) => ({
    text,
    pieces: new RegExp(`[${cjk}]`).test(text) && text.length > 2,
    negate,
    id: /^\d{1,15}$/.test(text) ? Number(text) : 0,
  }));
}

/** The query's terms; an empty list when it has none. */
export function parseQuery(query: string): Term[] {
  const q = normalizeText(query);
  const terms: Term[] = [];
  const re = /(-?)"([^"]*)"?|(\S+)/g;
  for (let m; (m = re.exec(q));) {
    if (m[2] !== undefined) {
      terms.push(...termsOf(m[2].trim(), m[1] === "-", true));
      continue;
    }
    let word = m[3];
    const negate = word.length > 1 && word.startsWith("-");
    if (negate) word = word.slice(1);
    // CJK punctuation and spaces separate words as spaces do.
    for (const part of word.split(/[\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/)) {
      if (part) terms.push(...termsOf(part, negate, false));
    }
  }
  return terms;
}

/** The query as a test on normalized text; null for a query with nothing to look for. */
export function compileQuery(query: string): Matcher | null {
  const terms = parseQuery(query);
  if (!terms.length) return null;
  return {
    terms,
    test(hay, id) {
      for (const t of terms) {
        const found = (t.id !== 0 && t.id === id) || (t.pieces ? inPieces(hay, t.text) : hay.includes(t.text));
        if (found === t.negate) return false;
      }
      return true;
    },
  };
}

/**
 * Where the query's words appear in `text`, as sorted, merged [start, end) ranges: whole terms, and for CJK
 * terms also their two-character pieces. Empty when normalizing changes the text's length (ranges would drift).
 */
export function highlightRanges(text: string, matcher: Matcher | null, limit = 200): [number, number][] {
  if (!matcher) return [];
  const hay = normalizeText(text);
  if (hay.length !== text.length) return [];
  const needles = new Set<string>();
  for (const t of matcher.terms) {
    if (t.negate) continue;
    needles.add(t.text);
    if (t.pieces) { for (let i = 0; i + 2 <= t.text.length; i++) needles.add(t.text.slice(i, i + 2)); }
  }
  const ranges: [number, number][] = [];
  for (const needle of needles) {
    for (let at = hay.indexOf(needle); at >= 0 && ranges.length < limit; at = hay.indexOf(needle, at + needle.length)) {
      ranges.push([at, at + needle.length]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}
