/**
 * Exit codes of every task and the one place errors are mapped to them: a library error carries
 * a kind ({@linkcode NetBoxError.kind}), looked up in {@linkcode EXIT_CODE_OF_KIND} by
 * {@linkcode exitCodeOf}. Library messages name options (`url`, `createMissingTags`);
 * {@linkcode cliMessage} names the task's flags instead where a task prints them.
 *
 * @module
 */

import { EXIT_CODE_OF_KIND, InputError, NetBoxError, NetBoxHttpError } from "../client/errors.ts";
import { escapeControls } from "../base/safe_text.ts";
import type { TaskIO } from "./io.ts";

/**
 * Exit codes of every task.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { EXIT } from "./exit.ts";
 * assert(EXIT.USAGE === 2);
 * ```
 */
export const EXIT = {
  OK: 0,
  ATTENTION: 1,
  USAGE: 2,
  REFUSED: 3,
  UNREACHABLE: 4,
  /** Stopped by Ctrl-C (SIGINT) after the writes in flight finished. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM after the writes in flight finished. */
  TERMINATED: 143,
} as const;

/**
 * Bad input detected before anything was sent: exit 2.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { UsageError } from "./exit.ts";
 * const err = new UsageError("Cannot read rows: line 3: address is required");
 * assert(err.name === "UsageError");
 * ```
 */
export class UsageError extends InputError {}

/**
 * The exit code for an error: a library error's kind through {@linkcode EXIT_CODE_OF_KIND}, a
 * missing permission 2 (nothing was sent), anything else 4.
 *
 * @param err what was thrown
 * @returns the exit code
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { exitCodeOf, UsageError } from "./exit.ts";
 * import { NetBoxNetworkError, OutcomeUnknownError } from "../client/errors.ts";
 * assert(exitCodeOf(new UsageError("Cannot parse --count: expected a number")) === 2);
 * assert(exitCodeOf(new NetBoxNetworkError("Cannot list sites: refused", { attempts: 5 })) === 4);
 * assert(exitCodeOf(new OutcomeUnknownError("Cannot tell whether it was written")) === 1);
 * ```
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof NetBoxError) return EXIT_CODE_OF_KIND[err.kind];
  if (err instanceof Deno.errors.NotCapable) return EXIT.USAGE;
  return EXIT.UNREACHABLE;
}

/**
 * The flag of each library option a library message may name (written `` `option` `` there).
 * Options a task has no flag for stay as they are.
 */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  url: "--url",
  token: "--token",
  tokenFile: "--token-file",
  timeoutMs: "--timeout",
  retries: "--retries",
  concurrency: "--concurrency",
  caCerts: "--ca-cert",
  branch: "--branch",
  parent: "--parent",
  AUDIT_RULES: "--list-rules",
  serializeState: "audit-ips --state",
};

/**
 * A library message as a task prints it: each option the library names in backquotes
 * (`` `url` ``) becomes the task's flag (`--url`).
 *
 * @param message a library message
 * @returns the message naming flags
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { cliMessage } from "./exit.ts";
 * assert(cliMessage("Cannot connect to NetBox: no URL; set NETBOX_URL or pass `url`") ===
 *   "Cannot connect to NetBox: no URL; set NETBOX_URL or pass --url");
 * assert(cliMessage("Cannot use `other`") === "Cannot use `other`");
 * ```
 */
export function cliMessage(message: string): string {
  return message.replace(/`([A-Za-z_]+)`/g, (all, name: string) => FLAG_OF_OPTION[name] ?? all);
}

/**
 * Maps an error to an exit code and prints one line about it. The message can carry NetBox
 * text (names, field messages): its control characters, line feeds included, and bidi
 * overrides are shown visibly (`\x1b`, `\u202e`).
 *
 * @param err what was thrown
 * @param io where to print
 * @returns the exit code
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { reportError, UsageError } from "./exit.ts";
 * import type { TaskIO } from "./io.ts";
 * let err = "";
 * const io = { stderr: (t: string) => err += t } as unknown as TaskIO;
 * assert(reportError(new UsageError("Cannot parse --count: expected a number"), io) === 2);
 * assert(err === "error: Cannot parse --count: expected a number\n");
 * err = "";
 * reportError(new UsageError("Cannot find device \x1b]0;owned\x07"), io);
 * assert(err === "error: Cannot find device \\x1b]0;owned\\x07\n");
 * ```
 */
export function reportError(err: unknown, io: TaskIO): number {
  const say = (msg: string) => io.stderr(`error: ${escapeControls(msg)}\n`);
  if (err instanceof Deno.errors.NotCapable) {
    say(`${err.message}. ${permissionHint(err.message)}`);
  } else if (err instanceof NetBoxHttpError && err.requestId) {
    say(`${cliMessage(err.message)} (request id ${err.requestId})`);
  } else if (err instanceof NetBoxError) {
    say(cliMessage(err.message));
  } else {
    say(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }
  return exitCodeOf(err);
}

/** Turns Deno's permission message into the flag to add. */
function permissionHint(message: string): string {
  const m = message.match(/Requires (\w+) access(?: to "?([^",]+)"?)?/);
  if (!m) return "Add the missing --allow-* flag (see the task's entry in deno.json)";
  const kind = m[1];
  const what = m[2];
  const flag = `--allow-${kind}`;
  return what && kind !== "net"
    ? `Run again with ${flag}=${what} (or see the task's entry in deno.json)`
    : `Run again with ${flag} (or see the task's entry in deno.json)`;
}
