/// <reference lib="dom" />
/**
 * Client side of `sage view`: reads the embedded data, filters it (search, kind, tag, session, dates), groups it
 * into a timeline (project → session → memory, newest or oldest first), and wires the list, the memory panel, the
 * filter panel and the keyboard together. One state object, `App`, passed to every function. Embedded in the page
 * by lib/view/page.ts, which calls startApp().
 */
import {
  closeDetail,
  copyBulk,
  copyText,
  jumpTo,
  onlySession,
  resetFilters,
  toggleFilters,
  toggleOrder,
  wireEvents,
} from "./actions.ts";
import { renderDetail, renderNoDetail } from "./detail.ts";
import { addDays, byId, num, plural, weekStart } from "./dom.ts";
import { createLayout, type Layout } from "./layout.ts";
import { createList, type ListView } from "./list.ts";
import { compileQuery, type Matcher, normalizeText } from "./search.ts";
import { createSidebar, type Filters, type Sidebar, syncSidebar, updateSidebar } from "./sidebar.ts";
import { buildTimeline, createTimeline, renderRow, rowHeight, stepRows, type Timeline } from "./timeline.ts";
import type { Payload } from "../types.ts";

export interface App {
  data: Payload;
  indexOfId: Map<number, number>;
  /** Newer memory id → the ids it replaces. */
  supersedes: Map<number, number[]>;
  /** Local Mondays from the oldest memory's week to the newest's, and each memory's week. */
  weeks: number[];
  weekOf: Int32Array;
  /** What search looks in (text and tags, normalized), built in the background after the first paint. */
  hay: string[];
  hayBuilt: number;
  f: Filters;
  query: string;
  matcher: Matcher | null;
  /** Which memories match `textQuery` (null: no search). */
  textOk: Uint8Array | null;
  textQuery: string;
  order: "newest" | "oldest";
  /** Selected memory (index), -1: none. */
  sel: number;
  /** A new search starts at its first result; other filters keep the memory in view when it still matches. */
  fromTop: boolean;
  shown: number;
  ui: Layout;
  rows: Timeline;
  view: ListView;
  sidebar: Sidebar;
}

/** At most this many ids go into one copied delete command (command lines have limits). */
export function bulkMax(): number {
  return 1000;
}

export function weeksOf(data: Payload): { weeks: number[]; weekOf: Int32Array } {
  const M = data.memories; // newest first
  const weeks: number[] = [];
  const weekOf = new Int32Array(M.length);
  if (!M.length) return { weeks, weekOf };
  for (let w = weekStart(M[M.length - 1][7]); w <= M[0][7]; w = addDays(w, 7)) weeks.push(w);
  for (let i = 0, w = weeks.length - 1; i < M.length; i++) {
    while (w > 0 && M[i][7] < weeks[w]) w--;
    weekOf[i] = w;
  }
  return { weeks, weekOf };
}

export function buildHaystack(app: App, upTo: number): void {
  const { data, hay } = app;
  for (; app.hayBuilt < upTo; app.hayBuilt++) {
    const m = data.memories[app.hayBuilt];
    hay[app.hayBuilt] = normalizeText(m[5].length ? `${m[4]}\n${m[5].map((t) => data.tags[t]).join(" ")}` : m[4]);
  }
}

export function startApp(): void {
  const data = JSON.parse(byId("sage-data").textContent || "null") as Payload;
  const n = data.memories.length;
  const indexOfId = new Map<number, number>();
  const supersedes = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const [id, , , , , , , , , , by] = data.memories[i];
    indexOfId.set(id, i);
    if (by) supersedes.set(by, [...(supersedes.get(by) ?? []), id]);
  }
  const f: Filters = {
    project: -1,
    kinds: new Set(),
    tags: new Set(),
    session: -2,
    from: NaN,
    to: NaN,
    hideSuperseded: false,
  };
  const { weeks, weekOf } = weeksOf(data);
  const app = {
    data,
    indexOfId,
    supersedes,
    weeks,
    weekOf,
    hay: new Array<string>(n),
    hayBuilt: 0,
    f,
    query: "",
    matcher: null,
    textOk: null,
    textQuery: "",
    order: "newest",
    sel: -1,
    fromTop: false,
    shown: 0,
    rows: createTimeline(data),
  } as Omit<App, "ui" | "view" | "sidebar"> as App;
  app.ui = createLayout(data, {
    sort: () => toggleOrder(app),
    reset: () => resetFilters(app),
    bulk: () => copyBulk(app),
    toggleFilters: () => toggleFilters(app),
  });
  app.view = createList(app.ui.viewport);
  app.sidebar = createSidebar(app.ui.filtersHost, data, f, weeks, () => applyFilters(app));
  wireEvents(app);
  applyFilters(app);
  const fromHash = /^#m(\d+)$/.exec(location.hash)?.[1];
  if (fromHash) jumpTo(app, Number(fromHash), false);
  document.documentElement.dataset.ready = "1";
  performance.mark("sage-ready");
  requestAnimationFrame(() => setTimeout(() => performance.mark("sage-painted"), 0)); // after the first frame
  const buildLater = () => {
    if (app.hayBuilt >= n) return;
    buildHaystack(app, Math.min(n, app.hayBuilt + 5000));
    setTimeout(buildLater, 0);
  };
  setTimeout(buildLater, 0);
}

/** Runs the search and filters over every memory, counts for the filter panel, and shows the result. */
export function applyFilters(app: App, keepScroll = false): void {
  const started = performance.now();
  const { data, f, weekOf } = app;
  const M = data.memories;
  const n = M.length;
  if (app.query !== app.textQuery) {
    app.matcher = compileQuery(app.query);
    app.textOk = null;
    if (app.matcher) {
      buildHaystack(app, n);
      app.textOk = new Uint8Array(n);
      for (let i = 0; i < n; i++) app.textOk[i] = app.matcher.test(app.hay[i], M[i][0]) ? 1 : 0;
    }
    app.textQuery = app.query;
  }
  const TEXT = 1, PROJECT = 2, KIND = 4, TAG = 8, SESSION = 16, DATE = 32, SUPERSEDED = 64;
  const counts = {
    kinds: new Int32Array(data.kinds.length),
    tags: new Int32Array(data.tags.length),
    weeksAll: new Int32Array(app.weeks.length),
    weeksMatching: new Int32Array(app.weeks.length),
  };
  const tags = [...f.tags];
  const textOk = app.textOk;
  const visible: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = M[i];
    let bits = textOk && !textOk[i] ? TEXT : 0;
    if (f.project >= 0 && m[1] !== f.project) bits |= PROJECT;
    if (f.kinds.size && !f.kinds.has(m[3])) bits |= KIND;
    if (tags.length && !tags.every((t) => m[5].includes(t))) bits |= TAG;
    if (f.session !== -2 && m[2] !== f.session) bits |= SESSION;
    if (m[7] < f.from || m[7] >= f.to) bits |= DATE; // NaN (no bound) compares false
    if (f.hideSuperseded && m[10]) bits |= SUPERSEDED;
    // Each count leaves out its own filter: what choosing that kind (tag, week…) would show.
    counts.weeksAll[weekOf[i]]++;
    if (!(bits & ~DATE)) counts.weeksMatching[weekOf[i]]++;
    if (!(bits & ~KIND)) counts.kinds[m[3]]++;
    if (!(bits & ~TAG)) { for (const t of m[5]) counts.tags[t]++; }
    if (!bits) visible.push(i);
  }
  buildTimeline(app.rows, app.order === "newest" ? visible : visible.reverse());
  app.shown = visible.length;
  updateSidebar(app.sidebar, counts);
  showCounts(app);
  app.view.setSource({
    count: app.rows.kind.length,
    height: (r) => rowHeight(app.rows.kind[r]),
    render: (r) => renderRow(app.rows, r, { sel: app.sel, session: f.session, matcher: app.matcher }),
  }, keepScroll);
  const keep = !app.fromTop && app.sel >= 0 && app.rows.rowOf[app.sel] >= 0;
  selectMemory(app, keep ? app.sel : app.shown ? app.rows.ref[stepRows(app.rows, -1, 1, 1)] : -1, { hash: false });
  app.fromTop = false;
  document.dispatchEvent(new CustomEvent("sage:update", { detail: { ms: performance.now() - started } }));
}

/** The status bar, the bulk delete button, the reset button and the sort button. */
export function showCounts(app: App): void {
  const { ui, f, shown } = app;
  const n = app.data.memories.length;
  const max = bulkMax();
  ui.status.textContent = shown === n
    ? `${plural(n, "memory", "memories")}, ${app.order} first`
    : `${num(shown)} of ${plural(n, "memory", "memories")}, ${app.order} first`;
  ui.bulkButton.textContent = `Copy delete command (${num(shown)})`;
  ui.bulkButton.disabled = shown === 0 || shown > max;
  ui.bulkButton.title = shown > max
    ? `Narrow the list to ${num(max)} memories or fewer`
    : "one command that deletes every memory listed";
  ui.resetButton.hidden = !app.query && f.project < 0 && !f.kinds.size && !f.tags.size && f.session === -2 &&
    Number.isNaN(f.from) && Number.isNaN(f.to) && !f.hideSuperseded;
  ui.sortButton.textContent = app.order === "newest" ? "Newest first" : "Oldest first";
  ui.empty.hidden = shown > 0;
}

export function selectMemory(app: App, i: number, opts: { reveal?: "nearest" | "center"; hash?: boolean } = {}) {
  const { rowOf } = app.rows;
  const prev = app.sel;
  app.sel = i;
  if (prev >= 0 && prev !== i && rowOf[prev] >= 0) app.view.refresh(rowOf[prev]);
  const viewport = app.ui.viewport;
  if (i >= 0 && rowOf[i] >= 0) {
    app.view.reveal(rowOf[i], opts.reveal);
    app.view.refresh(rowOf[i]);
    viewport.setAttribute("aria-activedescendant", `r${app.data.memories[i][0]}`);
  } else viewport.removeAttribute("aria-activedescendant");
  if (opts.hash !== false && i >= 0) setHash(app.data.memories[i][0], false);
  showDetail(app);
}

export function setHash(id: number, push: boolean): void {
  try {
    history[push ? "pushState" : "replaceState"](null, "", `#m${id}`);
  } catch {
    // some browsers refuse history changes on file: pages; the hash is a convenience
  }
}

export function showDetail(app: App): void {
  const { data, sel, f } = app;
  if (sel < 0) {
    renderNoDetail(app.ui.detailHost, app.shown ? "Select a memory to see it in full." : "No memory matches.");
    return;
  }
  const memory = data.memories[sel];
  renderDetail(app.ui.detailHost, {
    data,
    memory,
    matcher: app.matcher,
    supersedes: app.supersedes.get(memory[0]) ?? [],
    included: (id) => app.indexOfId.has(id),
    jump: (id) => jumpTo(app, id, true),
    filterTag: (t) => {
      f.tags.add(t);
      syncSidebar(app.sidebar);
      applyFilters(app);
    },
    filterSession: (s) => onlySession(app, s, memory[1]),
    copy: (text, what) => copyText(app, text, what),
    close: () => closeDetail(app),
  });
}
