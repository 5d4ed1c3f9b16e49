import assert from "node:assert/strict";
import { sanitize } from "../lib/text/privacy.ts";

/** Asserts `secret` is gone, `kept` fragments remain, and `label` was reported. */
function redacts(input: string, secret: string, label: string, kept: string[] = []): string {
  const r = sanitize(input);
  assert(!r.text.includes(secret), `secret survived: ${r.text}`);
  assert(r.text.includes("[REDACTED"), `no redaction marker: ${r.text}`);
  assert(r.redactions.includes(label), `expected label "${label}", got ${JSON.stringify(r.redactions)}`);
  for (const k of kept) assert(r.text.includes(k), `"${k}" was lost: ${r.text}`);
  return r.text;
}

Deno.test("privacy: <private> blocks are removed, several and case-insensitive", () => {
  const r = sanitize("keep A <private>hide 1</private> keep B <PRIVATE>hide\n2</PRIVATE> keep C");
  assert.equal(r.text, "keep A  keep B  keep C");
  assert.deepEqual(r.redactions, ["private block", "private block"]);
});

Deno.test("privacy: an unterminated <private> removes everything after it", () => {
  const r = sanitize("visible part <private>the rest is private\nand so is this");
  assert.equal(r.text, "visible part ");
  assert.deepEqual(r.redactions, ["private block"]);
});

Deno.test("privacy: private key blocks (terminated or not)", () => {
  const key = "MIIEowIBAAKCAQEAtopsecretkeymaterial0123456789";
  const text = redacts(
    `before\n-----BEGIN RSA PRIVATE KEY-----\n${key}\nmore\n-----END RSA PRIVATE KEY-----\nafter`,
    key,
    "private key",
    ["before", "after"],
  );
  assert(!text.includes("END RSA"));
  redacts(`x -----BEGIN OPENSSH PRIVATE KEY-----\n${key}`, key, "private key", ["x "]);
  redacts(`-----BEGIN PRIVATE KEY-----\n${key}\n-----END PRIVATE KEY-----`, key, "private key");
});

Deno.test("privacy: a password in a URL is redacted, user and host kept", () => {
  const text = redacts(
    "connect with postgres://alice:hunter2pass@db.example.com:5432/app please",
    "hunter2pass",
    "password in URL",
    ["postgres://alice:", "@db.example.com:5432/app", "please"],
  );
  assert.equal(text, "connect with postgres://alice:[REDACTED]@db.example.com:5432/app please");
  redacts("https://bob:s3cr%40t@example.org/x", "s3cr%40t", "password in URL", ["https://bob:", "@example.org/x"]);
  // No password: nothing to redact.
  assert.deepEqual(sanitize("postgres://alice@db.example.com/app").redactions, []);
});

Deno.test("privacy: Anthropic and OpenAI keys", () => {
  redacts("key: sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "sk-ant-api03-AbCdEf", "Anthropic key");
  redacts("export OPENAI=sk-AbCdEfGhIjKlMnOpQrStUvWxYz012345 done", "sk-AbCdEf", "OpenAI key", ["done"]);
  redacts("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "AbCdEfGhIj", "OpenAI key");
});

Deno.test("privacy: GitHub tokens and AWS access keys", () => {
  redacts("token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 used", "ghp_AbCd", "GitHub token", ["used"]);
  redacts("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11", "GitHub token");
  redacts("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "AWS access key");
});

Deno.test("privacy: JWTs and Bearer tokens", () => {
  const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
  redacts(`session cookie ${jwt}`, jwt.slice(20, 40), "JWT", ["session cookie"]);
  const text = redacts(
    "curl -H 'Authorization: Bearer abcDEF1234567890ghijKLMN' https://api.example.com",
    "abcDEF1234567890ghijKLMN",
    "bearer token",
    ["Authorization: Bearer", "https://api.example.com"],
  );
  assert(text.includes("Bearer [REDACTED]"));
});

Deno.test("privacy: password= assignments keep the key name", () => {
  assert.equal(redacts("password=hunter22", "hunter22", "password"), "password=[REDACTED]");
  assert.equal(
    redacts('DB_PASSWORD: "s3cr3t!x"', "s3cr3t!x", "password"),
    'DB_PASSWORD: "[REDACTED]"',
  );
  redacts("client_secret = abcdefg", "abcdefg", "password", ["client_secret"]);
});

Deno.test("privacy: API_KEY=… with digits is redacted, key name kept", () => {
  assert.equal(redacts("API_KEY=abcd1234efgh5678ijkl", "abcd1234efgh5678ijkl", "key or token"), "API_KEY=[REDACTED]");
  redacts('"auth_token": "Zx9Yw8Vu7Ts6Rq5Po4Nm"', "Zx9Yw8Vu7Ts6Rq5Po4Nm", "key or token", ['"auth_token": "']);
});

Deno.test("privacy: harmless text is left alone", () => {
  const harmless = [
    "max_tokens: 100000",
    "Set max_tokens: 4096 and temperature: 0.2 in the request.",
    "Remember to change your password regularly.",
    "The password is stored in the vault, never in the repo.",
    "We discussed the password reset flow and token expiry with the team.",
    "The task-management-system-for-everyone is a project name.",
    "Use the Bearer scheme for the Authorization header.",
    "api_key: see the README",
    "postgres://localhost:5432/app",
    "function getSecretName() { return name; }",
    "数据库密码不要写在代码里。",
  ];
  for (const h of harmless) {
    const r = sanitize(h);
    assert.equal(r.text, h, `changed: ${h} → ${r.text}`);
    assert.deepEqual(r.redactions, [], `reported ${JSON.stringify(r.redactions)} for: ${h}`);
  }
});

Deno.test("privacy: redacting twice changes nothing more (export → import is stable)", () => {
  const once = sanitize(
    "password=hunter22 and API_KEY=abcd1234efgh5678ijkl and sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
  ).text;
  assert.equal(sanitize(once).text, once);
});
