/// <reference lib="dom" />
/**
 * Client side of `sage view`: the page's frame (header with the search box, the filter column, the list with its
 * status bar, the memory panel, the keyboard help, the toast), built once. Embedded in the page by
 * lib/view/page.ts.
 */
import { h, minute, num, plural } from "./dom.ts";
import type { Payload } from "../types.ts";

export interface LayoutActions {
  sort(): void;
  reset(): void;
  bulk(): void;
  toggleFilters(): void;
}

export type Layout = ReturnType<typeof createLayout>;

/** The keyboard help, opened with ? (a native dialog: Esc closes it). */
export function helpDialog(): HTMLDialogElement {
  const keys = [
    ["/", "search (Ctrl+K too)"],
    ["j  ↓", "next memory"],
    ["k  ↑", "previous memory"],
    ["PgDn PgUp", "a page down or up"],
    ["g  G", "first, last (Home, End)"],
    ["Enter  o", "open the memory"],
    ["Esc", "back to the list"],
    ["c", "copy the delete command"],
    ["s", "newest or oldest first"],
    ["?", "this help"],
  ];
  const help = h("dialog", { class: "help", attrs: { "aria-label": "keyboard shortcuts" } }, [
    h("h2", { text: "Keyboard" }),
    h("dl", {}, keys.flatMap(([k, v]) => [h("dt", {}, [h("kbd", { text: k })]), h("dd", { text: v })])),
    h("button", { text: "Close", on: { click: () => help.close() } }),
  ]);
  return help;
}

export function createLayout(data: Payload, act: LayoutActions) {
  const searchInput = h("input", {
    attrs: {
      type: "search",
      placeholder: "Search memories  ( / )",
      "aria-label": "search memories",
      autocomplete: "off",
      spellcheck: "false",
      "data-testid": "search",
    },
  });
  const sortButton = h("button", { attrs: { "data-testid": "sort" }, on: { click: act.sort } });
  const filtersButton = h("button", {
    class: "only-narrow",
    text: "Filters",
    attrs: { "aria-controls": "filters", "aria-expanded": "false" },
    on: { click: act.toggleFilters },
  });
  const help = helpDialog();
  const status = h("span", { class: "status", attrs: { "data-testid": "status" } });
  const bulkButton = h("button", { attrs: { "data-testid": "bulk-delete" }, on: { click: act.bulk } });
  const resetButton = h("button", { text: "Reset filters", on: { click: act.reset } });
  const viewport = h("div", {
    class: "viewport",
    attrs: { role: "listbox", tabindex: "0", "aria-label": "memories", "data-testid": "list" },
  });
  const empty = h("div", { class: "empty" }, [
    h("p", { text: "No memory matches the search and filters." }),
    h("button", { text: "Reset filters", on: { click: act.reset } }),
  ]);
  empty.hidden = true;
  const filtersHost = h("aside", { class: "sidebar", attrs: { id: "filters", "aria-label": "filters" } });
  const detailHost = h("article", { class: "detail", attrs: { tabindex: "-1", "aria-label": "memory" } });
  const toastEl = h("div", { class: "toast", attrs: { role: "status", "aria-live": "polite" } });
  const summary = data.included === data.total
    ? plural(data.total, "memory", "memories")
    : `${num(data.included)} of ${num(data.total)} memories included (the newest; --limit, --since)`;
  document.title = `Sage memories · ${data.scope}`;
  document.body.append(
    h("header", { class: "top" }, [
      h("div", { class: "brand" }, [
        h("h1", { text: "Sage memories" }),
        h("p", {
          class: "muted",
          attrs: { "data-testid": "summary" },
          text: `${data.scope} · ${summary} · made ${minute(Date.parse(data.generated_at))}`,
        }),
      ]),
      h("div", { class: "searchbox" }, [searchInput]),
      h("div", { class: "tools" }, [
        filtersButton,
        sortButton,
        h("button", {
          text: "?",
          attrs: { "aria-label": "keyboard shortcuts" },
          on: { click: () => help.showModal() },
        }),
      ]),
    ]),
    h("main", { class: "layout" }, [
      filtersHost,
      h("section", { class: "results" }, [
        h("div", { class: "bar" }, [status, bulkButton, resetButton]),
        empty,
        viewport,
      ]),
      detailHost,
    ]),
    toastEl,
    help,
  );

  let timer: ReturnType<typeof setTimeout> | undefined;
  function toast(message: string): void {
    toastEl.textContent = message;
    toastEl.classList.add("show");
    clearTimeout(timer);
    timer = setTimeout(() => toastEl.classList.remove("show"), 3000);
  }

  return {
    searchInput,
    sortButton,
    filtersButton,
    help,
    status,
    bulkButton,
    resetButton,
    viewport,
    empty,
    filtersHost,
    detailHost,
    toast,
  };
}
