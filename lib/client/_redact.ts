/**
 * Removes the API token from text and data before anything can print it (error messages, error
 * bodies a misconfigured proxy or a Django debug page may echo, log lines).
 *
 * @module
 */

const MASK = "[REDACTED]";

/**
 * The secret strings of a token worth hiding: the whole token and, for a v2 token
 * (`nbt_<key>.<secret>`), the secret part on its own.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { tokenSecrets } from "./_redact.ts";
 * assert(tokenSecrets("nbt_abcdefghijkl.s3cr3t-part-long").length === 2);
 * ```
 */
export function tokenSecrets(token: string): string[] {
  const secrets = token.length > 0 ? [token] : [];
  const dot = token.indexOf(".");
  if (token.startsWith("nbt_") && dot > 0 && token.length - dot > 8) {
    secrets.push(token.slice(dot + 1));
  }
  return secrets;
}

/**
 * Replaces every occurrence of each secret (and any `Authorization` header value) in `text`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { redactText } from "./_redact.ts";
 * assert(redactText("token abc123 leaked", ["abc123"]) === "token [REDACTED] leaked");
 * ```
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out.replace(
    /(authorization["']?\s*[:=]\s*["']?)(bearer|token)?\s*[^\s"',;<]+/gi,
    `$1${MASK}`,
  );
}

/**
 * Deep-copies JSON-like data with every string redacted.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { redactValue } from "./_redact.ts";
 * const out = redactValue({ detail: ["x secret1 y"] }, ["secret1"]) as { detail: string[] };
 * assert(out.detail[0] === "x [REDACTED] y");
 * ```
 */
export function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[redactText(key, secrets)] = redactValue(item, secrets);
    }
    return out;
  }
  return value;
}
