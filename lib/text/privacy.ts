/**
 * What must never be stored: text inside <private>…</private>, and obvious secrets (API keys, tokens, private
 * keys, passwords in connection strings and assignments). Applied by the memory service to every text before it
 * is stored, whichever edge it came from. Redactions keep a label so the memory still reads sensibly.
 */

interface Rule {
  label: string;
  pattern: RegExp;
  /** Replacement; `$1`-style groups keep the non-secret part (the key name, the URL's user). */
  replace: string;
}

const RULES: Rule[] = [
  {
    label: "private key",
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END \1-----|$)/g,
    replace: "[REDACTED private key]",
  },
  // scheme://user:password@host → keep user and host
  { label: "password in URL", pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):([^\s@/]+)@/gi, replace: "$1:[REDACTED]@" },
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
  { label: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, replace: "[REDACTED api key]" },
  { label: "Stripe key", pattern: /\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}/g, replace: "[REDACTED api key]" },
  { label: "npm token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/g, replace: "[REDACTED token]" },
  {
    label: "JWT",
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    replace: "[REDACTED jwt]",
  },
  { label: "bearer token", pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}/g, replace: "$1 [REDACTED]" },
  // password = …: any value is a secret
  {
    label: "password",
    pattern:
      /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|passphrase|secret)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)(?!\[REDACTED)([^\s"',;]{4,})/gi,
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
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (...args) => {
      redactions.push(rule.label);
      // Expand $n groups by hand: String.replace with a function does not.
      const groups = args.slice(1, -2) as (string | undefined)[];
      return rule.replace.replace(/\$(\d)/g, (_m, n) => groups[Number(n) - 1] ?? "");
    });
  }
  return { text: out, redactions };
}

/** `sanitize` applied to every string inside a JSON value (tags, metadata), keys included. */
export function sanitizeJson<T>(value: T, redactions: string[] = []): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const s = sanitize(v);
      redactions.push(...s.redactions);
      return s.text;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k) as string, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
