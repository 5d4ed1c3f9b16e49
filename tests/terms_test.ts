import assert from "node:assert/strict";
import { analyze, queryTerms } from "../lib/text/terms.ts";

Deno.test("terms: Chinese gives unigrams and bigrams, so a sub-word query matches", () => {
  const doc = new Set(analyze("数据库迁移很慢"));
  for (const t of queryTerms("数据库")) assert(doc.has(t), `${t} missing`);
  assert(doc.has("迁移"));
  assert(doc.has("猫") === false);
});

Deno.test("terms: English is stemmed and stop words dropped", () => {
  assert.deepEqual(analyze("The deployments are failing"), ["deploy", "fail"]);
});

Deno.test("terms: identifiers keep whole form and parts; versions stay whole", () => {
  const t = analyze("getUserName MAX_RETRIES v1.2.3");
  for (const w of ["getusername", "get", "user", "name", "max_retries", "max", "retri", "1.2.3"]) {
    assert(t.includes(w), `${w} missing from ${JSON.stringify(t)}`);
  }
});

Deno.test("terms: a plural abbreviation gives its whole form and its singular", () => {
  assert.deepEqual(analyze("two PRs and three APIs"), ["two", "prs", "pr", "three", "apis", "api"]);
  assert.deepEqual(analyze("HTTPServer"), ["httpserver", "http", "server"], "not a plural");
});
