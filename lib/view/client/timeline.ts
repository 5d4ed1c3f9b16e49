/// <reference lib="dom" />
/**
 * Client side of `sage view`: the timeline's rows. The memories that pass the filters become project headers
 * (when the page has several projects), session headers and memory rows, each group ordered by its first memory
 * in the given order; rows are drawn on demand for the virtual list. Self-contained: the page embeds its source.
 */
import type { Detail } from "./detail.ts";
import type { Dom } from "./dom.ts";
import type { Matcher, Search } from "./search.ts";
import type { Payload } from "../types.ts";

export function makeTimeline(dom: Dom, search: Search, detail: Detail) {
  const { h } = dom;
  /** Row heights in px: project header, session header, memory (the style sheet fits its rows to these). */
  const HEIGHT = [40, 34, 70];
  const PROJECT = 0, SESSION = 1, MEMORY = 2;

  function create(data: Payload) {
    const M = data.memories;
    let kind = new Uint8Array(0);
    /** Project index, session index (-1: none) or memory index, by row kind. */
    let ref = new Int32Array(0);
    /** Memories under a header. */
    let count = new Int32Array(0);
    let project = new Int32Array(0);
    /** Row of each memory; -1 when filtered out. */
    const rowOf = new Int32Array(M.length).fill(-1);

    function build(seq: number[]): void {
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
      kind = new Uint8Array(size);
      ref = new Int32Array(size);
      count = new Int32Array(size);
      project = new Int32Array(size);
      rowOf.fill(-1);
      let r = 0;
      for (const [p, g] of groups) {
        if (data.projects.length > 1) {
          kind[r] = PROJECT;
          ref[r] = project[r] = p;
          for (const members of g.values()) count[r] += members.length;
          r++;
        }
        for (const [s, members] of g) {
          kind[r] = SESSION;
          ref[r] = s;
          count[r] = members.length;
          project[r++] = p;
          for (const i of members) {
            kind[r] = MEMORY;
            ref[r] = i;
            rowOf[i] = r++;
          }
        }
      }
      kind = kind.subarray(0, r);
    }

    /** The part of the text to preview: its start, or around the first match further in. */
    function snippet(text: string, matcher: Matcher | null): string {
      let start = 0;
      if (matcher) {
        const hay = search.normalize(text.slice(0, 20_000));
        let at = -1;
        for (const t of matcher.terms) {
          if (t.negate) continue;
          const p = hay.indexOf(t.pieces ? t.text.slice(0, 2) : t.text);
          if (p >= 0 && (at < 0 || p < at)) at = p;
        }
        if (at > 80) start = at - 40;
      }
      return (start ? "…" : "") + dom.oneLine(text.slice(start, start + 320));
    }

    interface View {
      sel: number;
      session: number;
      matcher: Matcher | null;
    }

    function render(r: number, v: View): HTMLElement {
      if (kind[r] === PROJECT) {
        return h("div", { class: "row project", attrs: { role: "presentation" } }, [
          h("span", { class: "name", text: data.projects[ref[r]] }),
          h("span", { class: "muted", text: ` · ${dom.plural(count[r], "memory", "memories")}` }),
        ]);
      }
      if (kind[r] === SESSION) {
        const s = ref[r];
        const S = s >= 0 ? data.sessions[s] : null;
        const only = v.session === s;
        const n = count[r];
        return h("div", { class: `row session${only ? " on" : ""}`, attrs: { role: "presentation" } }, [
          h("span", {
            class: "name",
            text: S ? S[2] || `Session ${S[0].slice(0, 8)}` : "Without a session",
            title: S?.[0],
          }),
          h("span", {
            class: "muted",
            text: (S ? ` · ${dom.day(S[3])} · ` : " · ") +
              (S && n < S[5]
                ? `${dom.num(n)} of ${dom.plural(S[5], "memory", "memories")}`
                : dom.plural(n, "memory", "memories")),
          }),
          h("button", {
            class: "chip small",
            text: only ? "All sessions" : "Only this session",
            attrs: { "data-session": String(s), "data-project": String(project[r]) },
          }),
        ]);
      }
      const i = ref[r];
      const m = M[i];
      const on = i === v.sel;
      const tags = m[5];
      return h("div", {
        class: `row mem${on ? " sel" : ""}${m[10] ? " superseded" : ""}`,
        attrs: { role: "option", id: `r${m[0]}`, "aria-selected": String(on), "data-i": String(i) },
      }, [
        h("div", { class: "line1" }, [
          h("span", { class: `kind k${m[3] % 8}`, text: data.kinds[m[3]] }),
          h("time", { text: dom.minute(m[7]) }),
          h("span", { class: "id", text: `#${m[0]}` }),
          ...tags.slice(0, 3).map((t) => h("span", { class: "tag", text: data.tags[t] })),
          tags.length > 3 ? h("span", { class: "muted", text: `+${tags.length - 3}` }) : null,
          m[10] ? h("span", { class: "badge warn", text: "superseded" }) : null,
        ]),
        h("div", { class: "preview" }, detail.marked(snippet(m[4], v.matcher), v.matcher)),
      ]);
    }

    /** Memory rows from `from` (exclusive) in direction `dir`, up to `steps` of them: the last one reached, or -1. */
    function step(from: number, dir: number, steps: number): number {
      let target = -1;
      for (let r = from + dir; r >= 0 && r < kind.length && steps > 0; r += dir) {
        if (kind[r] === MEMORY) {
          target = r;
          steps--;
        }
      }
      return target;
    }

    /** The memories listed, in order. */
    function memories(): number[] {
      const out: number[] = [];
      for (let r = 0; r < kind.length; r++) if (kind[r] === MEMORY) out.push(ref[r]);
      return out;
    }

    return {
      build,
      render,
      step,
      memories,
      rowOf,
      rows: () => kind.length,
      height: (r: number) => HEIGHT[kind[r]],
      memoryAt: (r: number) => ref[r],
      memoryHeight: HEIGHT[MEMORY],
    };
  }

  return { create };
}

export type Timeline = ReturnType<typeof makeTimeline>;
