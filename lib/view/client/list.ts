/// <reference lib="dom" />
/**
 * Client side of `sage view`: a virtualised list. Only the rows in view (plus a few either side) exist in the
 * DOM, absolutely placed over a spacer as tall as every row together, so 100,000 memories scroll like 100. Rows
 * have fixed heights per kind (headers, memories), summed once per change of the list. Self-contained: the page
 * embeds its source.
 */
import type { Dom } from "./dom.ts";

export function makeList(dom: Dom) {
  interface Source {
    count: number;
    height(row: number): number;
    render(row: number): HTMLElement;
  }

  function create(viewport: HTMLElement) {
    const spacer = dom.h("div", { class: "spacer", attrs: { "aria-hidden": "true" } });
    viewport.append(spacer);
    let source: Source = { count: 0, height: () => 0, render: () => dom.h("div") };
    let offsets = new Float64Array(1);
    const shown = new Map<number, HTMLElement>();
    const OVERSCAN = 6;

    /** The row at height y (the last row starting at or above it). */
    function rowAt(y: number): number {
      let lo = 0;
      let hi = source.count - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (offsets[mid] <= y) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    }

    function place(row: number): HTMLElement {
      const el = source.render(row);
      el.style.top = `${offsets[row]}px`;
      el.style.height = `${source.height(row)}px`;
      return el;
    }

    function update(): void {
      if (!source.count) {
        for (const el of shown.values()) el.remove();
        shown.clear();
        return;
      }
      const top = viewport.scrollTop;
      const first = Math.max(0, rowAt(top) - OVERSCAN);
      const last = Math.min(source.count - 1, rowAt(top + (viewport.clientHeight || 800)) + OVERSCAN);
      for (const [row, el] of shown) {
        if (row < first || row > last) {
          el.remove();
          shown.delete(row);
        }
      }
      const fresh: HTMLElement[] = [];
      for (let row = first; row <= last; row++) {
        if (shown.has(row)) continue;
        const el = place(row);
        shown.set(row, el);
        fresh.push(el);
      }
      if (fresh.length) viewport.append(...fresh);
    }

    function setSource(next: Source, keepScroll = false): void {
      source = next;
      offsets = new Float64Array(next.count + 1);
      for (let i = 0; i < next.count; i++) offsets[i + 1] = offsets[i] + next.height(i);
      spacer.style.height = `${offsets[next.count]}px`;
      for (const el of shown.values()) el.remove();
      shown.clear();
      if (!keepScroll) viewport.scrollTop = 0;
      update();
    }

    /** Draws a row again (after its selection changed), if it is in the DOM. */
    function refresh(row: number): void {
      const old = shown.get(row);
      if (!old) return;
      const el = place(row);
      old.replaceWith(el);
      shown.set(row, el);
    }

    /** Scrolls so the row is in view: `nearest` moves as little as possible, `center` puts it in the middle. */
    function reveal(row: number, how: "nearest" | "center" = "nearest"): void {
      if (row < 0 || row >= source.count) return;
      const top = offsets[row];
      const bottom = offsets[row + 1];
      const view = viewport.clientHeight;
      if (how === "center") viewport.scrollTop = top - (view - (bottom - top)) / 2;
      else if (top < viewport.scrollTop) viewport.scrollTop = top;
      else if (bottom > viewport.scrollTop + view) viewport.scrollTop = bottom - view;
      update();
    }

    /** How many rows of this height fit in the view (for Page Up / Page Down). */
    const perPage = (rowHeight: number) => Math.max(1, Math.floor(viewport.clientHeight / rowHeight) - 1);

    viewport.addEventListener("scroll", update, { passive: true });
    new ResizeObserver(update).observe(viewport);
    return { setSource, refresh, reveal, update, perPage, rowAt: (y: number) => rowAt(y) };
  }

  return { create };
}

export type List = ReturnType<typeof makeList>;
export type ListView = ReturnType<List["create"]>;
