/**
 * Newest wins: a memory that restates a subject with a new value supersedes the older one (memories.superseded_by).
 * Search ranks the older below its successor, and the hook, get_context and the digest show the newest.
 *
 * Explicit: save_memory and update_memory take `supersedes` (ids of memories in the same project).
 * Automatic, and conservative on purpose (a wrong link hides a memory that is still true): a new note, fact,
 * decision… supersedes an older one of the same kind when the two say the same thing but for its values. Word by
 * word, everything that differs is a value (it holds a digit, or it is an identifier such as `date-fns` or
 * `localhost:6543`) or a word that announces a change ("now", "instead", 改成…), at least one value differs, and
 * the rest is the same. "The API listens on port 8080" → "The API now listens on port 9090": superseded. "Redis
 * listens on port 6379" → "Postgres listens on port 5433": two subjects, both stay current.
 */
import { getMemories, markSuperseded } from "../db/repos/memories.ts";
import { invalid } from "../errors.ts";
import type { Core } from "./core.ts";
import { checkId } from "./validate.ts";

/** Words that announce a change rather than state the subject (English and Chinese). */
const CHANGE_WORDS = new Set([
  ..."now currently current changed change moved switched replaced instead new newly anymore longer updated".split(" "),
  ..."现在 目前 当前 改成 改为 改到 换成 换为 已经 已 改 换 成 为 新 不再 更新".split(" "),
]);

/** Words of a text, identifiers kept whole ("date-fns", "moment.js", "localhost:6543"); CJK by character. */
function words(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
}
const WORD =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}_]+(?:[.\-/:@][\p{L}\p{N}_]+)*/gu;

const isValue = (w: string) => /\d/.test(w) || /[.\-/:@]/.test(w);

/** True when `newer` restates `older` with new values (the rule at the top of this file). */
export function restatesWithNewValue(newer: string, older: string): boolean {
  const a = words(newer);
  const b = words(older);
  if (!a.length || !b.length) return false;
  const sa = new Set(a);
  const sb = new Set(b);
  const onlyA = [...sa].filter((w) => !sb.has(w));
  const onlyB = [...sb].filter((w) => !sa.has(w));
  const changedValues = onlyA.some(isValue) && onlyB.some(isValue);
  if (!changedValues) return false;
  // Everything else that differs is a change word; what is shared is the subject, and it is most of both texts.
  if (![...onlyA, ...onlyB].every((w) => isValue(w) || CHANGE_WORDS.has(w))) return false;
  const shared = [...sa].filter((w) => sb.has(w) && !isValue(w)).length;
  const subject = (s: Set<string>) => [...s].filter((w) => !isValue(w) && !CHANGE_WORDS.has(w)).length;
  return shared >= 2 && shared >= 0.8 * Math.max(subject(sa), subject(sb));
}

/** Checks a `supersedes` argument: a list of memory ids (possibly empty). */
export function checkSupersedes(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid("supersedes must be a list of memory ids");
  if (value.length > 100) throw invalid(`supersedes names ${value.length} memories; at most 100`);
  return [...new Set(value.map((v) => checkId(v, "supersedes[]")))];
}

/** Every id must be a memory of `project`; checked before anything is stored, so a bad id changes nothing. */
export async function checkSupersedable(core: Core, project: string, ids: number[], self?: number): Promise<void> {
  if (!ids.length) return;
  if (self !== undefined && ids.includes(self)) throw invalid(`memory ${self} cannot supersede itself`);
  const found = await core.db((db) => getMemories(db, ids));
  const missing = ids.filter((o) => !found.some((m) => m.id === o && m.project === project));
  if (missing.length) {
    throw invalid(`supersedes: no memory ${missing.join(", ")} in project ${project}; nothing was stored`);
  }
}

/** Marks `olds` (memories of `project`) as superseded by memory `id`; returns those marked. */
export async function supersede(core: Core, id: number, project: string, olds: number[]): Promise<number[]> {
  return await core.db((db) => markSuperseded(db, project, olds.filter((o) => o !== id), id));
}
