/**
 * Turns a non-2xx NetBox response into the right error: parses the body defensively (field
 * dicts, `__all__`/`non_field_errors`, bare arrays, `{detail}`, 500 `{error, exception}`, HTML),
 * classifies 403s and maps 409s on `available-*` endpoints to {@linkcode AllocationError}.
 *
 * @module
 */

import { AllocationError, NetBoxAuthError, NetBoxChangedError, NetBoxHttpError } from "./errors.ts";
import type { HttpErrorInit } from "./errors.ts";

/** A response body, parsed. */
export interface ParsedErrorBody {
  /** The JSON value, or the trimmed raw text for non-JSON bodies (HTML pages). */
  body: unknown;
  /** Field → messages. Non-field messages keep their keys (`__all__`, `detail` …). */
  messages: Record<string, string[]>;
  /** One line for error messages, e.g. `address: Duplicate IP address found`. */
  summary: string;
}

const MAX_RAW = 2000;
const MAX_PARTS = 8;
const UNPREFIXED = new Set(["detail", "__all__", "non_field_errors", "error"]);
const IGNORED_IN_SUMMARY = new Set(["netbox_version", "python_version", "exception"]);

/**
 * Parses an error body. Never throws.
 *
 * @param text The body text.
 * @param contentType The `Content-Type` header.
 * @returns The body, its messages, and a one-line summary ("" when there is nothing to say).
 *
 * @example A validation error
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseErrorBody } from "./_http_error.ts";
 * const parsed = parseErrorBody('{"slug": ["site with this slug already exists."]}', "application/json");
 * assert(parsed.summary === "slug: site with this slug already exists");
 * ```
 */
export function parseErrorBody(text: string, contentType: string | null): ParsedErrorBody {
  const trimmed = text.trim();
  if (trimmed === "") return { body: undefined, messages: {}, summary: "" };
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    const raw = trimmed.length > MAX_RAW ? `${trimmed.slice(0, MAX_RAW)}…` : trimmed;
    return { body: raw, messages: {}, summary: textSummary(trimmed, contentType) };
  }
  const messages = normalizeMessages(body);
  return { body, messages, summary: summarize(body, messages) };
}

/**
 * Flattens an error body to field → messages: nested dicts become `parent.child`, items of a
 * bulk array `[index].field`, bare strings `__all__`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { normalizeMessages } from "./_http_error.ts";
 * const m = normalizeMessages([{}, { name: ["This field is required."] }]);
 * assert(m["[1].name"][0] === "This field is required.");
 * ```
 */
export function normalizeMessages(body: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (key: string, message: string) => (out[key] ??= []).push(message);
  const walk = (value: unknown, key: string) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (item !== null && typeof item === "object") {
          walk(item, Array.isArray(item) || key === "__all__" ? key : `${key}[${index}]`);
        } else walk(item, key);
      });
    } else if (typeof value === "object") {
      for (const [child, item] of Object.entries(value)) {
        walk(item, key === "__all__" ? child : `${key}.${child}`);
      }
    } else add(key, String(value));
  };
  const itemErrors = bulkItemErrors(body);
  if (itemErrors) {
    // NetBox 4.7 bulk writes: {"detail": "N of M objects …", "errors": [{"index"|"id", "errors"}]}
    const { detail } = body as { detail?: unknown };
    if (typeof detail === "string") add("detail", detail);
    for (const item of itemErrors) {
      const label = typeof item.index === "number" ? `[${item.index}]` : `[id ${item.id}]`;
      if (typeof item.errors === "object" && item.errors !== null && !Array.isArray(item.errors)) {
        for (const [child, value] of Object.entries(item.errors)) walk(value, `${label}.${child}`);
      } else walk(item.errors ?? item.error ?? item.detail, label);
    }
  } else if (Array.isArray(body)) {
    body.forEach((item, index) => {
      if (item !== null && typeof item === "object" && !Array.isArray(item)) {
        for (const [child, value] of Object.entries(item)) walk(value, `[${index}].${child}`);
      } else walk(item, "__all__");
    });
  } else walk(body, "__all__");
  return out;
}

interface BulkItemError {
  index?: number;
  id?: number;
  errors?: unknown;
  error?: unknown;
  detail?: unknown;
}

function bulkItemErrors(body: unknown): BulkItemError[] | undefined {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const ok = errors.every((e) =>
    e !== null && typeof e === "object" &&
    (typeof (e as BulkItemError).index === "number" || typeof (e as BulkItemError).id === "number")
  );
  return ok ? errors as BulkItemError[] : undefined;
}

function summarize(body: unknown, messages: Record<string, string[]>): string {
  if (body !== null && typeof body === "object" && !Array.isArray(body)) {
    const record = body as Record<string, unknown>;
    if (typeof record.exception === "string" && typeof record.error === "string") {
      return `NetBox failed with ${record.exception}: ${stripPeriod(record.error)}`;
    }
  }
  const parts: string[] = [];
  for (const [key, list] of Object.entries(messages)) {
    if (IGNORED_IN_SUMMARY.has(key)) continue;
    const text = oneLine(list.map(stripPeriod).join(", "), 300);
    parts.push(UNPREFIXED.has(key) ? text : `${key}: ${text}`);
  }
  const shown = parts.slice(0, MAX_PARTS).join("; ");
  return parts.length > MAX_PARTS ? `${shown}; and ${parts.length - MAX_PARTS} more` : shown;
}

function textSummary(text: string, contentType: string | null): string {
  const html = /html/i.test(contentType ?? "") || /^<(!doctype|html)/i.test(text);
  if (!html) return oneLine(text, 200);
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
  const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(text)?.[1];
  const words = (title ?? h1 ?? "").replace(/<[^>]+>/g, " ");
  return words.trim() === "" ? "" : oneLine(words, 120);
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function stripPeriod(text: string): string {
  return text.trim().replace(/\.$/, "");
}

/** What {@linkcode httpError} needs to know about the failed request. */
export interface FailedResponse {
  status: number;
  statusText: string;
  method: string;
  /** Path and query relative to the server, e.g. `/api/dcim/sites/?limit=1`. */
  path: string;
  /** Path relative to `/api/`, for the `available-*` test. */
  apiPath: string;
  requestId?: string;
  /** "Cannot <action>: …" */
  action: string;
  tokenVersion: 1 | 2;
  parsed: ParsedErrorBody;
  /** Appended to the reason, e.g. " after 5 attempts". */
  suffix?: string;
}

const REJECTED = /token|credentials|authenticat|expired|disabled/i;

/**
 * Whether a 403 `detail` means the token was rejected or lacks permission.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { classify403 } from "./_http_error.ts";
 * assert(classify403("Invalid v2 token") === "rejected");
 * assert(classify403("You do not have permission to perform this action.") === "permission");
 * ```
 */
export function classify403(detail: string): "rejected" | "permission" {
  if (/permission/i.test(detail)) return "permission";
  return REJECTED.test(detail) ? "rejected" : "permission";
}

/**
 * Builds the error for a non-2xx response: {@linkcode NetBoxAuthError} for 403,
 * {@linkcode AllocationError} for 409 on `available-*`, else {@linkcode NetBoxHttpError}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { httpError, parseErrorBody } from "./_http_error.ts";
 * const err = httpError({
 *   status: 403, statusText: "Forbidden", method: "GET", path: "/api/dcim/sites/",
 *   apiPath: "dcim/sites/", action: "list dcim/sites/", tokenVersion: 2,
 *   parsed: parseErrorBody('{"detail": "Invalid v2 token"}', "application/json"),
 * });
 * assert(err.message.startsWith("Cannot list dcim/sites/: NetBox rejected the v2 token"));
 * ```
 */
export function httpError(failed: FailedResponse): NetBoxHttpError {
  const { status, parsed, action, suffix = "" } = failed;
  const init: HttpErrorInit = {
    status,
    method: failed.method,
    path: failed.path,
    requestId: failed.requestId,
    body: parsed.body,
    messages: parsed.messages,
  };
  if (status === 403) {
    const detail = parsed.summary || "Forbidden";
    const reason = classify403(detail);
    const v = failed.tokenVersion;
    const text = reason === "rejected"
      ? `NetBox rejected the v${v} token (${detail}); check NETBOX_TOKEN or the token file`
      : `the v${v} token lacks permission (${detail}); ${permissionHint(failed.method)}`;
    return new NetBoxAuthError(`Cannot ${action}: ${text}${suffix}`, init, reason, v);
  }
  let reason = parsed.summary || `NetBox answered ${status} ${failed.statusText}`.trim();
  if (status === 404 && typeof parsed.body === "string") {
    // An HTML 404 under /api/ means no such endpoint, not a missing object.
    reason += failed.apiPath.endsWith("/")
      ? "; no such API endpoint"
      : "; no such API endpoint (API paths end with a slash)";
  }
  const message = `Cannot ${action}: ${reason}${suffix}`;
  if (status === 409 && failed.apiPath.includes("/available-")) {
    return new AllocationError(message, init);
  }
  if (status === 412) {
    return new NetBoxChangedError(
      `Cannot ${action}: changed by someone else since it was read (NetBox answered 412 ` +
        `Precondition Failed)${suffix}`,
      init,
    );
  }
  return new NetBoxHttpError(message, init);
}

function permissionHint(method: string): string {
  return ["GET", "HEAD"].includes(method.toUpperCase())
    ? "ask a NetBox administrator for view permission"
    : "use a write-enabled token with the needed permission";
}
