/// <reference lib="dom" />
/**
 * Client side of `sage view`: the activity chart, memories per week as inline SVG bars (no library). Light bars:
 * every memory in the page; strong bars: those matching the search and filters (the date range aside); the
 * chosen date range is shaded. Clicking a week narrows the dates to it. Self-contained: the page embeds its source.
 */
import type { Dom } from "./dom.ts";

export function makeChart(dom: Dom) {
  interface ChartInput {
    /** Local Monday midnight of each week, oldest first, no gaps. */
    weeks: number[];
    all: Int32Array;
    matching: Int32Array;
    /** Chosen date range [from, to) in ms; NaN: open. */
    from: number;
    to: number;
    onPick(weekStart: number): void;
  }

  function render(host: HTMLElement, c: ChartInput): void {
    const n = c.weeks.length;
    if (!n) {
      host.replaceChildren(dom.h("p", { class: "muted", text: "No memories." }));
      return;
    }
    let max = 1;
    for (let i = 0; i < n; i++) max = Math.max(max, c.all[i]);
    const W = 10;
    const H = 60;
    const bars: Node[] = [];
    for (let i = 0; i < n; i++) {
      const start = c.weeks[i];
      const end = dom.addDays(start, 7);
      const chosen = (Number.isNaN(c.from) || end > c.from) && (Number.isNaN(c.to) || start < c.to);
      const hasRange = !Number.isNaN(c.from) || !Number.isNaN(c.to);
      const x = i * W;
      const title = dom.svg("title");
      title.textContent = `Week of ${dom.day(start)}: ${dom.num(c.matching[i])} matching of ${dom.num(c.all[i])}`;
      const parts: Node[] = [title];
      if (hasRange && chosen) parts.push(dom.svg("rect", { x, y: 0, width: W, height: H, class: "range" }));
      // A transparent full-height target so thin weeks are as easy to click as busy ones.
      parts.push(dom.svg("rect", { x, y: 0, width: W, height: H, class: "hit" }));
      const allH = (c.all[i] / max) * H;
      if (allH) parts.push(dom.svg("rect", { x: x + 1, y: H - allH, width: W - 2, height: allH, class: "all" }));
      const matchH = (c.matching[i] / max) * H;
      if (matchH) {
        parts.push(dom.svg("rect", { x: x + 1, y: H - matchH, width: W - 2, height: matchH, class: "match" }));
      }
      bars.push(dom.svg("g", { "data-week": start, class: "week" }, parts));
    }
    const svg = dom.svg("svg", {
      viewBox: `0 0 ${n * W} ${H}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `Memories per week, ${dom.day(c.weeks[0])} to ${dom.day(c.weeks[n - 1])}`,
    }, bars);
    svg.addEventListener("click", (e) => {
      const g = (e.target as Element).closest("[data-week]");
      if (g) c.onPick(Number(g.getAttribute("data-week")));
    });
    host.replaceChildren(
      dom.h("div", { class: "chart-max muted", text: `${dom.num(max)} / week` }),
      svg,
      dom.h("div", { class: "chart-axis muted" }, [
        dom.h("span", { text: dom.day(c.weeks[0]) }),
        dom.h("span", { text: dom.day(c.weeks[n - 1]) }),
      ]),
    );
  }

  return { render };
}

export type Chart = ReturnType<typeof makeChart>;
