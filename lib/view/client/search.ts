/**
 * Client side of `sage view`: the search box's rules. Pure string functions (no DOM), so Deno tests run them too.
 * Self-contained: the page embeds this function's source.
 *
 * Text and queries are compared after NFKC (full-width letters and digits become ASCII) and lower-casing. Every
 * word of the query must be found (AND); `-word` excludes; `"two words"` is one exact piece; a number also matches
 * the memory with that id. Latin words match as substrings (`cach` finds "caching"). Chinese, Japanese and Korean
 * have no spaces between words, so a run of n such characters matches text that holds it whole, or holds it in at
 * most ⌈n/2⌉ pieces: 缓存重启 finds "缓存在重启后" (缓存 + 重启) but not a memory where the four characters are
 * merely scattered; 重启了 finds "重启…了". One or two characters must appear as typed.
 */
export function makeSearch() {
  const CJK = /[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/;
  const CJK_RUNS =
    /[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+|[^\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+/g;
  // CJK punctuation and spaces separate words like spaces do.
  const SEPARATORS = /[\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/;
  const NON_ASCII = /[\u0080-\uffff]/;

  function normalize(s: string): string {
    return (NON_ASCII.test(s) ? s.normalize("NFKC") : s).toLowerCase();
  }

  interface Term {
    text: string;
    /** Matched by pieces (a CJK run of 3+ characters). */
    pieces: boolean;
    negate: boolean;
    /** All digits: also matches the memory with this id. */
    id: number;
  }

  /** Whether `hay` holds `t` in at most ⌈n/2⌉ pieces (see above). */
  function inPieces(hay: string, t: string): boolean {
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

  function termsOf(word: string, negate: boolean, phrase: boolean): Term[] {
    if (phrase) return word ? [{ text: word, pieces: false, negate, id: 0 }] : [];
    const runs = word.match(CJK_RUNS) ?? [];
    // Punctuation typed between or after words ("缓存，重启", "postgres,") is not something to look for.
    const wanted = runs.length > 1 ? runs.filter((r) => /[\p{L}\p{N}]/u.test(r)) : runs;
    return wanted.map((run) => run.replace(/(?<=[\p{L}\p{N}])[,;:!?.]+$/u, "")).map((text) => ({
      text,
      pieces: CJK.test(text) && text.length > 2,
      negate,
      id: /^\d{1,15}$/.test(text) ? Number(text) : 0,
    }));
  }

  /** The query's terms; an empty list when it has none. */
  function parse(query: string): Term[] {
    const q = normalize(query);
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
      for (const part of word.split(SEPARATORS)) if (part) terms.push(...termsOf(part, negate, false));
    }
    return terms;
  }

  interface Matcher {
    terms: Term[];
    /** `hay` is normalize(text). */
    test(hay: string, id: number): boolean;
  }

  function compile(query: string): Matcher | null {
    const terms = parse(query);
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
  function highlights(text: string, matcher: Matcher | null, limit = 200): [number, number][] {
    if (!matcher) return [];
    const hay = normalize(text);
    if (hay.length !== text.length) return [];
    const needles = new Set<string>();
    for (const t of matcher.terms) {
      if (t.negate) continue;
      needles.add(t.text);
      if (t.pieces) { for (let i = 0; i + 2 <= t.text.length; i++) needles.add(t.text.slice(i, i + 2)); }
    }
    const ranges: [number, number][] = [];
    for (const needle of needles) {
      for (
        let at = hay.indexOf(needle);
        at >= 0 && ranges.length < limit;
        at = hay.indexOf(needle, at + needle.length)
      ) {
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

  return { normalize, parse, compile, highlights };
}

export type Search = ReturnType<typeof makeSearch>;
export type Matcher = NonNullable<ReturnType<Search["compile"]>>;
