/// <reference lib="dom" />
/**
 * Client side of `sage view`: a virtualised list. Only the rows in view (plus a few either side) exist in the
 * DOM, absolutely placed over a spacer as tall as every row together, so 100,000 memories scroll like 100. Rows
 * have fixed heights per kind (headers, memories), summed once per change of the list. Embedded in the page by
 * lib/view/page.ts.
 */
import { h } from "./dom.ts";

export interface ListSource {
  count: number;
  height(row: number): number;
  render(row: number): HTMLElement;
}

export type ListView = ReturnType<typeof createList>;

export function createList(viewport: HTMLElement) {
  const spacer = h("div", { class: "spacer", attrs: { "aria-hidden": "true" } });
  viewport.append(spacer);
  let source: ListSource = { count: 0, height: () => 0, render: () => h("div") };
  let offsets = new Float64Array(1);
  const shown = new Map<number, HTMLElement>();
  const OVERSCAN = 6;
  // The scroll position and the height of the view, kept here so drawing never reads layout (which would make the
  // browser lay the page out mid-script): the window's height until the first resize report, before any paint.
  let top = 0;
  let height = innerHeight;

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
    const first = Math.max(0, rowAt(top) - OVERSCAN);
    const last = Math.min(source.count - 1, rowAt(top + height) + OVERSCAN);
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

  function setSource(next: ListSource, keepScroll = false): void {
    source = next;
    offsets = new Float64Array(next.count + 1);
    for (let i = 0; i < next.count; i++) offsets[i + 1] = offsets[i] + next.height(i);
    spacer.style.height = `${offsets[next.count]}px`;
    for (const el of shown.values()) el.remove();
    shown.clear();
    scrollTo(keepScroll ? top : 0);
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

  function scrollTo(y: number): void {
    const next = Math.max(0, Math.min(y, offsets[source.count] - height));
    if (next === top) return; // writing scrollTop would lay the page out even when nothing moves
    top = next;
    viewport.scrollTop = top;
  }

  /** Scrolls so the row is in view: `nearest` moves as little as possible, `center` puts it in the middle. */
  function reveal(row: number, how: "nearest" | "center" = "nearest"): void {
    if (row < 0 || row >= source.count) return;
    const start = offsets[row];
    const end = offsets[row + 1];
    if (how === "center") scrollTo(start - (height - (end - start)) / 2);
    else if (start < top) scrollTo(start);
    else if (end > top + height) scrollTo(end - height);
    update();
  }

  /** How many rows of this height fit in the view (for Page Up / Page Down). */
  const perPage = (rowHeight: number) => Math.max(1, Math.floor(height / rowHeight) - 1);

  viewport.addEventListener("scroll", () => {
    top = viewport.scrollTop;
    update();
  }, { passive: true });
  new ResizeObserver(([entry]) => {
    height = entry.contentRect.height;
    update();
  }).observe(viewport);
  return { setSource, refresh, reveal, update, perPage };
}
