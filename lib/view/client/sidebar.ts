/// <reference lib="dom" />
/**
 * Client side of `sage view`: the filter panel (project, kind, tag, session, dates, superseded) with live counts,
 * and the weekly activity chart. Counts follow the other filters: the count on a kind is how many memories
 * would show with that kind chosen. Self-contained: the page embeds its source.
 */
import type { Chart } from "./chart.ts";
import type { Dom } from "./dom.ts";
import type { Payload } from "../types.ts";

export function makeSidebar(dom: Dom, chart: Chart) {
  const { h } = dom;

  interface Filters {
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

  interface Counts {
    kinds: Int32Array;
    tags: Int32Array;
    projects: Int32Array;
    weeksAll: Int32Array;
    weeksMatching: Int32Array;
  }

  function create(host: HTMLElement, data: Payload, f: Filters, weeks: number[], changed: () => void) {
    const section = (title: string, ...body: (Node | null)[]) =>
      h("section", { class: "filter" }, [h("h3", { text: title }), ...body]);
    const totals = new Int32Array(data.kinds.length);
    for (const m of data.memories) totals[m[3]]++;
    const kindOrder = data.kinds.map((_, i) => i).sort((a, b) => totals[b] - totals[a]);
    const tagTotals = new Int32Array(data.tags.length);
    for (const m of data.memories) for (const t of m[5]) tagTotals[t]++;
    const superseded = data.memories.reduce((n, m) => n + (m[10] ? 1 : 0), 0);

    const projectSelect = h("select", { attrs: { "aria-label": "project", "data-testid": "project" } });
    projectSelect.append(h("option", { text: "All projects", attrs: { value: "-1" } }));
    data.projects.forEach((p, i) => projectSelect.append(h("option", { text: p, attrs: { value: String(i) } })));
    projectSelect.addEventListener("change", () => {
      f.project = Number(projectSelect.value);
      f.session = -2;
      fillSessions();
      changed();
    });

    const kindChips = h("div", { class: "chips", attrs: { role: "group", "aria-label": "kinds" } });
    const tagFilter = h("input", {
      attrs: { type: "search", placeholder: "Find a tag…", "aria-label": "find a tag", "data-testid": "tag-find" },
    });
    const tagChips = h("div", { class: "chips tags", attrs: { role: "group", "aria-label": "tags" } });
    tagFilter.addEventListener("input", () => update(last));

    const sessionSelect = h("select", { attrs: { "aria-label": "session", "data-testid": "session" } });
    sessionSelect.addEventListener("change", () => {
      f.session = Number(sessionSelect.value);
      changed();
    });
    function fillSessions(): void {
      const list = data.sessions.map((s, i) => ({ s, i })).filter(({ s }) => f.project < 0 || s[1] === f.project)
        .sort((a, b) => b.s[4] - a.s[4]);
      sessionSelect.replaceChildren(
        h("option", { text: "All sessions", attrs: { value: "-2" } }),
        h("option", { text: "Without a session", attrs: { value: "-1" } }),
        ...list.map(({ s, i }) =>
          h("option", {
            text: `${s[2] || s[0].slice(0, 8)} · ${dom.day(s[3])} · ${dom.num(s[5])}`,
            attrs: { value: String(i), title: s[0] },
          })
        ),
      );
      if (f.session >= 0 && !list.some(({ i }) => i === f.session)) {
        sessionSelect.append(h("option", { text: data.sessions[f.session][0], attrs: { value: String(f.session) } }));
      }
      sessionSelect.value = String(f.session);
    }

    const fromInput = h("input", { attrs: { type: "date", "aria-label": "from date", "data-testid": "from" } });
    const toInput = h("input", { attrs: { type: "date", "aria-label": "to date", "data-testid": "to" } });
    const readDates = () => {
      f.from = dom.parseDay(fromInput.value);
      const to = dom.parseDay(toInput.value);
      f.to = Number.isNaN(to) ? NaN : dom.addDays(to, 1);
      changed();
    };
    fromInput.addEventListener("change", readDates);
    toInput.addEventListener("change", readDates);
    const lastDays = (days: number) => () => {
      f.from = dom.addDays(new Date(new Date().setHours(0, 0, 0, 0)).getTime(), 1 - days);
      f.to = NaN;
      sync();
      changed();
    };
    const hideBox = h("input", { attrs: { type: "checkbox", "data-testid": "hide-superseded" } });
    hideBox.addEventListener("change", () => {
      f.hideSuperseded = hideBox.checked;
      changed();
    });
    const chartHost = h("div", { class: "chart", attrs: { "data-testid": "chart" } });

    host.replaceChildren(...dom.some(
      data.projects.length > 1 ? section("Project", projectSelect) : null,
      section("Kind", kindChips),
      data.tags.length ? section("Tags (all must match)", tagFilter, tagChips) : null,
      data.sessions.length ? section("Session", sessionSelect) : null,
      section(
        "Dates",
        h("div", { class: "dates" }, [
          h("label", { text: "From " }, [fromInput]),
          h("label", { text: "To " }, [toInput]),
        ]),
        h("div", { class: "chips" }, [
          h("button", { class: "chip", text: "Last 7 days", on: { click: lastDays(7) } }),
          h("button", { class: "chip", text: "Last 30 days", on: { click: lastDays(30) } }),
          h("button", {
            class: "chip",
            text: "Any time",
            on: {
              click: () => {
                f.from = f.to = NaN;
                sync();
                changed();
              },
            },
          }),
        ]),
      ),
      superseded
        ? section("Superseded", h("label", {}, [hideBox, ` Hide the ${dom.num(superseded)} superseded`]))
        : null,
      section("Activity by week", chartHost),
    ));

    function chip(label: string, count: number, pressed: boolean, onClick: () => void, testid: string): HTMLElement {
      return h("button", {
        class: `chip${pressed ? " on" : ""}${count ? "" : " zero"}`,
        attrs: { "aria-pressed": String(pressed), "data-testid": testid },
        on: { click: onClick },
      }, [label, h("span", { class: "count", text: dom.num(count) })]);
    }
    const toggle = (set: Set<number>, v: number) => () => {
      if (!set.delete(v)) set.add(v);
      changed();
    };

    let last: Counts | null = null;
    function update(c: Counts | null): void {
      last = c;
      if (!c) return;
      kindChips.replaceChildren(
        ...kindOrder.map((k) =>
          chip(data.kinds[k], c.kinds[k], f.kinds.has(k), toggle(f.kinds, k), `kind-${data.kinds[k]}`)
        ),
      );
      const want = tagFilter.value.trim().toLowerCase();
      const shown = data.tags.map((_, i) => i)
        .filter((t) => f.tags.has(t) || data.tags[t].toLowerCase().includes(want))
        .sort((a, b) =>
          Number(f.tags.has(b)) - Number(f.tags.has(a)) || c.tags[b] - c.tags[a] || tagTotals[b] - tagTotals[a]
        );
      tagChips.replaceChildren(...dom.some(
        ...shown.slice(0, 60).map((t) =>
          chip(data.tags[t], c.tags[t], f.tags.has(t), toggle(f.tags, t), `tag-${data.tags[t]}`)
        ),
        shown.length > 60
          ? h("span", { class: "muted", text: `and ${dom.num(shown.length - 60)} more: find one above` })
          : null,
      ));
      chart.render(chartHost, {
        weeks,
        all: c.weeksAll,
        matching: c.weeksMatching,
        from: f.from,
        to: f.to,
        onPick: (start) => {
          f.from = start;
          f.to = dom.addDays(start, 7);
          sync();
          changed();
        },
      });
    }

    /** Puts the controls in line with the filters (after a reset, a chart click, a click in the list). */
    function sync(): void {
      projectSelect.value = String(f.project);
      fillSessions();
      fromInput.value = Number.isNaN(f.from) ? "" : dom.day(f.from);
      toInput.value = Number.isNaN(f.to) ? "" : dom.day(dom.addDays(f.to, -1));
      hideBox.checked = f.hideSuperseded;
    }

    sync();
    return { update, sync };
  }

  return { create };
}

export type Sidebar = ReturnType<typeof makeSidebar>;
