import assert from "node:assert/strict";
import { chunkText, cutToTokens, estimateTokens } from "../lib/text/tokens.ts";

const ENGLISH = Array.from(
  { length: 40 },
  (_, i) => `Sentence number ${i} talks about the database migration plan.`,
).join(" ");
const CHINESE = Array.from({ length: 30 }, (_, i) => `第${i}句话讲的是数据库迁移的计划。`).join("");

/** Every sentence of the source, for checking that chunks end where sentences end. */
function endsAtSentence(chunk: string): boolean {
  return /[.。]$/.test(chunk.trim());
}

Deno.test("tokens: estimate is one per CJK character and one per four other characters", () => {
  assert.equal(estimateTokens(""), 0);
  assert.equal(estimateTokens("abcd"), 1);
  assert.equal(estimateTokens("abcde"), 2);
  assert.equal(estimateTokens("hello world"), 3); // 11 chars
  assert.equal(estimateTokens("数据库迁移"), 5);
  assert.equal(estimateTokens("数据库 ok"), 3 + 1); // 3 CJK + ceil(3/4)
  assert.equal(estimateTokens("ひらがな カタカナ 한국어"), 4 + 4 + 3 + 1); // Japanese and Korean count like Chinese
});

Deno.test("tokens: short text is one chunk, unchanged", () => {
  assert.deepEqual(chunkText("A short note.", 50, 10), ["A short note."]);
});

Deno.test("tokens: English chunks stay within the limit and end at sentence boundaries", () => {
  for (const max of [20, 37, 50, 120]) {
    const chunks = chunkText(ENGLISH, max, 1000);
    assert(chunks.length > 1, `expected several chunks at ${max}`);
    for (const c of chunks) {
      assert(estimateTokens(c) <= max, `chunk of ${estimateTokens(c)} tokens exceeds ${max}: ${c}`);
      assert(endsAtSentence(c), `chunk does not end at a sentence boundary: ${JSON.stringify(c)}`);
      assert(/^Sentence number \d+/.test(c), `chunk does not start at a sentence: ${JSON.stringify(c)}`);
    }
    // Nothing lost or reordered: the chunks, joined, are the text (modulo the spaces between sentences).
    assert.equal(chunks.join(" "), ENGLISH);
  }
});

Deno.test("tokens: Chinese chunks stay within the limit and end at 。", () => {
  const chunks = chunkText(CHINESE, 40, 1000);
  assert(chunks.length > 5);
  for (const c of chunks) {
    assert(estimateTokens(c) <= 40, `chunk of ${estimateTokens(c)} tokens`);
    assert(c.endsWith("。"), `chunk does not end at 。: ${c}`);
  }
  assert.equal(chunks.join(""), CHINESE);
});

Deno.test("tokens: one sentence longer than the limit is split, each piece within the limit", () => {
  const long = "word ".repeat(400).trim(); // one sentence, ~500 tokens
  const chunks = chunkText(long, 50, 1000);
  assert(chunks.length >= 10);
  for (const c of chunks) {
    assert(estimateTokens(c) <= 50);
    assert(/^(word ?)+$/.test(c), `a piece was cut mid-word: ${JSON.stringify(c.slice(-20))}`);
  }
  const noSpaces = "x".repeat(1000);
  const pieces = chunkText(noSpaces, 30, 1000);
  for (const p of pieces) assert(estimateTokens(p) <= 30);
  assert.equal(pieces.join(""), noSpaces);
});

Deno.test("tokens: maxChunks caps the number of chunks, keeping the beginning", () => {
  const all = chunkText(ENGLISH, 30, 1000);
  const capped = chunkText(ENGLISH, 30, 3);
  assert(all.length > 3);
  assert.equal(capped.length, 3);
  assert.deepEqual(capped, all.slice(0, 3));
  assert.equal(chunkText(CHINESE, 20, 2).length, 2);
  assert.equal(chunkText("x".repeat(1000), 10, 4).length, 4);
});

Deno.test("tokens: cutToTokens leaves text that fits alone", () => {
  assert.deepEqual(cutToTokens("Short enough.", 100), { text: "Short enough.", cut: false });
});

Deno.test("tokens: cutToTokens cuts at a sentence boundary and appends …", () => {
  const r = cutToTokens(ENGLISH, 40);
  assert.equal(r.cut, true);
  assert(r.text.endsWith(" …"));
  const body = r.text.slice(0, -2);
  assert(body.endsWith("plan."), `not cut at a sentence boundary: ${JSON.stringify(body.slice(-30))}`);
  assert(ENGLISH.startsWith(body));
  // As many whole sentences as fit: two of ~16 tokens, not one.
  assert.equal(body.split("Sentence number").length - 1, 2);

  const zh = cutToTokens(CHINESE, 40);
  assert(zh.text.endsWith("。 …"), zh.text);
  assert(CHINESE.startsWith(zh.text.slice(0, -2)));
});

Deno.test("tokens: cutToTokens never cuts an English word in half", () => {
  const text = "Alpha supercalifragilisticexpialidocious beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
  // From 3 tokens on, the first word ("Alpha", 2 tokens) fits next to the ellipsis.
  for (let max = 3; max < estimateTokens(text); max++) {
    const r = cutToTokens(text, max);
    assert.equal(r.cut, true);
    const body = r.text.replace(/ …$/, "");
    const words = body.split(/\s+/).filter(Boolean);
    const source = new Set(text.split(" "));
    for (const w of words) assert(source.has(w), `"${w}" is a cut word (max ${max}): ${r.text}`);
  }
  // A single word longer than the budget is all there is: then, and only then, it is cut.
  const giant = cutToTokens("x".repeat(100), 5);
  assert(/^x+ …$/.test(giant.text));
});

Deno.test("tokens: cutToTokens result, … included, fits the budget", () => {
  const texts = [ENGLISH, CHINESE, "word ".repeat(300), "数据库迁移".repeat(100), "Alpha supercalifragilistic words."];
  for (const t of texts) {
    for (let max = 1; max < 80; max++) {
      const r = cutToTokens(t, max);
      assert(estimateTokens(r.text) <= max, `${estimateTokens(r.text)} > ${max}: ${JSON.stringify(r.text)}`);
    }
  }
});
