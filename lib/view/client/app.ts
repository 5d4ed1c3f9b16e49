/// <reference lib="dom" />
/**
 * Client side of `sage view`: reads the embedded data, filters it (search, kind, tag, session, dates), groups it
 * into a timeline (project → session → memory, newest or oldest first), and wires the list, the detail panel,
 * the filter panel and the keyboard together. Self-contained: the page embeds its source, and gets the other
 * parts as arguments.
 */
import type { Chart } from "./chart.ts";
import type { Detail } from "./detail.ts";
import type { Dom } from "./dom.ts";
import type { Layout } from "./layout.ts";
import type { List } from "./list.ts";
import type { Matcher, Search } from "./search.ts";
import type { Sidebar } from "./sidebar.ts";
import type { Timeline } from "./timeline.ts";
import type { Payload } from "../types.ts";

interface Parts {
  dom: Dom;
  search: Search;
  chart: Chart;
  list: List;
  detail: Detail;
  sidebar: Sidebar;
  layout: Layout;
  timeline: Timeline;
}

export function makeApp(parts: Parts) {
  const { dom, search, list, detail } = parts;
  const { h } = dom;
  const data = JSON.parse(dom.byId("sage-data").textContent || "null") as Payload;
  const M = data.memories; // newest first
  const n = M.length;
  const BULK_MAX = 1000;

  // ---- derived once ---------------------------------------------------------------------------------------
  const indexOfId = new Map<number, number>();
  const supersedes = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    indexOfId.set(M[i][0], i);
    const by = M[i][10];
    if (by) supersedes.set(by, [...(supersedes.get(by) ?? []), M[i][0]]);
  }
  const weeks: number[] = [];
  const weekOf = new Int32Array(n);
  if (n) {
    for (let w = dom.weekStart(M[n - 1][7]); w <= M[0][7]; w = dom.addDays(w, 7)) weeks.push(w);
    for (let i = 0, w = weeks.length - 1; i < n; i++) {
      while (w > 0 && M[i][7] < weeks[w]) w--;
      weekOf[i] = w;
    }
  }
  // What search looks in (text and tags, normalized), built in the background after the first paint.
  const hay: string[] = new Array(n);
  let hayBuilt = 0;
  function buildHay(upTo: number): void {
    for (; hayBuilt < upTo; hayBuilt++) {
      const m = M[hayBuilt];
      hay[hayBuilt] = search.normalize(m[5].length ? `${m[4]}\n${m[5].map((t) => data.tags[t]).join(" ")}` : m[4]);
    }
  }
  const buildLater = () => {
    if (hayBuilt >= n) return;
    buildHay(Math.min(n, hayBuilt + 5000));
    setTimeout(buildLater, 0);
  };

  // ---- state ------------------------------------------------------------------------------------------------
  const f = {
    project: -1,
    kinds: new Set<number>(),
    tags: new Set<number>(),
    session: -2,
    from: NaN,
    to: NaN,
    hideSuperseded: false,
  };
  let query = "";
  let matcher: Matcher | null = null;
  let order: "newest" | "oldest" = "newest";
  let sel = -1;
  /** A new search starts at its first result; other filters keep the memory in view when it still matches. */
  let fromTop = false;
  let shownCount = 0;
  const ui = parts.layout.create(data, {
    sort: () => setOrder(),
    reset: () => reset(),
    bulk: () => copyBulk(),
    toggleFilters: () => toggleFilters(),
  });
  const { searchInput, viewport, detailHost, help } = ui;
  const rows = parts.timeline.create(data);
  const rowOf = rows.rowOf;
  const view = list.create(viewport);
  const filters = parts.sidebar.create(ui.filtersHost, data, f, weeks, () => apply());

  // ---- filtering and the timeline ---------------------------------------------------------------------------
  const TEXT = 1, PROJECT = 2, KIND = 4, TAG = 8, SESSION = 16, DATE = 32, SUPERSEDED = 64;
  let textOk: Uint8Array | null = null;
  let textQuery = "";

  function apply(keepScroll = false): void {
    const started = performance.now();
    if (query !== textQuery) {
      matcher = search.compile(query);
      textOk = null;
      if (matcher) {
        buildHay(n);
        textOk = new Uint8Array(n);
        for (let i = 0; i < n; i++) textOk[i] = matcher.test(hay[i], M[i][0]) ? 1 : 0;
      }
      textQuery = query;
    }
    const counts = {
      kinds: new Int32Array(data.kinds.length),
      tags: new Int32Array(data.tags.length),
      projects: new Int32Array(data.projects.length),
      weeksAll: new Int32Array(weeks.length),
      weeksMatching: new Int32Array(weeks.length),
    };
    const tags = [...f.tags];
    const visible: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = M[i];
      let bits = textOk && !textOk[i] ? TEXT : 0;
      if (f.project >= 0 && m[1] !== f.project) bits |= PROJECT;
      if (f.kinds.size && !f.kinds.has(m[3])) bits |= KIND;
      for (const t of tags) {
        if (!m[5].includes(t)) {
          bits |= TAG;
          break;
        }
      }
      if (f.session !== -2 && m[2] !== f.session) bits |= SESSION;
      if (m[7] < f.from || m[7] >= f.to) bits |= DATE; // NaN (no bound) compares false
      if (f.hideSuperseded && m[10]) bits |= SUPERSEDED;
      // Each count leaves out its own filter: what choosing that kind (tag, week…) would show.
      counts.weeksAll[weekOf[i]]++;
      if (!(bits & ~DATE)) counts.weeksMatching[weekOf[i]]++;
      if (!(bits & ~KIND)) counts.kinds[m[3]]++;
      if (!(bits & ~TAG)) { for (const t of m[5]) counts.tags[t]++; }
      if (!(bits & ~PROJECT)) counts.projects[m[1]]++;
      if (!bits) visible.push(i);
    }
    rows.build(order === "newest" ? visible : visible.reverse());
    shownCount = visible.length;
    filters.update(counts);
    ui.status.textContent = shownCount === n
      ? `${dom.plural(n, "memory", "memories")}, ${order} first`
      : `${dom.num(shownCount)} of ${dom.plural(n, "memory", "memories")}, ${order} first`;
    ui.bulkButton.textContent = `Copy delete command (${dom.num(shownCount)})`;
    ui.bulkButton.disabled = shownCount === 0 || shownCount > BULK_MAX;
    ui.bulkButton.title = shownCount > BULK_MAX
      ? `Narrow the list to ${dom.num(BULK_MAX)} memories or fewer`
      : "one command that deletes every memory listed";
    ui.resetButton.hidden = !query && f.project < 0 && !f.kinds.size && !f.tags.size && f.session === -2 &&
      Number.isNaN(f.from) && Number.isNaN(f.to) && !f.hideSuperseded;
    ui.sortButton.textContent = order === "newest" ? "Newest first" : "Oldest first";
    ui.empty.hidden = shownCount > 0;
    view.setSource({
      count: rows.rows(),
      height: rows.height,
      render: (r) => rows.render(r, { sel, session: f.session, matcher }),
    }, keepScroll);
    if (fromTop || sel < 0 || rowOf[sel] < 0) {
      select(shownCount ? rows.memoryAt(rows.step(-1, 1, 1)) : -1, { hash: false });
    } else select(sel, { hash: false });
    fromTop = false;
    document.dispatchEvent(new CustomEvent("sage:update", { detail: { ms: performance.now() - started } }));
  }

  // ---- selection, detail, navigation ------------------------------------------------------------------------
  function select(i: number, opts: { reveal?: "nearest" | "center"; hash?: boolean } = {}): void {
    const prev = sel;
    sel = i;
    if (prev >= 0 && prev !== i && rowOf[prev] >= 0) view.refresh(rowOf[prev]);
    if (i >= 0 && rowOf[i] >= 0) {
      view.reveal(rowOf[i], opts.reveal);
      view.refresh(rowOf[i]);
      viewport.setAttribute("aria-activedescendant", `r${M[i][0]}`);
    } else viewport.removeAttribute("aria-activedescendant");
    if (opts.hash !== false && i >= 0) setHash(M[i][0], false);
    showDetail();
  }

  function setHash(id: number, push: boolean): void {
    try {
      history[push ? "pushState" : "replaceState"](null, "", `#m${id}`);
    } catch {
      // some browsers refuse history changes on file: pages; the hash is a convenience
    }
  }

  function showDetail(): void {
    if (sel < 0) {
      detail.empty(detailHost, shownCount ? "Select a memory to see it in full." : "No memory matches.");
      return;
    }
    detail.render(detailHost, {
      data,
      memory: M[sel],
      matcher,
      supersedes: supersedes.get(M[sel][0]) ?? [],
      included: (id) => indexOfId.has(id),
      jump: (id) => jump(id, true),
      filterTag: (t) => {
        f.tags.add(t);
        filters.sync();
        apply();
      },
      filterSession: (s) => onlySession(s, M[sel][1]),
      copy,
      close: closeDetail,
    });
  }

  /** Shows memory `id`, clearing filters that hide it. */
  function jump(id: number, push: boolean): void {
    const i = indexOfId.get(id);
    if (i === undefined) return ui.toast(`Memory #${id} is not in this page`);
    if (rowOf[i] < 0) {
      reset();
      ui.toast(`Filters cleared to show #${id}`);
    }
    if (push) setHash(id, true);
    select(i, { reveal: "center", hash: false });
  }

  function move(delta: number): void {
    const dir = Math.sign(delta);
    const from = sel >= 0 && rowOf[sel] >= 0 ? rowOf[sel] : dir > 0 ? -1 : rows.rows();
    const target = rows.step(from, dir, Math.abs(delta));
    if (target >= 0) select(rows.memoryAt(target));
  }

  function openDetail(): void {
    if (sel < 0) return;
    document.body.classList.add("detail-open");
    detailHost.focus();
  }
  function closeDetail(): void {
    document.body.classList.remove("detail-open");
    viewport.focus();
  }
  function toggleFilters(open = !document.body.classList.contains("filters-open")): void {
    document.body.classList.toggle("filters-open", open);
    ui.filtersButton.setAttribute("aria-expanded", String(open));
  }

  function onlySession(s: number, project: number): void {
    f.session = f.session === s ? -2 : s;
    if (f.session !== -2 && f.project >= 0) f.project = project;
    filters.sync();
    apply();
  }

  function reset(): void {
    Object.assign(f, { project: -1, session: -2, from: NaN, to: NaN, hideSuperseded: false });
    f.kinds.clear();
    f.tags.clear();
    query = searchInput.value = "";
    filters.sync();
    apply();
  }

  function setOrder(): void {
    order = order === "newest" ? "oldest" : "newest";
    apply();
    if (sel >= 0) select(sel, { reveal: "center", hash: false });
  }

  // ---- copying ---------------------------------------------------------------------------------------------
  async function copy(text: string, what: string): Promise<void> {
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      // no clipboard API here (or no permission): the old way
      const area = h("textarea", { attrs: { readonly: "", class: "offscreen" } });
      area.value = text;
      document.body.append(area);
      area.select();
      try {
        ok = document.execCommand("copy");
      } catch {
        ok = false;
      }
      area.remove();
    }
    ui.toast(ok ? `Copied ${what}` : `Could not copy ${what}: select it and copy it by hand`);
  }

  function copyBulk(): void {
    const ids = rows.memories().map((i) => M[i][0]);
    if (!ids.length || ids.length > BULK_MAX) return;
    const command = `${data.command} delete ${ids.join(" ")}${ids.length > 1 ? " --yes" : ""}`;
    copy(command, `the command that deletes ${dom.plural(ids.length, "memory", "memories")}`);
  }

  // ---- events ------------------------------------------------------------------------------------------------
  let pending = 0;
  searchInput.addEventListener("input", () => {
    query = searchInput.value;
    fromTop = true;
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => apply());
  });
  viewport.addEventListener("click", (e) => {
    const target = e.target as HTMLElement;
    const button = target.closest<HTMLElement>("[data-session]");
    if (button) return onlySession(Number(button.dataset.session), Number(button.dataset.project));
    const row = target.closest<HTMLElement>("[data-i]");
    if (row) select(Number(row.dataset.i));
  });
  viewport.addEventListener("dblclick", (e) => {
    if ((e.target as HTMLElement).closest("[data-i]")) openDetail();
  });
  addEventListener("popstate", () => {
    const id = /^#m(\d+)$/.exec(location.hash)?.[1];
    if (id) jump(Number(id), false);
  });
  document.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    const typing = target.matches("input, textarea, select");
    if ((e.key === "/" && !typing) || (e.key === "k" && (e.ctrlKey || e.metaKey))) {
      e.preventDefault();
      searchInput.focus();
      searchInput.select();
      return;
    }
    if (e.key === "Escape") {
      if (document.body.classList.contains("detail-open") || detailHost.contains(target)) return closeDetail();
      if (document.body.classList.contains("filters-open")) return toggleFilters(false);
      if (target === searchInput && searchInput.value) {
        e.preventDefault();
        searchInput.value = "";
        searchInput.dispatchEvent(new Event("input"));
      } else if (typing) viewport.focus();
      return;
    }
    if (typing) {
      if (target === searchInput && (e.key === "ArrowDown" || e.key === "Enter")) {
        e.preventDefault();
        viewport.focus();
      }
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey || help.open) return;
    const onButton = target.matches("button, a, summary");
    const page = view.perPage(rows.memoryHeight);
    const keys: Record<string, () => void> = {
      j: () => move(1),
      ArrowDown: () => move(1),
      k: () => move(-1),
      ArrowUp: () => move(-1),
      PageDown: () => move(page),
      PageUp: () => move(-page),
      g: () => move(-Infinity),
      Home: () => move(-Infinity),
      G: () => move(Infinity),
      End: () => move(Infinity),
      o: openDetail,
      c: () => sel >= 0 && copy(`${data.command} delete ${M[sel][0]}`, "the delete command"),
      s: setOrder,
      "?": () => help.showModal(),
      ...(onButton ? {} : { Enter: openDetail }),
    };
    const action = keys[e.key];
    if (!action) return;
    e.preventDefault();
    action();
  });

  // ---- start ------------------------------------------------------------------------------------------------
  apply();
  const fromHash = /^#m(\d+)$/.exec(location.hash)?.[1];
  if (fromHash) jump(Number(fromHash), false);
  document.documentElement.dataset.ready = "1";
  performance.mark("sage-ready");
  requestAnimationFrame(() => setTimeout(() => performance.mark("sage-painted"), 0)); // after the first frame
  setTimeout(buildLater, 0);
}
