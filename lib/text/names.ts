/**
 * Names a prompt uses for things: products, libraries, services, people ("Kafka", "gRPC", "iPad", "CodePush",
 * "EAS", "dbt" in a Chinese sentence). Recognised by their shape, in any language: a Latin word with a capital
 * after its first letter or in the middle of a sentence, an all-caps abbreviation, or any Latin word inside a
 * sentence of Chinese. Month and weekday names and "I" are not names.
 */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const NOT_NAMES = new Set(
  ("january february march april may june july august september october november december monday tuesday " +
    "wednesday thursday friday saturday sunday i ok okay").split(" "),
);

export function namesIn(text: string): string[] {
  const out = new Set<string>();
  const withCjk = CJK.test(text);
  for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9]*(?:[.+#-][A-Za-z0-9]+)*/g)) {
    const word = m[0];
    if (word.length < 2 || NOT_NAMES.has(word.toLowerCase())) continue;
    const before = text.slice(0, m.index).trimEnd();
    const sentenceStart = before === "" || /[.!?:;。！？：；"“'(\n]$/.test(before);
    const inner = /[A-Z]/.test(word.slice(1));
    const capitalised = /^[A-Z]/.test(word) && !sentenceStart;
    if (withCjk || inner || capitalised) out.add(word);
  }
  return [...out];
}
