/**
 * The `sage view` page's styles, inlined (the page loads nothing). Light and dark follow the system
 * (prefers-color-scheme). Three columns on a wide window (filters, list, memory); on a narrow one the list fills
 * the screen and the filters and the memory open over it. Row heights here match ROW_HEIGHT in client/app.ts.
 */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #fbfbfa; --panel: #ffffff; --fg: #1c1c1f; --muted: #66666d; --line: #e2e2e6; --accent: #2f55d4;
  --accent-fg: #ffffff; --sel: #e7edfd; --hover: #f2f3f6; --mark: #ffe27a; --mark-fg: #1c1c1f; --warn: #a4530c;
  --warn-bg: #fdf0e2; --bar-all: #d5d9e3; --bar-match: #2f55d4; --range: rgba(47, 85, 212, .10);
  --k0: #2f55d4; --k1: #17803d; --k2: #a4530c; --k3: #8a3ac2; --k4: #b3261e; --k5: #0e7490; --k6: #7a6a00; --k7: #5b5b66;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #141518; --panel: #1b1c20; --fg: #e7e7ea; --muted: #9d9da6; --line: #2d2e35; --accent: #8aa6ff;
    --accent-fg: #10131c; --sel: #222d4a; --hover: #202127; --mark: #7a6310; --mark-fg: #fff6d6; --warn: #f0a868;
    --warn-bg: #3a2614; --bar-all: #34363f; --bar-match: #8aa6ff; --range: rgba(138, 166, 255, .14);
    --k0: #8aa6ff; --k1: #5fd08a; --k2: #f0a868; --k3: #c79bf2; --k4: #ff8a80; --k5: #5fc9de; --k6: #e3cf5a; --k7: #b0b0ba;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body {
  background: var(--bg); color: var(--fg); display: flex; flex-direction: column; height: 100vh; height: 100dvh;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
}
button, input, select { font: inherit; color: inherit; }
button {
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; cursor: pointer;
}
button:hover:not(:disabled) { background: var(--hover); }
button:disabled { opacity: .5; cursor: default; }
input, select { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
kbd, .id, .command, .metadata, time {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px;
}
.muted { color: var(--muted); }
.noscript { padding: 24px; max-width: 640px; }
.offscreen { position: fixed; left: -9999px; top: 0; }
.only-narrow { display: none; }

header.top {
  display: flex; align-items: center; gap: 16px; padding: 10px 16px; border-bottom: 1px solid var(--line);
  background: var(--panel); flex-wrap: wrap;
}
.brand h1 { font-size: 16px; margin: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.brand p { margin: 0; font-size: 12px; }
.searchbox { flex: 1; min-width: 220px; }
.searchbox input { width: 100%; padding: 8px 12px; font-size: 15px; }
.tools { display: flex; gap: 6px; }

main.layout {
  flex: 1; min-height: 0; display: grid; grid-template-columns: 250px minmax(0, 1fr) minmax(320px, 42%);
}
.sidebar { overflow-y: auto; padding: 8px 14px 24px; border-right: 1px solid var(--line); }
.filter h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 14px 0 6px; }
.filter select, .filter input[type=search] { width: 100%; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.chips.tags { max-height: 180px; overflow-y: auto; }
.chip { border-radius: 999px; padding: 2px 9px; font-size: 12px; display: inline-flex; gap: 6px; align-items: center; }
.chip .count { color: var(--muted); font-variant-numeric: tabular-nums; }
.chip.on { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
.chip.on .count { color: inherit; opacity: .85; }
.chip.zero:not(.on) { opacity: .55; }
.chip.small { padding: 0 8px; font-size: 11px; margin-left: auto; }
.dates { display: grid; gap: 4px; }
.dates label { display: flex; justify-content: space-between; align-items: center; gap: 6px; font-size: 12px; }
.chart { position: relative; }
.chart svg { width: 100%; height: 64px; display: block; cursor: pointer; }
.chart .hit { fill: transparent; }
.chart .range { fill: var(--range); }
.chart .all { fill: var(--bar-all); }
.chart .match { fill: var(--bar-match); }
.chart .week:hover .all { fill: var(--muted); }
.chart-axis { display: flex; justify-content: space-between; font-size: 11px; }
.chart-max { font-size: 11px; }

.results { display: flex; flex-direction: column; min-width: 0; min-height: 0; }
.bar {
  display: flex; align-items: center; gap: 8px; padding: 6px 12px; border-bottom: 1px solid var(--line);
  font-size: 12px; flex-wrap: wrap;
}
.bar .status { flex: 1; color: var(--muted); }
.bar button { font-size: 12px; padding: 2px 8px; }
.viewport { flex: 1; overflow-y: auto; position: relative; contain: strict; }
.viewport:focus-visible { outline-offset: -2px; }
.spacer { width: 1px; }
.row { position: absolute; left: 0; right: 0; overflow: hidden; padding: 0 12px; }
.row.project {
  display: flex; align-items: flex-end; padding-bottom: 6px; font-weight: 600; border-bottom: 1px solid var(--line);
  background: var(--bg); white-space: nowrap; text-overflow: ellipsis;
}
.row.session {
  display: flex; align-items: center; gap: 2px; font-size: 12px; background: var(--hover); white-space: nowrap;
  border-bottom: 1px solid var(--line);
}
.row.session .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; }
.row.session.on { background: var(--sel); }
.row.mem { padding-top: 6px; border-bottom: 1px solid var(--line); cursor: pointer; }
.row.mem:hover { background: var(--hover); }
.row.mem.sel { background: var(--sel); box-shadow: inset 3px 0 0 var(--accent); }
.line1 { display: flex; align-items: center; gap: 8px; height: 20px; white-space: nowrap; overflow: hidden; font-size: 12px; }
.line1 time, .line1 .id { color: var(--muted); }
.preview {
  line-height: 19px; max-height: 38px; overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2;
  -webkit-box-orient: vertical; word-break: break-word;
}
.superseded .preview { color: var(--muted); text-decoration: line-through; text-decoration-color: var(--muted); }
.kind {
  font-size: 11px; padding: 0 7px; border-radius: 999px; border: 1px solid currentColor; line-height: 17px;
  flex: none;
}
.k0 { color: var(--k0); } .k1 { color: var(--k1); } .k2 { color: var(--k2); } .k3 { color: var(--k3); }
.k4 { color: var(--k4); } .k5 { color: var(--k5); } .k6 { color: var(--k6); } .k7 { color: var(--k7); }
.tag {
  font-size: 11px; padding: 0 6px; border-radius: 4px; background: var(--hover); border: 1px solid var(--line);
  line-height: 17px; white-space: nowrap;
}
button.tag { cursor: pointer; }
.badge { font-size: 11px; padding: 0 6px; border-radius: 4px; line-height: 17px; }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
mark { background: var(--mark); color: var(--mark-fg); border-radius: 2px; }
.empty { padding: 32px; text-align: center; color: var(--muted); }
.empty[hidden], .bar button[hidden] { display: none; }

.detail { overflow-y: auto; padding: 12px 18px 32px; border-left: 1px solid var(--line); background: var(--panel); }
.detail:focus { outline: none; }
.detail-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.detail-head h2 { font-size: 15px; margin: 0; }
.detail .close { display: none; }
.content {
  white-space: pre-wrap; word-break: break-word; overflow-wrap: anywhere; margin: 12px 0 16px; font-size: 14.5px;
  line-height: 1.55;
}
.fields { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0 0 12px; font-size: 13px; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; display: flex; flex-wrap: wrap; gap: 4px; align-items: center; overflow-wrap: anywhere; }
.linkish { border: 0; background: none; padding: 0; color: var(--accent); text-align: left; }
.linkish:hover:not(:disabled) { background: none; text-decoration: underline; }
a.jump { color: var(--accent); font-family: ui-monospace, monospace; }
.detail h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 18px 0 6px; }
.metadata {
  background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-word; margin: 0;
}
.actions p { margin: 0 0 6px; font-size: 12px; }
.command-row { display: flex; gap: 6px; margin-bottom: 6px; flex-wrap: wrap; }
.command { flex: 1; min-width: 0; }
.placeholder { padding: 24px 0; }

.toast {
  position: fixed; bottom: 16px; left: 50%; transform: translateX(-50%); background: var(--fg); color: var(--bg);
  padding: 8px 14px; border-radius: 8px; font-size: 13px; opacity: 0; pointer-events: none; transition: opacity .2s;
  max-width: calc(100vw - 32px);
}
.toast.show { opacity: 1; }
dialog.help { border: 1px solid var(--line); border-radius: 10px; background: var(--panel); color: var(--fg); }
dialog.help::backdrop { background: rgba(0, 0, 0, .35); }
dialog.help h2 { margin-top: 0; font-size: 16px; }
dialog.help dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; }
dialog.help dd { margin: 0; }
kbd { border: 1px solid var(--line); border-radius: 4px; padding: 0 5px; background: var(--bg); }

@media (max-width: 1100px) {
  main.layout { grid-template-columns: 210px minmax(0, 1fr) minmax(300px, 40%); }
}
@media (max-width: 760px) {
  header.top { gap: 8px; padding: 8px 10px; }
  .brand { flex: 1; min-width: 0; }
  .brand p { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .searchbox { order: 3; flex-basis: 100%; }
  .only-narrow { display: inline-block; }
  main.layout { display: block; position: relative; }
  .results { height: 100%; }
  .sidebar, .detail {
    display: none; position: fixed; inset: 0; z-index: 10; background: var(--panel); border: 0;
  }
  body.filters-open .sidebar { display: block; top: 96px; }
  body.detail-open .detail { display: block; }
  .detail .close { display: inline-block; }
  .row { padding: 0 8px; }
}
`;
