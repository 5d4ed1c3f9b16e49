/// <reference lib="dom" />
/**
 * Client side of `sage view` (runs in the browser; lib/view/page.ts embeds every exported function's source into
 * the page, in one scope): building elements, and formatting numbers and local times. Every string reaches the
 * page through textContent or an attribute, never as markup. The functions may use only each other.
 */

export type Child = Node | string | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  on?: Record<string, (e: Event) => void>;
}

/** An element with a class, text, attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title) el.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  for (const [k, fn] of Object.entries(props.on ?? {})) el.addEventListener(k, fn);
  for (const c of children) if (c) el.append(c);
  return el;
}

/** The nodes given, leaving out the empty ones: for replaceChildren with optional parts. */
export function some(...nodes: Child[]): (Node | string)[] {
  return nodes.filter((c): c is Node | string => !!c);
}

export function svg(tag: string, attrs: Record<string, string | number> = {}, children: Node[] = []): SVGElement {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** A number in the reader's locale (10,000). */
export function num(n: number): string {
  return n.toLocaleString();
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

export function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Local date, yyyy-mm-dd. */
export function day(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** Local date and minute. */
export function minute(ms: number): string {
  const d = new Date(ms);
  return `${day(ms)} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** Local date and second, with the zone's offset: what the memory panel shows. */
export function second(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? "-" : "+"}${pad2(Math.floor(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return `${minute(ms)}:${pad2(d.getSeconds())} ${zone}`;
}

/** Local midnight of a yyyy-mm-dd string, or NaN. */
export function parseDay(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : NaN;
}

/** Local midnight of the Monday of the week holding ms. */
export function weekStart(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d.getTime();
}

/** The same local time `days` later (calendar days, whatever the daylight saving). */
export function addDays(ms: number, days: number): number {
  const d = new Date(ms);
  d.setDate(d.getDate() + days);
  return d.getTime();
}

/** One line of text: whitespace runs become one space. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}
