/// <reference lib="dom" />
/**
 * Client side of `sage view`: the page's frame (header with the search box, the filter column, the list with its
 * status bar, the memory panel, the keyboard help, the toast), built once. Self-contained: the page embeds its
 * source.
 */
import type { Dom } from "./dom.ts";
import type { Payload } from "../types.ts";

export function makeLayout(dom: Dom) {
  const { h } = dom;

  interface Actions {
    sort(): void;
    reset(): void;
    bulk(): void;
    toggleFilters(): void;
  }

  const KEYS = [
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

  function create(data: Payload, act: Actions) {
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
    const help = h("dialog", { class: "help", attrs: { "aria-label": "keyboard shortcuts" } }, [
      h("h2", { text: "Keyboard" }),
      h("dl", {}, KEYS.flatMap(([k, v]) => [h("dt", {}, [h("kbd", { text: k })]), h("dd", { text: v })])),
      h("button", { text: "Close", on: { click: () => help.close() } }),
    ]);
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
      ? dom.plural(data.total, "memory", "memories")
      : `${dom.num(data.included)} of ${dom.num(data.total)} memories included (the newest; --limit, --since)`;
    document.title = `Sage memories · ${data.scope}`;
    document.body.append(
      h("header", { class: "top" }, [
        h("div", { class: "brand" }, [
          h("h1", { text: "Sage memories" }),
          h("p", {
            class: "muted",
            attrs: { "data-testid": "summary" },
            text: `${data.scope} · ${summary} · made ${dom.minute(Date.parse(data.generated_at))}`,
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
          viewport,
          empty,
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

  return { create };
}

export type Layout = ReturnType<typeof makeLayout>;
