/**
 * A PNG line chart in plain TypeScript: an RGB raster, a 5×7 bitmap font, and the PNG container written with
 * node:zlib (deflate) and a CRC-32. No plotting dependency: nothing to install on a fresh machine (matplotlib
 * would pull in ~100 MB of Debian packages for one picture), same bytes on every machine, and the chart stays
 * under the benchmark's control. Log-log axes: latency (ms) against number of memories.
 */
import { deflateSync } from "node:zlib";

export interface Series {
  label: string;
  color: [number, number, number];
  dashed?: boolean;
  points: [number, number][];
}

export interface Panel {
  title: string;
  series: Series[];
}

// ---- 5×7 font (upper case; text is drawn upper-cased) ---------------------------------------------------

const GLYPHS: Record<string, number[]> = {
  "0": [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
  "1": [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  "2": [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
  "3": [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  "4": [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
  "5": [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  "6": [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
  "7": [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  "8": [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
  "9": [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11],
  B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
  D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
  F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f],
  H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
  J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
  L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11],
  N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d],
  R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e],
  T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a],
  X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04],
  Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  " ": [0, 0, 0, 0, 0, 0, 0],
  ".": [0, 0, 0, 0, 0, 0x0c, 0x0c],
  ",": [0, 0, 0, 0, 0x0c, 0x04, 0x08],
  ":": [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0],
  ";": [0, 0x0c, 0x0c, 0, 0x0c, 0x04, 0x08],
  "-": [0, 0, 0, 0x1f, 0, 0, 0],
  "+": [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  "/": [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
  "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
  ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
  "[": [0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e],
  "]": [0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e],
  "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
  "=": [0, 0, 0x1f, 0, 0x1f, 0, 0],
  "_": [0, 0, 0, 0, 0, 0, 0x1f],
  "×": [0, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0],
  "#": [0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a],
  "@": [0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e],
  "<": [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
  ">": [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
  "'": [0x04, 0x04, 0x08, 0, 0, 0, 0],
  "?": [0x0e, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
  "~": [0, 0, 0x08, 0x15, 0x02, 0, 0],
  "→": [0, 0x04, 0x02, 0x1f, 0x02, 0x04, 0],
  "≈": [0, 0x08, 0x15, 0x02, 0x08, 0x15, 0x02],
};

// ---- raster ---------------------------------------------------------------------------------------------

type RGB = [number, number, number];

class Canvas {
  readonly px: Uint8Array;
  constructor(readonly w: number, readonly h: number) {
    this.px = new Uint8Array(w * h * 3).fill(255);
  }
  set(x: number, y: number, c: RGB) {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const i = (y * this.w + x) * 3;
    this.px[i] = c[0];
    this.px[i + 1] = c[1];
    this.px[i + 2] = c[2];
  }
  rect(x: number, y: number, w: number, h: number, c: RGB) {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, width = 1, dash = 0) {
    const len = Math.hypot(x1 - x0, y1 - y0);
    const steps = Math.max(1, Math.ceil(len * 2));
    const r = (width - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      if (dash && Math.floor((t * len) / dash) % 2 === 1) continue;
      const x = x0 + (x1 - x0) * t;
      const y = y0 + (y1 - y0) * t;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) this.set(x + dx, y + dy, c);
    }
  }
  dot(x: number, y: number, radius: number, c: RGB) {
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) if (dx * dx + dy * dy <= radius * radius) this.set(x + dx, y + dy, c);
    }
  }
  /** Text at (x, y) = top-left; `align` right/center measure first. Returns the width drawn. */
  text(s: string, x: number, y: number, c: RGB, scale = 2, align: "left" | "right" | "center" = "left"): number {
    const chars = Array.from(s.toUpperCase());
    const w = chars.length * 6 * scale;
    if (align === "right") x -= w;
    if (align === "center") x -= w / 2;
    chars.forEach((ch, k) => {
      const g = GLYPHS[ch] ?? GLYPHS["?"];
      for (let row = 0; row < 7; row++) {
        for (let col = 0; col < 5; col++) {
          if (g[row] & (0x10 >> col)) this.rect(x + (k * 6 + col) * scale, y + row * scale, scale, scale, c);
        }
      }
    });
    return w;
  }
}

// ---- PNG ------------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function encodePng(c: Canvas): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, c.w);
  v.setUint32(4, c.h);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const raw = new Uint8Array(c.h * (1 + c.w * 3));
  for (let y = 0; y < c.h; y++) {
    raw[y * (1 + c.w * 3)] = 0; // filter: none
    raw.set(c.px.subarray(y * c.w * 3, (y + 1) * c.w * 3), y * (1 + c.w * 3) + 1);
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw, { level: 9 }))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// ---- chart ----------------------------------------------------------------------------------------------

const GRID: RGB = [225, 225, 225];
const AXIS: RGB = [60, 60, 60];
const INK: RGB = [30, 30, 30];

function fmtNum(x: number): string {
  if (x >= 1000) return `${x / 1000}K`;
  return String(x);
}

function drawPanel(cv: Canvas, p: Panel, x0: number, y0: number, w: number, h: number, xs: number[]) {
  const left = x0 + 70, right = x0 + w - 15, top = y0 + 40, bottom = y0 + h - 125;
  const ys = p.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => y > 0);
  const ylo = Math.floor(Math.log10(Math.min(...ys)) + 1e-9);
  const yhi = Math.ceil(Math.log10(Math.max(...ys)) - 1e-9) || ylo + 1;
  const xlo = Math.log10(Math.min(...xs) / 2), xhi = Math.log10(Math.max(...xs) * 2);
  const px = (x: number) => left + ((Math.log10(x) - xlo) / (xhi - xlo)) * (right - left);
  const py = (y: number) => bottom - ((Math.log10(y) - ylo) / (Math.max(1, yhi - ylo))) * (bottom - top);
  cv.text(p.title, (left + right) / 2, y0 + 12, INK, 2, "center");
  for (let e = ylo; e <= yhi; e++) {
    for (const m of [1, 2, 5]) {
      const y = m * 10 ** e;
      if (Math.log10(y) > yhi + 1e-9) continue;
      cv.line(left, py(y), right, py(y), m === 1 ? [205, 205, 205] : GRID);
      cv.text(fmtNum(round3(y)), left - 8, py(y) - 7, AXIS, 2, "right");
    }
  }
  for (const x of xs) {
    cv.line(px(x), top, px(x), bottom, GRID);
    cv.text(fmtNum(x), px(x), bottom + 10, AXIS, 2, "center");
  }
  cv.line(left, bottom, right, bottom, AXIS, 2);
  cv.line(left, top, left, bottom, AXIS, 2);
  cv.text("MEMORIES (LOG)", (left + right) / 2, bottom + 32, AXIS, 2, "center");
  cv.text("MS", left - 8, top - 22, AXIS, 2, "right");
  for (const s of p.series) {
    const pts = s.points.filter(([, y]) => y > 0);
    for (let k = 1; k < pts.length; k++) {
      cv.line(px(pts[k - 1][0]), py(pts[k - 1][1]), px(pts[k][0]), py(pts[k][1]), s.color, 3, s.dashed ? 7 : 0);
    }
    for (const [x, y] of pts) cv.dot(px(x), py(y), s.dashed ? 3 : 5, s.color);
  }
  // Legend under the axis label, two columns.
  const colW = (right - left) / 2;
  p.series.forEach((s, i) => {
    const lx = left + (i % 2) * colW - 30;
    const ly = bottom + 56 + Math.floor(i / 2) * 20;
    cv.line(lx, ly + 7, lx + 24, ly + 7, s.color, 3, s.dashed ? 5 : 0);
    cv.text(s.label, lx + 30, ly, INK, 2);
  });
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Panels side by side, a title and a footnote; returns PNG bytes. */
export function chart(title: string, footnote: string[], panels: Panel[], xs: number[]): Uint8Array {
  const pw = 760, ph = 600, head = 40;
  const cv = new Canvas(pw * panels.length, head + ph + footnote.length * 18 + 10);
  cv.text(title, cv.w / 2, 12, INK, 2, "center");
  panels.forEach((p, i) => drawPanel(cv, p, i * pw, head, pw, ph, xs));
  footnote.forEach((line, i) => cv.text(line, 16, head + ph + 4 + i * 18, AXIS, 2));
  return encodePng(cv);
}
