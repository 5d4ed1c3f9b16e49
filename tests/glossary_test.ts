import assert from "node:assert/strict";
import { translatedTerms as translations } from "../lib/text/glossary.ts";

const translatedTerms = (text: string) => translations(text).map((t) => t.term);

Deno.test("glossary: a Chinese prompt gets the English terms of its words, the longest word first", () => {
  const t = translatedTerms("本地连数据库用哪个端口？");
  for (const w of ["local", "databas", "db", "port"]) assert(t.includes(w), `${w} missing from ${t}`);
  // 环境变量 is one word (environment variable), not 环境 (environment) and 变量 (variable) apart.
  assert.deepEqual(translatedTerms("环境变量"), ["environ", "variabl", "env"]);
});

Deno.test("glossary: an English prompt gets the Chinese word pairs of its words and phrases", () => {
  const t = translatedTerms("Why is the refresh token kept in secure storage?");
  for (const w of ["刷新", "令牌", "安全", "全存", "存储"]) assert(t.includes(w), `${w} missing from ${t}`);
  assert(!t.includes("安"), "a Chinese word gives its pairs, not each character");
  assert.deepEqual(translatedTerms("the weather is nice today"), []);
});

Deno.test("glossary: Chinese numbers give their digits; single characters and the prompt's own terms give nothing", () => {
  assert(translatedTerms("排队了四十分钟").includes("40"));
  assert(translatedTerms("一百二十秒").includes("120"));
  assert(!translatedTerms("这个十分重要").includes("10"), "十分 is 'very', not ten");
  assert.deepEqual(translatedTerms("十".repeat(10_000)), [], "a run of 十 is no number");
  // 表 (table) and 新 (new) inside 表示 and 更新 are not those words.
  assert.deepEqual(translatedTerms("表示更新"), []);
  // Mixed prompts: a term the prompt already has is not added again.
  assert(!translatedTerms("数据库 database").includes("databas"));
});

Deno.test("glossary: an abbreviation of the field and its long form give each other", () => {
  assert.deepEqual(translatedTerms("k8s"), ["kubernet"]);
  for (const w of ["pr", "merg"]) assert(translatedTerms("opening pull requests").includes(w), w);
  for (const w of ["pull", "request"]) assert(translatedTerms("a small PR").includes(w), w);
  assert(!translatedTerms("the database").includes("databas"), "a form does not give itself");
});

Deno.test("glossary: an equivalent weighs what its source word weighs in the prompt's terms", () => {
  const weight = (text: string, term: string) => translations(text).find((t) => t.term === term)?.weight;
  assert.equal(weight("回调", "webhook"), 3, "回调 is three terms: 回, 调, 回调");
  assert.equal(weight("secure storage", "全存"), 0.67, "two English terms, three Chinese pairs of 安全存储");
  assert.equal(weight("环境变量", "env"), 3, "capped");
});

Deno.test("glossary: a long prompt adds at most 24 terms", () => {
  const t = translatedTerms("数据库 端口 缓存 队列 日志 监控 告警 部署 回滚 迁移 索引 事务 ".repeat(20));
  assert(t.length <= 24 && t.length > 10, String(t.length));
});
