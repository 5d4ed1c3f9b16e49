/// <reference lib="dom" />
/**
 * Client side of `sage view`: the filter panel (project, kind, tag, session, dates, superseded) with live counts,
 * and the weekly activity chart. Counts follow the other filters: the count on a kind is how many memories
 * would show with that kind chosen. Embedded in the page by lib/view/page.ts.
 */
import { renderChart } from "./chart.ts";
import { addDays, day, h, num, parseDay, some } from "./dom.ts";
import type { Payload } from "../types.ts";

export interface Filters {
  /** -1: every project. */
  project: number;
  kinds: Set<number>;
  /** All must match. */
  tags: Set<number>;
  /** -2: every session, -1: memories without one. */
  session: number;
  /** [from, to) in ms; NaN: open. */
  from: number;
  to: number;
  hideSuperseded: boolean;
}

export interface Counts {
  kinds: Int32Array;
  tags: Int32Array;
  weeksAll: Int32Array;
  weeksMatching: Int32Array;
}

export interface Sidebar {
  data: Payload;
  f: Filters;
  weeks: number[];
  changed: () => void;
  tagTotals: Int32Array;
  kindOrder: number[];
  projectSelect: HTMLSelectElement;
  sessionSelect: HTMLSelectElement;
  kindChips: HTMLElement;
  tagFind: HTMLInputElement;
  tagChips: HTMLElement;
  hideBox: HTMLInputElement;
  chartHost: HTMLElement;
  dates: { section: HTMLElement; fromInput: HTMLInputElement; toInput: HTMLInputElement };
  last: Counts | null;
}

export function filterSection(title: string, ...body: (Node | null)[]): HTMLElement {
  return h("section", { class: "filter" }, [h("h3", { text: title }), ...body]);
}

export function filterChip(label: string, count: number, pressed: boolean, onClick: () => void, testid: string) {
  return h("button", {
    class: `chip${pressed ? " on" : ""}${count ? "" : " zero"}`,
    attrs: { "aria-pressed": String(pressed), "data-testid": testid },
    on: { click: onClick },
  }, [label, h("span", { class: "count", text: num(count) })]);
}

/** The session choices of the chosen project (all of them for every project), most recently active first. */
export function fillSessions(select: HTMLSelectElement, data: Payload, f: Filters): void {
  const list = data.sessions.map((s, i) => ({ s, i })).filter(({ s }) => f.project < 0 || s[1] === f.project)
    .sort((a, b) => b.s[4] - a.s[4]);
  select.replaceChildren(
    h("option", { text: "All sessions", attrs: { value: "-2" } }),
    h("option", { text: "Without a session", attrs: { value: "-1" } }),
    ...list.map(({ s, i }) =>
      h("option", { text: `${s[2] || s[0].slice(0, 8)} · ${day(s[3])} · ${num(s[5])}`, attrs: { value: String(i) } })
    ),
  );
  if (f.session >= 0 && !list.some(({ i }) => i === f.session)) {
    select.append(h("option", { text: data.sessions[f.session][0], attrs: { value: String(f.session) } }));
  }
  select.value = String(f.session);
}

/** From and to dates, and the quick ranges. */
export function dateControls(f: Filters, changed: () => void, sync: () => void) {
  const fromInput = h("input", { attrs: { type: "date", "aria-label": "from date", "data-testid": "from" } });
  const toInput = h("input", { attrs: { type: "date", "aria-label": "to date", "data-testid": "to" } });
  const read = () => {
    f.from = parseDay(fromInput.value);
    const to = parseDay(toInput.value);
    f.to = Number.isNaN(to) ? NaN : addDays(to, 1);
    changed();
  };
  fromInput.addEventListener("change", read);
  toInput.addEventListener("change", read);
  const range = (label: string, days: number) =>
    h("button", {
      class: "chip",
      text: label,
      on: {
        click: () => {
          f.from = days ? addDays(new Date(new Date().setHours(0, 0, 0, 0)).getTime(), 1 - days) : NaN;
          f.to = NaN;
          sync();
          changed();
        },
      },
    });
  const section = filterSection(
    "Dates",
    h("div", { class: "dates" }, [h("label", { text: "From " }, [fromInput]), h("label", { text: "To " }, [toInput])]),
    h("div", { class: "chips" }, [range("Last 7 days", 7), range("Last 30 days", 30), range("Any time", 0)]),
  );
  return { section, fromInput, toInput };
}

export function createSidebar(
  host: HTMLElement,
  data: Payload,
  f: Filters,
  weeks: number[],
  changed: () => void,
): Sidebar {
  const kindTotals = new Int32Array(data.kinds.length);
  const tagTotals = new Int32Array(data.tags.length);
  let superseded = 0;
  for (const m of data.memories) {
    kindTotals[m[3]]++;
    for (const t of m[5]) tagTotals[t]++;
    if (m[10]) superseded++;
  }
  const s: Sidebar = {
    data,
    f,
    weeks,
    changed,
    tagTotals,
    kindOrder: data.kinds.map((_, i) => i).sort((a, b) => kindTotals[b] - kindTotals[a]),
    projectSelect: h("select", { attrs: { "aria-label": "project", "data-testid": "project" } }),
    sessionSelect: h("select", { attrs: { "aria-label": "session", "data-testid": "session" } }),
    kindChips: h("div", { class: "chips", attrs: { role: "group", "aria-label": "kinds" } }),
    tagFind: h("input", {
      attrs: { type: "search", placeholder: "Find a tag…", "aria-label": "find a tag", "data-testid": "tag-find" },
    }),
    tagChips: h("div", { class: "chips tags", attrs: { role: "group", "aria-label": "tags" } }),
    hideBox: h("input", { attrs: { type: "checkbox", "data-testid": "hide-superseded" } }),
    chartHost: h("div", { class: "chart", attrs: { "data-testid": "chart" } }),
    dates: dateControls(f, changed, () => syncSidebar(s)),
    last: null,
  };
  s.projectSelect.append(h("option", { text: "All projects", attrs: { value: "-1" } }));
  data.projects.forEach((p, i) => s.projectSelect.append(h("option", { text: p, attrs: { value: String(i) } })));
  s.projectSelect.addEventListener("change", () => {
    f.project = Number(s.projectSelect.value);
    f.session = -2;
    fillSessions(s.sessionSelect, data, f);
    changed();
  });
  s.sessionSelect.addEventListener("change", () => {
    f.session = Number(s.sessionSelect.value);
    changed();
  });
  s.tagFind.addEventListener("input", () => s.last && updateSidebar(s, s.last));
  s.hideBox.addEventListener("change", () => {
    f.hideSuperseded = s.hideBox.checked;
    changed();
  });
  host.replaceChildren(...some(
    data.projects.length > 1 ? filterSection("Project", s.projectSelect) : null,
    filterSection("Kind", s.kindChips),
    data.tags.length ? filterSection("Tags (all must match)", s.tagFind, s.tagChips) : null,
    data.sessions.length ? filterSection("Session", s.sessionSelect) : null,
    s.dates.section,
    superseded
      ? filterSection("Superseded", h("label", {}, [s.hideBox, ` Hide the ${num(superseded)} superseded`]))
      : null,
    filterSection("Activity by week", s.chartHost),
  ));
  syncSidebar(s);
  return s;
}

/** New counts on the chips and the chart. */
export function updateSidebar(s: Sidebar, c: Counts): void {
  const { data, f } = s;
  s.last = c;
  const toggle = (set: Set<number>, v: number) => () => {
    if (!set.delete(v)) set.add(v);
    s.changed();
  };
  s.kindChips.replaceChildren(
    ...s.kindOrder.map((k) =>
      filterChip(data.kinds[k], c.kinds[k], f.kinds.has(k), toggle(f.kinds, k), `kind-${data.kinds[k]}`)
    ),
  );
  const want = s.tagFind.value.trim().toLowerCase();
  const shown = data.tags.map((_, i) => i)
    .filter((t) => f.tags.has(t) || data.tags[t].toLowerCase().includes(want))
    .sort((a, b) =>
      Number(f.tags.has(b)) - Number(f.tags.has(a)) || c.tags[b] - c.tags[a] || s.tagTotals[b] - s.tagTotals[a]
    );
  s.tagChips.replaceChildren(...some(
    ...shown.slice(0, 60).map((t) =>
      filterChip(data.tags[t], c.tags[t], f.tags.has(t), toggle(f.tags, t), `tag-${data.tags[t]}`)
    ),
    shown.length > 60
      ? h("span", { class: "muted", text: `and ${num(shown.length - 60)} more: find one above` })
      : null,
  ));
  renderChart(s.chartHost, {
    weeks: s.weeks,
    all: c.weeksAll,
    matching: c.weeksMatching,
    from: f.from,
    to: f.to,
    onPick: (start) => {
      f.from = start;
      f.to = addDays(start, 7);
      syncSidebar(s);
      s.changed();
    },
  });
}

/** Puts the controls in line with the filters (after a reset, a chart click, a click in the list). */
export function syncSidebar(s: Sidebar): void {
  const f = s.f;
  s.projectSelect.value = String(f.project);
  fillSessions(s.sessionSelect, s.data, f);
  s.dates.fromInput.value = Number.isNaN(f.from) ? "" : day(f.from);
  s.dates.toInput.value = Number.isNaN(f.to) ? "" : day(addDays(f.to, -1));
  s.hideBox.checked = f.hideSuperseded;
}
