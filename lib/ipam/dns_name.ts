/**
 * DNS name validation as NetBox does it for `ipam.IPAddress.dns_name`, plus an optional house
 * pattern; and the `{n}` / `{n:02}` name templates used when several addresses are allocated.
 *
 * @module
 */

/** NetBox's rule for `dns_name` (ipam/validators.py). */
export const NETBOX_DNS_NAME = /^([0-9A-Za-z_-]+|\*)(\.[0-9A-Za-z_-]+)*\.?$/;

/** NetBox's maximum `dns_name` length. */
export const DNS_NAME_MAX_LENGTH = 255;

/**
 * Checks a DNS name against NetBox's rule (and length limit) and, when given, a house pattern.
 * An empty name is valid (it clears the field).
 *
 * @param name The name.
 * @param pattern An extra pattern the name must match (a `RegExp` or its source text).
 * @returns The reason the name is invalid, or `undefined` when it is valid.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { validateDnsName } from "./dns_name.ts";
 * assert(validateDnsName("k8s-01-worker.spaceships.work") === undefined);
 * assert(validateDnsName("bad name.example") !== undefined);
 * assert(validateDnsName("Web.example", /^[a-z.]+$/) !== undefined);
 * ```
 */
export function validateDnsName(name: string, pattern?: RegExp | string): string | undefined {
  if (name === "") return undefined;
  if (name.length > DNS_NAME_MAX_LENGTH) {
    return `"${
      name.slice(0, 40)
    }…" is ${name.length} characters long; NetBox allows at most ${DNS_NAME_MAX_LENGTH}`;
  }
  if (!NETBOX_DNS_NAME.test(name)) {
    return `"${name}" is not a valid DNS name: only letters, digits, "_", "-" and dots (a leading "*" label is allowed)`;
  }
  if (pattern !== undefined) {
    const re = typeof pattern === "string" ? new RegExp(pattern) : pattern;
    if (!re.test(name)) return `"${name}" does not match the pattern ${re.source}`;
  }
  return undefined;
}

/**
 * Whether a name is a template, i.e. contains a `{n}` / `{n:0W}` placeholder.
 *
 * @param template The text.
 * @returns `true` when it has a placeholder.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { isNameTemplate } from "./dns_name.ts";
 * assert(isNameTemplate("k8s-{n:02}-worker.example"));
 * assert(!isNameTemplate("k8s-worker.example"));
 * ```
 */
export function isNameTemplate(template: string): boolean {
  return /\{n(:0?\d+)?\}/.test(template);
}

/**
 * Expands a name template: `{n}` becomes the number, `{n:02}` the number zero-padded to 2
 * digits. Other braces are left as they are (and then fail validation).
 *
 * @param template e.g. `"k8s-{n:02}-worker.spaceships.work"`.
 * @param n The number.
 * @returns The name.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { expandNameTemplate } from "./dns_name.ts";
 * assert(expandNameTemplate("k8s-{n:02}-worker.example", 3) === "k8s-03-worker.example");
 * assert(expandNameTemplate("web{n}.example", 12) === "web12.example");
 * ```
 */
export function expandNameTemplate(template: string, n: number): string {
  return template.replace(/\{n(?::0?(\d+))?\}/g, (_, width?: string) => {
    const digits = String(n);
    return width === undefined ? digits : digits.padStart(Number(width), "0");
  });
}
