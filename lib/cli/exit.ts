/**
 * Exit codes of every task and the mapping of errors to them. A library error carries its own
 * exit code ({@linkcode NetBoxError.exitCode}); this module only adds what is the CLI's alone.
 *
 * @module
 */

import { InputError, NetBoxError, NetBoxHttpError } from "../client/errors.ts";
import { escapeControls } from "../client/safe_text.ts";
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
    return EXIT.USAGE;
  }
  if (err instanceof NetBoxHttpError && err.requestId) {
    say(`${err.message} (request id ${err.requestId})`);
    return err.exitCode;
  }
  if (err instanceof NetBoxError) {
    say(err.message);
    return err.exitCode;
  }
  say(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  return EXIT.UNREACHABLE;
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
