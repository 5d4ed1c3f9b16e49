/** Repairs and shortens text that arrives from outside (transcripts, prompts) rather than from a user's own save. */

/**
 * Transcripts hold whatever tools printed: undecodable bytes (U+FFFD), lone surrogates, NUL. Those are rejected
 * when a user types them; from a transcript they are repaired, so the rest of the turn is kept.
 */
export function cleanText(s: string): string {
  return s.toWellFormed().replaceAll("\u0000", "").replaceAll("\uFFFD", "?");
}

/** Long text keeps its beginning (70%) and end, with a note of how much was left out between them. */
export function clipMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = Math.floor(max * 0.7);
  const tail = max - head - 40;
  return `${s.slice(0, head)}\n[… ${s.length - head - tail} characters omitted …]\n${s.slice(s.length - tail)}`;
}
