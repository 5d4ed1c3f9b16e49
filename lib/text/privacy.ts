/**
 * What must never be stored: text inside <private>…</private>, and secrets. Applied by the memory service to every
 * text before it is stored, whichever edge it came from (saves, updates, imports, hook captures, session names),
 * and to every string of tags and metadata, where a value under a secret-named key (password, token, secret,
 * api_key, …) is redacted whatever it looks like. Redactions keep a label so the memory still reads sensibly.
 *
 * Recognised (README "Security" lists the same): private key blocks; passwords in URLs; Anthropic, OpenAI, GitHub,
 * GitLab, Slack, Stripe, npm, Hugging Face and Google API keys; AWS access key ids, and a 40-character secret
 * access key next to one (or after "aws … secret"); JWTs; Bearer/Basic credentials; `password=`/`secret:`/
 * `PGPASSWORD=` assignments (quoted values too); `mysql -pSECRET`, `--password VALUE`, `sshpass -p`, `curl -u
 * user:pass`; a password in prose ("the password is hunter2", "password Tr0ub4dor&3", "密码是…"); long values of
 * api_key/token-like assignments. Deliberately not: ordinary words next to "password" ("password reset flow",
 * "the password is stored in the vault").
 */

interface Rule {
  label: string;
  pattern: RegExp;
  /** Replacement; `$1`-style groups keep the non-secret part (the key name, the URL's user). */
  replace: string;
  /** When set, a match is redacted only if this says so (given the match and its groups). */
  accept?: (match: string, groups: (string | undefined)[]) => boolean;
}

/** A token that looks generated rather than a word: a digit, a symbol, or a capital inside it. */
function secretLike(value: string): boolean {
  return /\d/.test(value) || /[^\p{L}]/u.test(value) || /\p{Ll}\p{Lu}/u.test(value);
}

/** Words that follow "the password is" in ordinary prose about passwords. */
const PROSE_AFTER_IS = new Set(
  ("a an the not no too very so still now also only never always correct incorrect wrong invalid valid required " +
    "optional missing empty blank set unset changed reset expired stored saved kept hashed salted encrypted " +
    "rotated weak strong long short same different case-sensitive visible hidden shown printed ignored given " +
    "generated random needed used wrong secret private known unknown forgotten lost in on at for of to from " +
    "with without managed mandatory enforced").split(" "),
);

/**
 * AWS secret access keys: 40 base64 characters (with a digit, slash or plus among them) within 200 characters of an
 * access key id, or just after "aws … secret". Found by scanning runs of base64 characters once (a lookbehind
 * regex did the same 100× slower on long text).
 */
function redactAwsSecrets(text: string, redactions: string[]): string {
  const anchors: [number, number][] = [];
  for (const m of text.matchAll(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g)) anchors.push([m.index - 200, m.index + 220]);
  for (const m of text.matchAll(/\baws\w*[ _.-]?secret/gi)) anchors.push([m.index, m.index + m[0].length + 60]);
  if (!anchors.length) return text;
  anchors.sort((x, y) => x[0] - y[0]);
  let i = 0; // runs come in text order: the first window that may still hold one
  const near = (at: number) => {
    while (i < anchors.length && anchors[i][1] < at) i++;
    for (let j = i; j < anchors.length && anchors[j][0] <= at; j++) if (anchors[j][1] >= at) return true;
    return false;
  };
  return text.replace(/[A-Za-z0-9/+=]+/g, (run, at: number) => {
    const key = run.replace(/=+$/, "");
    if (key.length !== 40 || !/[0-9/+]/.test(key) || !near(at)) return run;
    redactions.push("AWS secret key");
    return "[REDACTED aws secret]" + run.slice(40);
  });
}

const RULES: Rule[] = [
  {
    label: "private key",
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END \1-----|$)/g,
    replace: "[REDACTED private key]",
  },
  // scheme://user:password@host → keep user and host
  { label: "password in URL", pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):([^\s@/]+)@/gi, replace: "$1:[REDACTED]@" },
  // Command lines: mysql -pSECRET (no space), --password VALUE / --password=VALUE, sshpass -p, curl -u user:pass.
  {
    label: "password on a command line",
    pattern: /\b((?:mysql\w*|mariadb[\w-]*)\b[^\n|;&]*?\s)-p(?![\s-])(?!\[REDACTED)(?:(["'])[^"'\n]*\2|\S+)/g,
    replace: "$1-p[REDACTED]",
  },
  {
    label: "password on a command line",
    pattern: /(--(?:password|passwd|pass)(?:=|\s+))(?![-\s])(?!\[REDACTED)(?:(["'])[^"'\n]*\2|[^\s"']+)/gi,
    replace: "$1[REDACTED]",
  },
  {
    label: "password on a command line",
    pattern: /\b(sshpass\s+-p\s*)(?!\[REDACTED)(?:(["'])[^"'\n]*\2|\S+)/g,
    replace: "$1[REDACTED]",
  },
  {
    label: "password on a command line",
    pattern: /(\bcurl\b[^\n|;&]*?\s(?:-u|--user)\s+["']?[^\s:"']+):(?!\[REDACTED)[^\s"']+/g,
    replace: "$1:[REDACTED]",
  },
  { label: "Anthropic key", pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, replace: "[REDACTED api key]" },
  { label: "OpenAI key", pattern: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g, replace: "[REDACTED api key]" },
  {
    label: "GitHub token",
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g,
    replace: "[REDACTED token]",
  },
  { label: "GitLab token", pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g, replace: "[REDACTED token]" },
  { label: "Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replace: "[REDACTED token]" },
  { label: "AWS access key", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, replace: "[REDACTED aws key]" },
  { label: "Hugging Face token", pattern: /\bhf_[A-Za-z0-9]{30,}\b/g, replace: "[REDACTED token]" },
  { label: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, replace: "[REDACTED api key]" },
  { label: "Stripe key", pattern: /\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}/g, replace: "[REDACTED api key]" },
  { label: "npm token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/g, replace: "[REDACTED token]" },
  {
    label: "JWT",
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    replace: "[REDACTED jwt]",
  },
  { label: "bearer token", pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}/g, replace: "$1 [REDACTED]" },
  // password = "…" / PGPASSWORD='two words': the whole quoted value
  {
    label: "password",
    pattern:
      /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|passphrase|secret)[A-Za-z0-9_.-]*)(\s*[:=]\s*)(["'])(?!\[REDACTED)([^"'\n]+)\3/gi,
    replace: "$1$2$3[REDACTED]$3",
    accept: (_m, g) => !/^(?:OLD)?PWD$/i.test(g[0] ?? ""),
  },
  // PGPASSWORD=abc: an environment-style assignment is a secret at any length
  {
    label: "password",
    pattern:
      /\b([A-Z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET)[A-Z0-9_]*)=(?!\[REDACTED)([^\s"'`;&|]{1,3})(?=[\s;&|]|$)/g,
    replace: "$1=[REDACTED]",
  },
  // password = …: any value is a secret ($PWD, the working directory, is not)
  {
    label: "password",
    pattern:
      /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|passphrase|secret)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)(?!\[REDACTED)([^\s"',;]{4,})/gi,
    replace: "$1$2[REDACTED]",
    accept: (_m, g) => !/^(?:OLD)?PWD$/i.test(g[0] ?? ""),
  },
  // "the password is hunter2", "password: Tr0ub4dor&3", "password for the VPN is swordfish.": after is/was/:, any
  // value but an ordinary word going on in a sentence; right after the word, only a value that looks generated.
  {
    label: "password in text",
    pattern:
      /(?<![-\w])(passwords?|passwd|passphrase|pass ?code)((?:\s+(?:for|of|to)\s+(?:the\s+|my\s+|our\s+|your\s+)?[^\s]+)?\s+(?:is|was|are|were)\s+|\s*[:=]\s*|\s+)(?!\[REDACTED)(?!-)(["“']?)([\p{L}\p{N}!@#$%^&*~_+=/-][^\s"'”]*?)(?=[.,;!?)"'”]*(?:\s|$))/giu,
    replace: "$1$2$3[REDACTED]",
    accept: (_m, g) => {
      const [_word, connector, quote, value] = g as string[];
      if (quote) return true;
      if (/\s(?:is|was|are|were)\s+$|[:=]\s*$/i.test(connector)) return !PROSE_AFTER_IS.has(value.toLowerCase());
      return secretLike(value);
    },
  },
  {
    label: "password in text",
    pattern: /(密码|口令)(\s*(?:是|为|：|:)\s*)(?!\[REDACTED)([^\s，。,;；！!？?]+)/g,
    replace: "$1$2[REDACTED]",
  },
  // API_KEY: "…", auth_token=…: only long values with a digit, so `max_tokens: 4096` stays
  {
    label: "key or token",
    pattern:
      /\b([A-Za-z0-9_.-]*(?:api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)(?!\[REDACTED)(?=[A-Za-z0-9_\-./+=]*\d)([A-Za-z0-9_\-./+=]{16,})/gi,
    replace: "$1$2[REDACTED]",
  },
];

const PRIVATE_BLOCK = /<private>[\s\S]*?(?:<\/private>|$)/gi;

export interface Sanitized {
  text: string;
  /** Labels of what was removed (for logs and tool output, never the secret itself). */
  redactions: string[];
}

/** Removes <private> blocks and redacts secrets. */
export function sanitize(text: string): Sanitized {
  const redactions: string[] = [];
  let out = text.replace(PRIVATE_BLOCK, () => {
    redactions.push("private block");
    return "";
  });
  out = redactAwsSecrets(out, redactions); // before the key ids it is found by are redacted
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (...args) => {
      const match = args[0] as string;
      // The groups, without the offset and whole string String.replace appends (and named groups, never used).
      const groups = args.slice(1, args.findIndex((a, i) => i > 0 && typeof a === "number")) as (string | undefined)[];
      if (rule.accept && !rule.accept(match, groups)) return match;
      redactions.push(rule.label);
      // Expand $n groups by hand: String.replace with a function does not.
      return rule.replace.replace(/\$(\d)/g, (_m, n) => groups[Number(n) - 1] ?? "");
    });
  }
  return { text: out, redactions };
}

/**
 * Keys whose values are secrets whatever they look like: password, PGPASSWORD, db_password, apiKey, client_secret,
 * authToken, credentials… (the last word of the key, camelCase split). Not token_count, max_tokens or bypass.
 */
const SECRET_KEY =
  /(?:password|passwd|passphrase|(?:^|[_\-. ])(?:pass|secret|token|credentials?|(?:api|access|private|secret|signing|encryption)[_\-. ]?key))$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/([a-z0-9])([A-Z])/g, "$1_$2"));
}

/**
 * `sanitize` applied to every string inside a JSON value (tags, metadata), keys included; every string or number
 * under a secret-named key (isSecretKey) becomes "[REDACTED]".
 */
export function sanitizeJson<T>(value: T, redactions: string[] = []): T {
  const walk = (v: unknown, secret: boolean): unknown => {
    if (secret && (typeof v === "string" || typeof v === "number") && v !== "") {
      redactions.push("secret field");
      return "[REDACTED]";
    }
    if (typeof v === "string") {
      const s = sanitize(v);
      redactions.push(...s.redactions);
      return s.text;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, secret));
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [walk(k, false) as string, walk(x, secret || isSecretKey(k))]),
      );
    }
    return v;
  };
  return walk(value, false) as T;
}
