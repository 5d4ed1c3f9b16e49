/// <reference lib="dom" />
/**
 * Client side of `sage view`: one memory in full (text, tags, metadata, ids, times, vector, superseded-by links)
 * and the commands to copy. Self-contained: the page embeds its source.
 */
import type { Dom } from "./dom.ts";
import type { Matcher, Search } from "./search.ts";
import type { Payload, PayloadMemory } from "../types.ts";

export function makeDetail(dom: Dom, search: Search) {
  const { h } = dom;

  /** Text with the query's words in <mark>, as nodes (never markup). */
  function marked(text: string, matcher: Matcher | null): Node[] {
    const ranges = search.highlights(text, matcher);
    if (!ranges.length) return [document.createTextNode(text)];
    const nodes: Node[] = [];
    let at = 0;
    for (const [s, e] of ranges) {
      if (s > at) nodes.push(document.createTextNode(text.slice(at, s)));
      nodes.push(h("mark", { text: text.slice(s, e) }));
      at = e;
    }
    if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
    return nodes;
  }

  interface Context {
    data: Payload;
    memory: PayloadMemory;
    matcher: Matcher | null;
    /** Ids of the memories this one replaces. */
    supersedes: number[];
    included(id: number): boolean;
    jump(id: number): void;
    filterTag(tag: number): void;
    filterSession(session: number): void;
    copy(text: string, what: string): void;
    close(): void;
  }

  function idLink(id: number, c: Context): HTMLElement {
    if (!c.included(id)) {
      return h("span", { class: "muted", text: `#${id} (not in this page)`, title: "outside --limit / --since" });
    }
    return h("a", {
      class: "jump",
      text: `#${id}`,
      attrs: { href: `#m${id}`, "data-jump": String(id) },
      on: {
        click: (e) => {
          e.preventDefault();
          c.jump(id);
        },
      },
    });
  }

  function field(label: string, ...value: (Node | string)[]): Node[] {
    return [h("dt", { text: label }), h("dd", {}, value)];
  }

  function render(host: HTMLElement, c: Context): void {
    const [id, project, session, kind, content, tags, metadata, created, updated, vector, supersededBy] = c.memory;
    const s = session >= 0 ? c.data.sessions[session] : null;
    const deleteCommand = `${c.data.command} delete ${id}`;
    const vectorText = vector === 1
      ? "yes"
      : vector === 0
      ? "no: found by keyword search only (sage reindex --missing adds it)"
      : "unknown (not recorded in this page)";
    const rows: Node[] = [
      ...field("Id", `#${id}`),
      ...field("Kind", c.data.kinds[kind]),
      ...field(
        "Created",
        h("time", { text: dom.second(created), attrs: { datetime: new Date(created).toISOString() } }),
      ),
      ...field(
        "Updated",
        updated
          ? h("time", { text: dom.second(updated), attrs: { datetime: new Date(updated).toISOString() } })
          : "not since created",
      ),
      ...field("Project", c.data.projects[project]),
      ...field(
        "Session",
        s
          ? h("button", {
            class: "linkish",
            text: s[2] ? `${s[2]} (${s[0]})` : s[0],
            title: "show only this session",
            on: { click: () => c.filterSession(session) },
          })
          : "none",
      ),
      ...field(
        "Tags",
        ...(tags.length
          ? tags.map((t) =>
            h("button", {
              class: "tag",
              text: c.data.tags[t],
              title: "show only memories with this tag",
              on: { click: () => c.filterTag(t) },
            })
          )
          : ["none"]),
      ),
      ...field("Vector", vectorText),
    ];
    if (supersededBy) rows.push(...field("Superseded by", idLink(supersededBy, c)));
    if (c.supersedes.length) {
      rows.push(...field("Supersedes", ...c.supersedes.flatMap((sid, i) => [i ? " " : "", idLink(sid, c)])));
    }
    const commandInput = h("input", {
      class: "command",
      attrs: { readonly: "", "aria-label": "delete command", spellcheck: "false", "data-testid": "delete-command" },
    });
    commandInput.value = deleteCommand;
    commandInput.addEventListener("focus", () => commandInput.select());
    host.replaceChildren(...dom.some(
      h("div", { class: "detail-head" }, [
        h("button", { class: "close", text: "← Back", attrs: { "aria-label": "close" }, on: { click: c.close } }),
        h("span", { class: `kind k${kind % 8}`, text: c.data.kinds[kind] }),
        h("h2", { text: `Memory #${id}` }),
        supersededBy ? h("span", { class: "badge warn", text: "superseded" }) : null,
      ]),
      h("div", { class: "content", attrs: { "data-testid": "content" } }, marked(content, c.matcher)),
      h("dl", { class: "fields" }, rows),
      Object.keys(metadata || {}).length
        ? h("section", {}, [
          h("h3", { text: "Metadata" }),
          h("pre", { class: "metadata", text: JSON.stringify(metadata, null, 2) }),
        ])
        : null,
      h("section", { class: "actions" }, [
        h("h3", { text: "Delete" }),
        h("p", {
          class: "muted",
          text: "This page changes nothing. To delete the memory, run this command in a terminal:",
        }),
        h("div", { class: "command-row" }, [
          commandInput,
          h("button", { text: "Copy", on: { click: () => c.copy(deleteCommand, "the delete command") } }),
        ]),
        h("div", { class: "command-row" }, [
          h("button", { text: "Copy text", on: { click: () => c.copy(content, "the text") } }),
          h("button", { text: "Copy id", on: { click: () => c.copy(String(id), `#${id}`) } }),
        ]),
      ]),
    ));
  }

  function empty(host: HTMLElement, message: string): void {
    host.replaceChildren(h("p", { class: "muted placeholder", text: message }));
  }

  return { render, empty, marked };
}

export type Detail = ReturnType<typeof makeDetail>;
