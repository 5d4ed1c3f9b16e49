/// <reference lib="dom" />
/**
 * Client side of `sage view`: the activity chart, memories per week as inline SVG bars (no library). Light bars:
 * every memory in the page; strong bars: those matching the search and filters (the date range aside); the
 * chosen date range is shaded. Clicking a week narrows the dates to it. Embedded in the page by lib/view/page.ts.
 */
import { addDays, day, h, num, svg } from "./dom.ts";

export interface ChartInput {
  /** Local Monday midnight of each week, oldest first, no gaps. */
  weeks: number[];
  all: Int32Array;
  matching: Int32Array;
  /** Chosen date range [from, to) in ms; NaN: open. */
  from: number;
  to: number;
  onPick(weekStart: number): void;
}

export function renderChart(host: HTMLElement, c: ChartInput): void {
  const n = c.weeks.length;
  if (!n) {
    host.replaceChildren(h("p", { class: "muted", text: "No memories." }));
    return;
  }
  let max = 1;
  for (let i = 0; i < n; i++) max = Math.max(max, c.all[i]);
  const W = 10;
  const H = 60;
  const hasRange = !Number.isNaN(c.from) || !Number.isNaN(c.to);
  const bars: Node[] = [];
  for (let i = 0; i < n; i++) {
    const start = c.weeks[i];
    const chosen = (Number.isNaN(c.from) || addDays(start, 7) > c.from) && (Number.isNaN(c.to) || start < c.to);
    const x = i * W;
    const title = svg("title");
    title.textContent = `Week of ${day(start)}: ${num(c.matching[i])} matching of ${num(c.all[i])}`;
    const parts: Node[] = [title];
    if (hasRange && chosen) parts.push(svg("rect", { x, y: 0, width: W, height: H, class: "range" }));
    // A transparent full-height target so thin weeks are as easy to click as busy ones.
    parts.push(svg("rect", { x, y: 0, width: W, height: H, class: "hit" }));
    const allH = (c.all[i] / max) * H;
    if (allH) parts.push(svg("rect", { x: x + 1, y: H - allH, width: W - 2, height: allH, class: "all" }));
    const matchH = (c.matching[i] / max) * H;
    if (matchH) parts.push(svg("rect", { x: x + 1, y: H - matchH, width: W - 2, height: matchH, class: "match" }));
    bars.push(svg("g", { "data-week": start, class: "week" }, parts));
  }
  const chart = svg("svg", {
    viewBox: `0 0 ${n * W} ${H}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `Memories per week, ${day(c.weeks[0])} to ${day(c.weeks[n - 1])}`,
  }, bars);
  chart.addEventListener("click", (e) => {
    const g = (e.target as Element).closest("[data-week]");
    if (g) c.onPick(Number(g.getAttribute("data-week")));
  });
  host.replaceChildren(
    h("div", { class: "chart-max muted", text: `${num(max)} / week` }),
    chart,
    h("div", { class: "chart-axis muted" }, [
      h("span", { text: day(c.weeks[0]) }),
      h("span", { text: day(c.weeks[n - 1]) }),
    ]),
  );
}
