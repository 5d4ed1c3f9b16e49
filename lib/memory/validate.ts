/**
 * Input checks shared by every edge. Each returns the clean value or throws an `invalid_input` SageError whose
 * message names the field and says what is accepted, before anything touches the database.
 */
import { invalid } from "../errors.ts";
import type { SearchMode } from "../types.ts";

/** Text a user means to store or search: a string, well-formed Unicode, no NUL, within `max` characters. */
export function checkText(field: string, value: unknown, max: number): string {
  if (typeof value !== "string") throw invalid(`${field} must be a string, got ${typeName(value)}`);
  if (!value.trim()) throw invalid(`${field} must not be empty`);
  if (value.length > max) {
    throw invalid(
      `${field} is ${value.length} characters; the limit is ${max}`,
      "Split it into smaller memories, or raise SAGE_MAX_CONTENT_CHARS.",
    );
  }
  checkUnicode(field, value);
  return value;
}

/**
 * Lone surrogates and NUL cannot be stored; U+FFFD means the text was decoded from invalid UTF-8 on its way in,
 * and storing it would silently keep the damage.
 */
export function checkUnicode(field: string, value: string): void {
  if (!value.isWellFormed()) throw invalid(`${field} is not valid Unicode (it contains a lone surrogate)`);
  if (value.includes("\u0000")) throw invalid(`${field} contains a NUL character, which cannot be stored`);
  if (value.includes("\uFFFD")) {
    throw invalid(`${field} is not valid UTF-8: it contains U+FFFD replacement characters from undecodable bytes`);
  }
}

export function checkTags(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`tags must be a list of strings, got ${typeName(value)}`);
  if (value.length > 32) throw invalid(`at most 32 tags, got ${value.length}`);
  const tags: string[] = [];
  for (const t of value) {
    if (typeof t !== "string") throw invalid(`each tag must be a string, got ${typeName(t)}`);
    const tag = t.trim();
    if (!tag) throw invalid("tags must not be empty strings");
    if (tag.length > 64) throw invalid(`tag "${tag.slice(0, 20)}…" is longer than 64 characters`);
    // deno-lint-ignore no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(tag)) throw invalid(`tag "${tag}" contains control characters`);
    checkUnicode("tag", tag);
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

const KIND_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export function checkKind(value: unknown): string {
  if (typeof value !== "string" || !KIND_PATTERN.test(value)) {
    throw invalid(
      `kind must be a lowercase word (letters, digits, - or _; at most 32), got ${JSON.stringify(value)}`,
      "Usual kinds: note, decision, preference, fact, summary, task, reference, conversation.",
    );
  }
  return value;
}

export function checkKinds(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(`kinds must be a list of strings, got ${typeName(value)}`);
  return value.map(checkKind);
}

const MAX_METADATA_BYTES = 16_384;

export function checkMetadata(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalid(`metadata must be a JSON object, got ${typeName(value)}`);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw invalid("metadata must be plain JSON");
  }
  if (json.length > MAX_METADATA_BYTES) {
    throw invalid(`metadata is ${json.length} bytes as JSON; the limit is ${MAX_METADATA_BYTES}`);
  }
  const clean = JSON.parse(json);
  // Checked on the parsed strings: JSON.stringify escapes lone surrogates, so the JSON text would hide them.
  checkStrings(clean);
  return clean;
}

function checkStrings(value: unknown): void {
  if (typeof value === "string") checkUnicode("metadata", value);
  else if (Array.isArray(value)) value.forEach(checkStrings);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      checkUnicode("metadata", k);
      checkStrings(v);
    }
  }
}

export function checkId(value: unknown, field = "id"): number {
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) {
    throw invalid(`${field} must be a positive integer (a memory id such as 42), got ${JSON.stringify(value)}`);
  }
  return n;
}

export function checkLimit(value: unknown, fallback: number, max: number, field = "limit"): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(`${field} must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkSessionId(value: unknown, field = "session"): string {
  if (typeof value !== "string" || !value.trim()) throw invalid(`${field} must be a non-empty string`);
  const id = value.trim();
  if (id.length > 200) throw invalid(`${field} is longer than 200 characters`);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw invalid(`${field} contains control characters`);
  checkUnicode(field, id);
  return id;
}

const RELATIVE = /^(\d+)\s*(m|min|h|d|w|mo|y)$/i;
const UNIT_MS: Record<string, number> = {
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  mo: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

/** A point in time: ISO 8601 ("2026-11-01", "2026-11-01T09:00:00Z") or an age ("30m", "12h", "7d", "2w", "6mo", "1y"). */
export function checkTime(field: string, value: unknown, now = Date.now()): Date | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw invalid(`${field} must be a date string, got ${typeName(value)}`);
  const rel = value.trim().match(RELATIVE);
  if (rel) return new Date(now - Number(rel[1]) * UNIT_MS[rel[2].toLowerCase()]);
  if (isRealDate(value.trim())) {
    const d = new Date(value.trim());
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw invalid(
    `${field} must be an ISO 8601 date or time (2026-11-01, 2026-11-01T09:30:00Z) or an age such as 7d, got ${
      JSON.stringify(value)
    }`,
  );
}

/**
 * True when the text starts with a calendar date that exists. JavaScript's Date rolls 2026-02-30 over to March 2
 * (PostgreSQL rejects it), so the parts are checked.
 */
export function isRealDate(value: string): boolean {
  const m = value.match(/^(\d{4})-(\d{2})-(\d{2})/);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  return probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d;
}

export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : typeof value;
}

export function checkBool(field: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw invalid(`${field} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function checkMode(value: unknown): SearchMode {
  if (value === undefined || value === null) return "hybrid";
  if (value === "hybrid" || value === "keyword" || value === "vector") return value;
  throw invalid(`mode must be hybrid, keyword or vector, got ${JSON.stringify(value)}`);
}
