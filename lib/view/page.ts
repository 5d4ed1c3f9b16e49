/**
 * The `sage view` page: one self-contained HTML file (data, styles and script inline) that browses, searches and
 * filters memories in the browser with no server, no port and no request of any kind.
 *
 * Safety: the memories travel as JSON inside `<script type="application/json">`, with `<`, `>`, `&` and U+2028/2029
 * escaped, so no stored text can close that element or start markup; the client script only ever creates elements
 * and sets textContent. A Content-Security-Policy allows exactly this page's own script and style (by hash),
 * nothing else (no fetch, image, font, frame, form or base URL), and Trusted Types make any HTML-string sink throw.
 *
 * @example
 * ```ts
 * const html = renderPage({ generated_at: new Date().toISOString(), scope: "project /x", total: 0, included: 0,
 *   sessions: [], memories: [] });
 * ```
 */
import { createHash } from "node:crypto";
import * as actions from "./client/actions.ts";
import * as app from "./client/app.ts";
import * as chart from "./client/chart.ts";
import * as detail from "./client/detail.ts";
import * as dom from "./client/dom.ts";
import * as layout from "./client/layout.ts";
import * as list from "./client/list.ts";
import * as search from "./client/search.ts";
import * as sidebar from "./client/sidebar.ts";
import * as timeline from "./client/timeline.ts";
import { STYLE } from "./style.ts";
import type { Payload, PayloadMemory, PayloadSession, ViewData } from "./types.ts";

export type { ViewData, ViewMemory, ViewSession } from "./types.ts";

/**
 * The client script: every function the modules in client/ export, declared side by side in one scope, then
 * startApp(). They are written in TypeScript (type-checked and linted with the rest of Sage; they call each other
 * through ordinary imports, which here become calls between neighbours) and embedded through their source text,
 * which Deno has already turned into JavaScript. So a client module may export functions only, each name once.
 */
export function clientScript(): string {
  const names = new Set<string>();
  const sources: string[] = [];
  for (const module of [dom, search, chart, list, detail, sidebar, layout, timeline, app, actions]) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== "function" || value.name !== name || names.has(name)) {
        throw new Error(`lib/view/client: the export ${name} must be a function declared under that name, once`);
      }
      names.add(name);
      sources.push(value.toString());
    }
  }
  return `"use strict";\n(() => {\n${sources.join("\n")}\nstartApp();\n})();\n`;
}

const CLIENT = clientScript();

/** JSON that cannot end its script element or be read as markup, whatever the strings hold. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

const ms = (iso: string) => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`not a time: ${JSON.stringify(iso)}`);
  return t;
};

/** ViewData → the compact form the page embeds: shared tables for projects, kinds and tags; tuples; newest first. */
export function toPayload(data: ViewData): Payload {
  const tables = {
    projects: new Map<string, number>(),
    kinds: new Map<string, number>(),
    tags: new Map<string, number>(),
  };
  const index = (map: Map<string, number>, key: string) => {
    let i = map.get(key);
    if (i === undefined) map.set(key, i = map.size);
    return i;
  };
  const sessionIndex = new Map<string, number>();
  const sessions: PayloadSession[] = data.sessions.map((s, i) => {
    sessionIndex.set(s.id, i);
    return [s.id, index(tables.projects, s.project), s.name, ms(s.created_at), ms(s.updated_at), s.memories];
  });
  const memories = data.memories.map((m): PayloadMemory => {
    const created = ms(m.created_at);
    const updated = ms(m.updated_at);
    return [
      m.id,
      index(tables.projects, m.project),
      m.session === null ? -1 : sessionIndex.get(m.session) ?? -1,
      index(tables.kinds, m.kind),
      m.content,
      m.tags.map((t) => index(tables.tags, t)),
      Object.keys(m.metadata).length ? m.metadata : 0,
      created,
      updated === created ? 0 : updated,
      m.has_vector === null ? -1 : m.has_vector ? 1 : 0,
      m.superseded_by ?? 0,
    ];
  });
  memories.sort((a, b) => b[7] - a[7] || b[0] - a[0]);
  return {
    v: 1,
    generated_at: data.generated_at,
    scope: data.scope,
    total: data.total,
    included: data.included,
    command: data.command ?? "sage",
    projects: [...tables.projects.keys()],
    kinds: [...tables.kinds.keys()],
    tags: [...tables.tags.keys()],
    sessions,
    memories,
  };
}

/** The whole page as one HTML string. Pure: the same data gives the same page. */
export function renderPage(data: ViewData): string {
  // Neither can end its own element early; checked here because the hashes below must cover the exact text.
  if (/<\/script/i.test(CLIENT) || /<\/style/i.test(STYLE)) throw new Error("inline asset holds a closing tag");
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(CLIENT)}`,
    `style-src ${sha256(STYLE)}`,
    "base-uri 'none'",
    "form-action 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="sage view">
<title>Sage memories</title>
<style>${STYLE}</style>
</head>
<body>
<noscript><p class="noscript">This page shows your Sage memories with JavaScript, which is turned off. The data is in
this file as JSON (the element with id <code>sage-data</code>); <code>sage export</code> gives it as JSONL.</p></noscript>
<script type="application/json" id="sage-data">${scriptSafeJson(toPayload(data))}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}
