/**
 * Time expressions in a query ("on 31 July, 2023", "last week", "上周", "2026-11-03", "3 days ago") as a window
 * of creation times. Search gives memories in that window a boost (not a filter: a wrong guess must not hide
 * anything). English and Chinese; relative expressions are relative to `now`.
 */

export interface TimeWindow {
  start: Date;
  end: Date;
  /** The words that named it. */
  text: string;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH =
  "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const DAY_MS = 86_400_000;

const utcDay = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d));
const monthOf = (name: string) => MONTHS.indexOf(name.slice(0, 3).toLowerCase());

function day(y: number, m: number, d: number, text: string): TimeWindow | null {
  const start = utcDay(y, m, d);
  if (start.getUTCMonth() !== m || start.getUTCDate() !== d) return null; // 31 February
  return { start, end: new Date(start.getTime() + DAY_MS), text };
}

function month(y: number, m: number, text: string): TimeWindow {
  return { start: utcDay(y, m, 1), end: utcDay(y, m + 1, 1), text };
}

/** Days `from`..`to` (inclusive; 31 = the month's end) of a month. */
function part(y: number, m: number, from: number, to: number, text: string): TimeWindow {
  const end = Math.min(to, new Date(Date.UTC(y, m + 1, 0)).getUTCDate());
  return { start: utcDay(y, m, from), end: utcDay(y, m, end + 1), text };
}

/** A month named without a year: the most recent one that has begun by `now`. */
function yearOfMonth(m: number, now: Date): number {
  return recentYear(m, 1, now);
}

/** "early" / "mid" / "late" (and 上旬 / 中旬 / 下旬…) as a range of days. */
const PARTS: Record<string, [number, number]> = {
  early: [1, 10],
  beginning: [1, 10],
  start: [1, 10],
  mid: [11, 20],
  middle: [11, 20],
  late: [21, 31],
  end: [21, 31],
  初: [1, 10],
  上旬: [1, 10],
  中旬: [11, 20],
  下旬: [21, 31],
  底: [21, 31],
  末: [21, 31],
};
const WEEKS: Record<string, [number, number]> = {
  first: [1, 7],
  "1st": [1, 7],
  second: [8, 14],
  "2nd": [8, 14],
  third: [15, 21],
  "3rd": [15, 21],
  fourth: [22, 28],
  "4th": [22, 28],
  last: [25, 31],
};

/** A month/day without a year: the most recent such date not after `now`. */
function recentYear(m: number, d: number, now: Date): number {
  const y = now.getUTCFullYear();
  return utcDay(y, m, d).getTime() > now.getTime() ? y - 1 : y;
}

function startOfWeek(now: Date): Date {
  const d = utcDay(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY_MS); // Monday
}

type Rule = [RegExp, (m: RegExpMatchArray, now: Date) => TimeWindow | null];

// Chinese dates are often typed with spaces around the numbers ("9 月 15 号"): the patterns allow them.
const RULES: Rule[] = [
  [/\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b/, (m) => day(+m[1], +m[2] - 1, +m[3], m[0])],
  [/(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]/, (m) => day(+m[1], +m[2] - 1, +m[3], m[0])],
  [
    new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+${MONTH},?\\s+(\\d{4})\\b`, "i"),
    (m) => day(+m[3], monthOf(m[2]), +m[1], m[0]),
  ],
  [
    new RegExp(`\\b${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, "i"),
    (m) => day(+m[3], monthOf(m[1]), +m[2], m[0]),
  ],
  // "the second week of September", "late October", "9 月中旬": part of a month (this year's, or last year's
  // if it has not begun yet), before the whole-month rules below.
  [
    new RegExp(`\\b(first|1st|second|2nd|third|3rd|fourth|4th|last)\\s+week\\s+of\\s+${MONTH}(?:,?\\s+(\\d{4}))?`, "i"),
    (m, now) => {
      const mo = monthOf(m[2]);
      const [from, to] = WEEKS[m[1].toLowerCase()];
      return part(m[3] ? +m[3] : yearOfMonth(mo, now), mo, from, to, m[0]);
    },
  ],
  [
    new RegExp(
      `\\b(early|mid|late|(?:the\\s+)?(?:beginning|start|middle|end)\\s+of)[\\s-]+${MONTH}(?:,?\\s+(\\d{4}))?`,
      "i",
    ),
    (m, now) => {
      const mo = monthOf(m[2]);
      const [from, to] = PARTS[m[1].toLowerCase().replace(/^the\s+/, "").replace(/\s+of$/, "")];
      return part(m[3] ? +m[3] : yearOfMonth(mo, now), mo, from, to, m[0]);
    },
  ],
  [/(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(初|上旬|中旬|下旬|底|末)/, (m, now) => {
    const mo = +m[2] - 1;
    const [from, to] = PARTS[m[3]];
    return part(m[1] ? +m[1] : yearOfMonth(mo, now), mo, from, to, m[0]);
  }],
  [/(\d{4})\s*年\s*(\d{1,2})\s*月/, (m) => month(+m[1], +m[2] - 1, m[0])],
  [new RegExp(`\\b${MONTH},?\\s+(\\d{4})\\b`, "i"), (m) => month(+m[2], monthOf(m[1]), m[0])],
  [/(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]/, (m, now) => day(recentYear(+m[1] - 1, +m[2], now), +m[1] - 1, +m[2], m[0])],
  [new RegExp(`\\bon\\s+${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b`, "i"), (m, now) => {
    const mo = monthOf(m[1]);
    return day(recentYear(mo, +m[2], now), mo, +m[2], m[0]);
  }],
  [new RegExp(`\\b(?:in|during|since)\\s+${MONTH}\\b(?![\\s,]*\\d)`, "i"), (m, now) => {
    const mo = monthOf(m[1]);
    return month(yearOfMonth(mo, now), mo, m[0]);
  }],
  [/\b(today)\b|今天/i, (m, now) => day(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), m[0])],
  [/\b(yesterday)\b|昨天/i, (m, now) => {
    const d = new Date(now.getTime() - DAY_MS);
    return day(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), m[0]);
  }],
  [/前天/, (m, now) => {
    const d = new Date(now.getTime() - 2 * DAY_MS);
    return day(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), m[0]);
  }],
  [/\b(\d+)\s+days?\s+ago\b|(\d+)\s*天前/i, (m, now) => {
    const d = new Date(now.getTime() - Number(m[1] ?? m[2]) * DAY_MS);
    return day(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), m[0]);
  }],
  [/\blast\s+week\b|上周|上个?星期|上个?礼拜/i, (m, now) => {
    const start = new Date(startOfWeek(now).getTime() - 7 * DAY_MS);
    return { start, end: new Date(start.getTime() + 7 * DAY_MS), text: m[0] };
  }],
  [/\bthis\s+week\b|本周|这周|这个?星期/i, (m, now) => {
    const start = startOfWeek(now);
    return { start, end: new Date(start.getTime() + 7 * DAY_MS), text: m[0] };
  }],
  [/\blast\s+month\b|上个?月/i, (m, now) => month(now.getUTCFullYear(), now.getUTCMonth() - 1, m[0])],
  [/\bthis\s+month\b|这个?月|本月/i, (m, now) => month(now.getUTCFullYear(), now.getUTCMonth(), m[0])],
  [/\blast\s+year\b|去年/i, (m, now) => ({
    start: utcDay(now.getUTCFullYear() - 1, 0, 1),
    end: utcDay(now.getUTCFullYear(), 0, 1),
    text: m[0],
  })],
];

export function timeHint(query: string, now = new Date()): TimeWindow | null {
  for (const [pattern, make] of RULES) {
    const m = query.match(pattern);
    if (!m) continue;
    const w = make(m, now);
    if (w && w.end > w.start) return w;
  }
  return null;
}

/** A stored time as people read it: "2026-11-20 14:03 UTC". */
export function formatDate(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
