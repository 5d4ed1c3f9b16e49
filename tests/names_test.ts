import assert from "node:assert/strict";
import { namesIn } from "../lib/text/names.ts";

Deno.test("names: products and abbreviations by their shape, in English and in Chinese sentences", () => {
  assert.deepEqual(namesIn("What's the Kafka consumer group for the real-time POS stream?"), ["Kafka", "POS"]);
  assert.deepEqual(namesIn("paygate 的 gRPC 接口用的是哪个版本的 protobuf？"), ["paygate", "gRPC", "protobuf"]);
  assert.deepEqual(namesIn("What's our plan for tablet and iPad layouts?"), ["iPad"]);
  assert.deepEqual(namesIn("热更新用的是 CodePush 还是 EAS Update？"), ["CodePush", "EAS", "Update"]);
  // Sentence-initial words, months and "I" are not names.
  assert.deepEqual(namesIn("Which port does the API use? I asked in September."), ["API"]);
  assert.deepEqual(namesIn("how long should bread proof overnight"), []);
});
