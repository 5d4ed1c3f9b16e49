/// <reference lib="dom" />
/**
 * Client side of `sage view`: what the reader does (select, jump, open, filter from the list, copy, the keyboard)
 * on the `App` state of app.ts. Embedded in the page by lib/view/page.ts.
 */
import { type App, applyFilters, bulkMax, selectMemory, setHash } from "./app.ts";
import { h, plural } from "./dom.ts";
import { syncSidebar } from "./sidebar.ts";
import { listedMemories, rowHeight, stepRows } from "./timeline.ts";

/** Shows memory `id`, clearing the filters that hide it. */
export function jumpTo(app: App, id: number, push: boolean): void {
  const i = app.indexOfId.get(id);
  if (i === undefined) return app.ui.toast(`Memory #${id} is not in this page`);
  if (app.rows.rowOf[i] < 0) {
    resetFilters(app);
    app.ui.toast(`Filters cleared to show #${id}`);
  }
  if (push) setHash(id, true);
  selectMemory(app, i, { reveal: "center", hash: false });
}

export function moveSelection(app: App, delta: number): void {
  const dir = Math.sign(delta);
  const at = app.sel >= 0 ? app.rows.rowOf[app.sel] : -1;
  const target = stepRows(app.rows, at >= 0 ? at : dir > 0 ? -1 : app.rows.kind.length, dir, Math.abs(delta));
  if (target >= 0) selectMemory(app, app.rows.ref[target]);
}

export function openDetail(app: App): void {
  if (app.sel < 0) return;
  document.body.classList.add("detail-open");
  app.ui.detailHost.focus();
}

export function closeDetail(app: App): void {
  document.body.classList.remove("detail-open");
  app.ui.viewport.focus();
}

export function toggleFilters(app: App, open = !document.body.classList.contains("filters-open")): void {
  document.body.classList.toggle("filters-open", open);
  app.ui.filtersButton.setAttribute("aria-expanded", String(open));
}

export function onlySession(app: App, session: number, project: number): void {
  const f = app.f;
  f.session = f.session === session ? -2 : session;
  if (f.session !== -2 && f.project >= 0) f.project = project;
  syncSidebar(app.sidebar);
  applyFilters(app);
}

export function resetFilters(app: App): void {
  Object.assign(app.f, { project: -1, session: -2, from: NaN, to: NaN, hideSuperseded: false });
  app.f.kinds.clear();
  app.f.tags.clear();
  app.query = app.ui.searchInput.value = "";
  syncSidebar(app.sidebar);
  applyFilters(app);
}

export function toggleOrder(app: App): void {
  app.order = app.order === "newest" ? "oldest" : "newest";
  applyFilters(app);
  if (app.sel >= 0) selectMemory(app, app.sel, { reveal: "center", hash: false });
}

export async function copyText(app: App, text: string, what: string): Promise<void> {
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
  app.ui.toast(ok ? `Copied ${what}` : `Could not copy ${what}: select it and copy it by hand`);
}

/** One command that deletes every memory listed. */
export function copyBulk(app: App): void {
  const ids = listedMemories(app.rows).map((i) => app.data.memories[i][0]);
  if (!ids.length || ids.length > bulkMax()) return;
  const command = `${app.data.command} delete ${ids.join(" ")}${ids.length > 1 ? " --yes" : ""}`;
  copyText(app, command, `the command that deletes ${plural(ids.length, "memory", "memories")}`);
}

export function onKeyDown(app: App, e: KeyboardEvent): void {
  const { ui } = app;
  const target = e.target as HTMLElement;
  const typing = target.matches("input, textarea, select");
  if ((e.key === "/" && !typing) || (e.key === "k" && (e.ctrlKey || e.metaKey))) {
    e.preventDefault();
    ui.searchInput.focus();
    ui.searchInput.select();
    return;
  }
  if (e.key === "Escape") {
    if (document.body.classList.contains("detail-open") || ui.detailHost.contains(target)) return closeDetail(app);
    if (document.body.classList.contains("filters-open")) return toggleFilters(app, false);
    if (target === ui.searchInput && ui.searchInput.value) {
      e.preventDefault();
      ui.searchInput.value = "";
      ui.searchInput.dispatchEvent(new Event("input"));
    } else if (typing) ui.viewport.focus();
    return;
  }
  if (typing) {
    if (target === ui.searchInput && (e.key === "ArrowDown" || e.key === "Enter")) {
      e.preventDefault();
      ui.viewport.focus();
    }
    return;
  }
  if (e.altKey || e.ctrlKey || e.metaKey || ui.help.open) return;
  const page = app.view.perPage(rowHeight(2));
  const move = (delta: number) => () => moveSelection(app, delta);
  const keys: Record<string, () => void> = {
    j: move(1),
    ArrowDown: move(1),
    k: move(-1),
    ArrowUp: move(-1),
    PageDown: move(page),
    PageUp: move(-page),
    g: move(-Infinity),
    Home: move(-Infinity),
    G: move(Infinity),
    End: move(Infinity),
    o: () => openDetail(app),
    c: () =>
      app.sel >= 0 &&
      copyText(app, `${app.data.command} delete ${app.data.memories[app.sel][0]}`, "the delete command"),
    s: () => toggleOrder(app),
    "?": () => ui.help.showModal(),
    // Enter on a button or link is that button's.
    ...(target.matches("button, a, summary") ? {} : { Enter: () => openDetail(app) }),
  };
  const action = keys[e.key];
  if (!action) return;
  e.preventDefault();
  action();
}

export function wireEvents(app: App): void {
  const { ui } = app;
  let pending = 0;
  ui.searchInput.addEventListener("input", () => {
    app.query = ui.searchInput.value;
    app.fromTop = true;
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => applyFilters(app));
  });
  ui.viewport.addEventListener("click", (e) => {
    const target = e.target as HTMLElement;
    const button = target.closest<HTMLElement>("[data-session]");
    if (button) return onlySession(app, Number(button.dataset.session), Number(button.dataset.project));
    const row = target.closest<HTMLElement>("[data-i]");
    if (row) selectMemory(app, Number(row.dataset.i));
  });
  ui.viewport.addEventListener("dblclick", (e) => {
    if ((e.target as HTMLElement).closest("[data-i]")) openDetail(app);
  });
  addEventListener("popstate", () => {
    const id = /^#m(\d+)$/.exec(location.hash)?.[1];
    if (id) jumpTo(app, Number(id), false);
  });
  document.addEventListener("keydown", (e) => onKeyDown(app, e));
}
