/// <reference lib="dom" />
/**
 * Client side of `sage view`: the timeline's rows. The memories that pass the filters become project headers
 * (when the page has several projects), session headers and memory rows, each group ordered by its first memory
 * in the given order; rows are drawn on demand for the virtual list. Embedded in the page by lib/view/page.ts.
 */
import { markText } from "./detail.ts";
import { day, h, minute, num, oneLine, plural } from "./dom.ts";
import { type Matcher, normalizeText } from "./search.ts";
import type { Payload } from "../types.ts";

export interface Timeline {
  data: Payload;
  /** Per row: 0 project header, 1 session header, 2 memory. */
  kind: Uint8Array;
  /** Project index, session index (-1: none) or memory index, by row kind. */
  ref: Int32Array;
  /** Memories under a header. */
  count: Int32Array;
  project: Int32Array;
  /** Row of each memory; -1 when filtered out. */
  rowOf: Int32Array;
}

/** What a row's drawing depends on besides the timeline. */
export interface RowView {
  sel: number;
  session: number;
  matcher: Matcher | null;
}

/** Row heights in px by kind: project header, session header, memory (the style sheet fits its rows to these). */
export function rowHeight(kind: number): number {
  return kind === 0 ? 40 : kind === 1 ? 34 : 70;
}

export function createTimeline(data: Payload): Timeline {
  const empty = new Int32Array(0);
  const rowOf = new Int32Array(data.memories.length).fill(-1);
  return { data, kind: new Uint8Array(0), ref: empty, count: empty, project: empty, rowOf };
}

/** Project header → session headers → memories, for the memories in `seq` (in that order). */
export function buildTimeline(t: Timeline, seq: number[]): void {
  const M = t.data.memories;
  const groups = new Map<number, Map<number, number[]>>();
  for (const i of seq) {
    let g = groups.get(M[i][1]);
    if (!g) groups.set(M[i][1], g = new Map());
    const s = g.get(M[i][2]);
    if (s) s.push(i);
    else g.set(M[i][2], [i]);
  }
  let size = seq.length + groups.size;
  for (const g of groups.values()) size += g.size;
  const kind = new Uint8Array(size);
  t.ref = new Int32Array(size);
  t.count = new Int32Array(size);
  t.project = new Int32Array(size);
  t.rowOf.fill(-1);
  let r = 0;
  for (const [p, g] of groups) {
    if (t.data.projects.length > 1) {
      kind[r] = 0;
      t.ref[r] = t.project[r] = p;
      for (const members of g.values()) t.count[r] += members.length;
      r++;
    }
    for (const [s, members] of g) {
      kind[r] = 1;
      t.ref[r] = s;
      t.count[r] = members.length;
      t.project[r++] = p;
      for (const i of members) {
        kind[r] = 2;
        t.ref[r] = i;
        t.rowOf[i] = r++;
      }
    }
  }
  t.kind = kind.subarray(0, r);
}

/** The part of a text to preview: its start, or around the first match further in. */
export function snippetOf(text: string, matcher: Matcher | null): string {
  let start = 0;
  if (matcher) {
    const hay = normalizeText(text.slice(0, 20_000));
    let at = -1;
    for (const term of matcher.terms) {
      if (term.negate) continue;
      const p = hay.indexOf(term.pieces ? term.text.slice(0, 2) : term.text);
      if (p >= 0 && (at < 0 || p < at)) at = p;
    }
    if (at > 80) start = at - 40;
  }
  return (start ? "…" : "") + oneLine(text.slice(start, start + 320));
}

export function renderHeaderRow(t: Timeline, r: number, v: RowView): HTMLElement {
  if (t.kind[r] === 0) {
    return h("div", { class: "row project", attrs: { role: "presentation" } }, [
      h("span", { class: "name", text: t.data.projects[t.ref[r]] }),
      h("span", { class: "muted", text: ` · ${plural(t.count[r], "memory", "memories")}` }),
    ]);
  }
  const s = t.ref[r];
  const S = s >= 0 ? t.data.sessions[s] : null;
  const only = v.session === s;
  const n = t.count[r];
  const counted = S && n < S[5]
    ? `${num(n)} of ${plural(S[5], "memory", "memories")}`
    : plural(n, "memory", "memories");
  return h("div", { class: `row session${only ? " on" : ""}`, attrs: { role: "presentation" } }, [
    h("span", { class: "name", text: S ? S[2] || `Session ${S[0].slice(0, 8)}` : "Without a session", title: S?.[0] }),
    h("span", { class: "muted", text: (S ? ` · ${day(S[3])} · ` : " · ") + counted }),
    h("button", {
      class: "chip small",
      text: only ? "All sessions" : "Only this session",
      attrs: { "data-session": String(s), "data-project": String(t.project[r]) },
    }),
  ]);
}

export function renderRow(t: Timeline, r: number, v: RowView): HTMLElement {
  if (t.kind[r] !== 2) return renderHeaderRow(t, r, v);
  const data = t.data;
  const i = t.ref[r];
  const m = data.memories[i];
  const on = i === v.sel;
  const tags = m[5];
  return h("div", {
    class: `row mem${on ? " sel" : ""}${m[10] ? " superseded" : ""}`,
    attrs: { role: "option", id: `r${m[0]}`, "aria-selected": String(on), "data-i": String(i) },
  }, [
    h("div", { class: "line1" }, [
      h("span", { class: `kind k${m[3] % 8}`, text: data.kinds[m[3]] }),
      h("time", { text: minute(m[7]) }),
      h("span", { class: "id", text: `#${m[0]}` }),
      ...tags.slice(0, 3).map((tag) => h("span", { class: "tag", text: data.tags[tag] })),
      tags.length > 3 ? h("span", { class: "muted", text: `+${tags.length - 3}` }) : null,
      m[10] ? h("span", { class: "badge warn", text: "superseded" }) : null,
    ]),
    h("div", { class: "preview" }, markText(snippetOf(m[4], v.matcher), v.matcher)),
  ]);
}

/** From row `from` (exclusive), `steps` memory rows in direction `dir`: the last one reached, or -1. */
export function stepRows(t: Timeline, from: number, dir: number, steps: number): number {
  let target = -1;
  for (let r = from + dir; r >= 0 && r < t.kind.length && steps > 0; r += dir) {
    if (t.kind[r] === 2) {
      target = r;
      steps--;
    }
  }
  return target;
}

/** The memories listed, in order. */
export function listedMemories(t: Timeline): number[] {
  const out: number[] = [];
  for (let r = 0; r < t.kind.length; r++) if (t.kind[r] === 2) out.push(t.ref[r]);
  return out;
}
