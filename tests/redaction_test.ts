/**
 * Secrets next to the obvious ones, both ways: each recognised form is redacted (and only the secret), and the
 * ordinary text around passwords and tokens is left alone. Then end to end: through a real `sage serve` (content,
 * tags, metadata, updates), `sage import` and a `sage hook Stop` capture, no secret reaches the database.
 */
import assert from "node:assert/strict";
import { isSecretKey, sanitize, sanitizeJson } from "../lib/text/privacy.ts";
import { admin, dbName, freshDatabase, runSage, tempDir } from "./support/harness.ts";
import { connectSage } from "./support/mcp_client.ts";
import { appendTurn, SESSION_ID, Transcript } from "./support/transcripts.ts";

const AWS_ID = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const HF = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567";

/** [text, the secret that must go, what must stay] */
const REDACTED: [string, string, string[]][] = [
  [`AWS key ${AWS_ID} secret ${AWS_SECRET}`, AWS_SECRET, ["AWS key", "secret"]],
  [`key id: ${AWS_ID}\nsecret access key: ${AWS_SECRET}`, AWS_SECRET, ["key id:"]],
  [`${AWS_SECRET} goes with ${AWS_ID}`, AWS_SECRET, ["goes with"]],
  [`the aws secret is ${AWS_SECRET}, keep it safe`, AWS_SECRET, ["keep it safe"]],
  ["mysql -u root -pSecret mydb", "Secret", ["mysql -u root -p", "mydb"]],
  ["mysqldump -h db -uadmin -p'two words' shop", "two words", ["mysqldump", "shop"]],
  ["psql --password Secret -h db", "Secret", ["psql --password", "-h db"]],
  ["pg_dump --password=Hunter2x app", "Hunter2x", ["pg_dump --password=", "app"]],
  ["sshpass -p s3cret ssh deploy@host", "s3cret", ["sshpass -p", "ssh deploy@host"]],
  ["curl -u alice:hunter2 https://api.example.com", "hunter2", ["curl -u alice:", "https://api.example.com"]],
  ["PGPASSWORD=hunter2 psql -h db", "hunter2", ["PGPASSWORD=", "psql -h db"]],
  ["export PGPASSWORD=abc", "abc", ["export PGPASSWORD="]],
  ["PGPASSWORD='my secret' psql", "my secret", ["PGPASSWORD='", "psql"]],
  ['DB_PASSWORD="two words here" ./run', "two words here", ["DB_PASSWORD=", "./run"]],
  ["the password is hunter2", "hunter2", ["the password is"]],
  ["The password is swordfish.", "swordfish", ["The password is", "."]],
  ["my password Tr0ub4dor&3 works", "Tr0ub4dor&3", ["my password", "works"]],
  ["the password for the VPN is correcthorse.", "correcthorse", ["the password for the VPN is"]],
  ["Passphrase: 'open sesame please'", "open sesame please", ["Passphrase"]],
  ["数据库的密码是abc123，别告诉别人", "abc123", ["数据库的密码是", "别告诉别人"]],
  ["密码：Zh@ngSan2026", "Zh@ngSan2026", ["密码："]],
  [`download with ${HF} from the hub`, HF, ["download with", "from the hub"]],
];

/** Ordinary text that must come out unchanged. */
const KEPT = [
  "password reset flow",
  "We discussed the password reset flow and token expiry with the team.",
  "The password is stored in the vault, never in the repo.",
  "The password is correct now.",
  "Your password was changed yesterday.",
  "Use a password manager; passwords must be long.",
  "psql --password -h db prompts for it",
  "mysql -u root -p mydb",
  "mysql -u root -p",
  "docker run -u 1000:1000 image",
  "PWD=/home/dev/work OLDPWD=/tmp",
  "max_tokens: 4096",
  "The tokenizer splits hf_model names.",
  "This commit hash 3f2a9c1e0b7d4a6f8e5c2b1a0d9f8e7c6b5a4f3e2d1c is forty-four characters.",
  "数据库密码不要写在代码里。",
  "请重置密码。",
];

Deno.test("redaction: each recognised secret goes, the text around it stays", () => {
  for (const [text, secret, kept] of REDACTED) {
    const r = sanitize(text);
    assert.ok(!r.text.includes(secret), `secret survived in: ${text}\n→ ${r.text}`);
    assert.ok(r.text.includes("[REDACTED"), `no marker: ${r.text}`);
    assert.ok(r.redactions.length > 0, `no label reported for: ${text}`);
    for (const k of kept) assert.ok(r.text.includes(k), `"${k}" was lost: ${text}\n→ ${r.text}`);
    assert.equal(sanitize(r.text).text, r.text, `not stable when redacted again: ${r.text}`);
  }
});

Deno.test("redaction: ordinary words about passwords and tokens are left alone", () => {
  for (const text of KEPT) {
    const r = sanitize(text);
    assert.equal(r.text, text, `changed: ${text}\n→ ${r.text}`);
    assert.deepEqual(r.redactions, [], `reported ${JSON.stringify(r.redactions)} for: ${text}`);
  }
  // Forty letters next to a key id are a word, not a secret key (those have a digit, / or + somewhere).
  const letters = "abcdefghijabcdefghijabcdefghijabcdefghij";
  assert.ok(sanitize(`letters ${letters} near ${AWS_ID}`).text.includes(letters));
});

Deno.test("redaction: values under secret-named keys in metadata, whatever they look like; other keys kept", () => {
  const input = {
    password: "hunter2",
    db_password: "x",
    apiKey: "plain",
    client_secret: 12345,
    authToken: "abc",
    credentials: { user: "alice", pin: "0000" },
    max_tokens: 4096,
    token_count: "12",
    tokenizer: "bert",
    key: "value",
    notes: "the password is hunter2",
    list: [{ secret: "s" }],
  };
  const redactions: string[] = [];
  const out = sanitizeJson(input, redactions);
  assert.deepEqual(out, {
    password: "[REDACTED]",
    db_password: "[REDACTED]",
    apiKey: "[REDACTED]",
    client_secret: "[REDACTED]",
    authToken: "[REDACTED]",
    credentials: { user: "[REDACTED]", pin: "[REDACTED]" },
    max_tokens: 4096,
    token_count: "12",
    tokenizer: "bert",
    key: "value",
    notes: "the password is [REDACTED]",
    list: [{ secret: "[REDACTED]" }],
  });
  assert.ok(redactions.includes("secret field"));
  for (const k of ["password", "PGPASSWORD", "aws_secret_access_key", "github_token", "refreshToken", "API-KEY"]) {
    assert.ok(isSecretKey(k), k);
  }
  for (
    const k of ["max_tokens", "token_count", "keyboard", "passage", "secretary_name", "monkey", "bypass", "compass"]
  ) {
    assert.ok(!isSecretKey(k), k);
  }
});

Deno.test({
  name: "redaction: end to end, no secret reaches the database (save, tags, metadata, update, import, hook capture)",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const url = await freshDatabase();
  const home = await tempDir("redact-");
  const project = `${home}/repo`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  const env = { DATABASE_URL: url, SAGE_HOME: home, SAGE_PROJECT: project };
  const secrets = [AWS_SECRET, "Secret9x", "hunter2", HF, "Zh@ngSan2026", "pin-0042", "swordfish"];
  const s = await connectSage(env);
  try {
    const saved = await s.call("save_memory", {
      content: `Deploy: mysql -u root -pSecret9x shop, then the password is hunter2. ${AWS_ID} ${AWS_SECRET}`,
      tags: ["password: swordfish"],
      metadata: { password: "pin-0042", note: `token ${HF}` },
    });
    assert.notEqual(saved.isError, true, s.text(saved));
    const id = saved.structuredContent!.id;
    const other = await s.call("save_memory", { content: "A harmless note about the password reset flow." });
    assert.notEqual(other.isError, true, s.text(other));
    const updated = await s.call("update_memory", {
      id: other.structuredContent!.id,
      content: "The password reset flow, and the admin password is Zh@ngSan2026.",
      metadata: { api_key: "swordfish" },
    });
    assert.notEqual(updated.isError, true, s.text(updated));
    assert.ok(id);
  } finally {
    await s.close();
  }
  const lines = [
    JSON.stringify({ content: `imported: PGPASSWORD=hunter2 psql and ${HF}`, metadata: { token: "Secret9x" } }),
  ].join("\n");
  const imported = await runSage(["import", "-"], { env, stdin: lines + "\n", cwd: project });
  assert.equal(imported.code, 0, imported.stderr);
  const t = new Transcript(SESSION_ID);
  appendTurn(t, "Connect with psql --password swordfish -h db please", `Done; the aws secret is ${AWS_SECRET}.`);
  const path = `${home}/t.jsonl`;
  await Deno.writeTextFile(path, t.text());
  const hook = await runSage(["hook", "Stop"], {
    env,
    cwd: project,
    stdin: JSON.stringify({ hook_event_name: "Stop", session_id: SESSION_ID, transcript_path: path, cwd: project }),
  });
  assert.equal(hook.code, 0);

  const rows = await admin(
    async (c) => (await c.query("SELECT content, tags, metadata FROM sage.memories")).rows,
    dbName(url),
  );
  assert.equal(rows.length, 4, JSON.stringify(rows));
  const stored = JSON.stringify(rows);
  for (const secret of secrets) assert.ok(!stored.includes(secret), `${secret} reached the database: ${stored}`);
  assert.ok(stored.includes("password reset flow"), "ordinary text was redacted");
});
