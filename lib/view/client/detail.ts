/// <reference lib="dom" />
/**
 * Client side of `sage view`: one memory in full (text, tags, metadata, ids, times, vector, superseded-by links)
 * and the commands to copy. Embedded in the page by lib/view/page.ts.
 */
import { h, second, some } from "./dom.ts";
import { highlightRanges, type Matcher } from "./search.ts";
import type { Payload, PayloadMemory } from "../types.ts";

/** Text with the query's words in <mark>, as nodes (never markup). */
export function markText(text: string, matcher: Matcher | null): Node[] {
  const ranges = highlightRanges(text, matcher);
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

export interface DetailContext {
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

export function idLink(id: number, c: DetailContext): HTMLElement {
  if (!c.included(id)) return h("span", { class: "muted", text: `#${id} (not in this page)` });
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

export function detailField(label: string, ...value: (Node | string)[]): Node[] {
  return [h("dt", { text: label }), h("dd", {}, value)];
}

export function timeOf(ms: number): HTMLElement {
  return h("time", { text: second(ms), attrs: { datetime: new Date(ms).toISOString() } });
}

/** Id, kind, times, project, session, tags, vector, superseding: the memory's fields as dt/dd pairs. */
export function detailFields(c: DetailContext): Node[] {
  const [id, project, session, kind, , tags, , created, updated, vector, supersededBy] = c.memory;
  const s = session >= 0 ? c.data.sessions[session] : null;
  const rows: Node[] = [
    ...detailField("Id", `#${id}`),
    ...detailField("Kind", c.data.kinds[kind]),
    ...detailField("Created", timeOf(created)),
    ...detailField("Updated", updated ? timeOf(updated) : "not since created"),
    ...detailField("Project", c.data.projects[project]),
    ...detailField(
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
    ...detailField(
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
    ...detailField(
      "Vector",
      vector === 1
        ? "yes"
        : vector === 0
        ? "no: found by keyword search only (sage reindex --missing adds it)"
        : "unknown (not recorded in this page)",
    ),
  ];
  if (supersededBy) rows.push(...detailField("Superseded by", idLink(supersededBy, c)));
  if (c.supersedes.length) {
    rows.push(...detailField("Supersedes", ...c.supersedes.flatMap((sid, i) => [i ? " " : "", idLink(sid, c)])));
  }
  return rows;
}

export function renderDetail(host: HTMLElement, c: DetailContext): void {
  const [id, , , kind, content, , metadata, , , , supersededBy] = c.memory;
  const deleteCommand = `${c.data.command} delete ${id}`;
  const commandInput = h("input", {
    class: "command",
    attrs: { readonly: "", "aria-label": "delete command", spellcheck: "false", "data-testid": "delete-command" },
  });
  commandInput.value = deleteCommand;
  commandInput.addEventListener("focus", () => commandInput.select());
  host.replaceChildren(...some(
    h("div", { class: "detail-head" }, [
      h("button", { class: "close", text: "← Back", attrs: { "aria-label": "close" }, on: { click: c.close } }),
      h("span", { class: `kind k${kind % 8}`, text: c.data.kinds[kind] }),
      h("h2", { text: `Memory #${id}` }),
      supersededBy ? h("span", { class: "badge warn", text: "superseded" }) : null,
    ]),
    h("div", { class: "content", attrs: { "data-testid": "content" } }, markText(content, c.matcher)),
    h("dl", { class: "fields" }, detailFields(c)),
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

export function renderNoDetail(host: HTMLElement, message: string): void {
  host.replaceChildren(h("p", { class: "muted placeholder", text: message }));
}
