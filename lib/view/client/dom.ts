/// <reference lib="dom" />
/**
 * Client side of `sage view` (runs in the browser; see lib/view/page.ts): building elements and formatting. Every
 * string reaches the page through textContent or an attribute, never as markup. Self-contained: the page embeds
 * this function's source, so it may use nothing from outside its body.
 */
export function makeDom() {
  type Child = Node | string | null | undefined | false;
  interface Props {
    class?: string;
    text?: string;
    title?: string;
    attrs?: Record<string, string>;
    on?: Record<string, (e: Event) => void>;
  }

  function h<K extends keyof HTMLElementTagNameMap>(
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
  const some = (...nodes: Child[]) => nodes.filter((c): c is Node | string => !!c);

  function svg(tag: string, attrs: Record<string, string | number> = {}, children: Node[] = []): SVGElement {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    for (const c of children) el.append(c);
    return el;
  }

  function byId<T extends HTMLElement = HTMLElement>(id: string): T {
    const el = document.getElementById(id);
    if (!el) throw new Error(`missing #${id}`);
    return el as T;
  }

  const numberFormat = new Intl.NumberFormat();
  const num = (n: number) => numberFormat.format(n);
  const plural = (n: number, one: string, many = `${one}s`) => `${num(n)} ${n === 1 ? one : many}`;

  const pad = (n: number) => String(n).padStart(2, "0");
  /** Local date, yyyy-mm-dd. */
  const day = (ms: number) => {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  };
  /** Local date and minute. */
  const minute = (ms: number) => {
    const d = new Date(ms);
    return `${day(ms)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  /** Local date and second, with the zone offset: what the detail panel shows. */
  const second = (ms: number) => {
    const d = new Date(ms);
    const off = -d.getTimezoneOffset();
    const zone = `${off < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
    return `${minute(ms)}:${pad(d.getSeconds())} ${zone}`;
  };
  /** Local midnight of a yyyy-mm-dd string, or NaN. */
  const parseDay = (s: string) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : NaN;
  };
  /** Local midnight of the Monday of the week holding ms. */
  const weekStart = (ms: number) => {
    const d = new Date(ms);
    d.setHours(0, 0, 0, 0);
    d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
    return d.getTime();
  };
  const addDays = (ms: number, days: number) => {
    const d = new Date(ms);
    d.setDate(d.getDate() + days);
    return d.getTime();
  };

  /** One line of text: whitespace runs become one space. */
  const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

  return { h, svg, some, byId, num, plural, day, minute, second, parseDay, weekStart, addDays, oneLine };
}

export type Dom = ReturnType<typeof makeDom>;
