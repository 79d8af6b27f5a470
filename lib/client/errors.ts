/**
 * The error classes of the client. Every error the client throws is a {@linkcode NetBoxError};
 * messages read "Cannot <action>: <reason>" and never contain the token. Each error has a
 * {@linkcode ErrorKind} (what went wrong, for a program to branch on); the exit code a
 * command-line program ends with follows from the kind through one table,
 * {@linkcode EXIT_CODE_OF_KIND}.
 *
 * @module
 */

/**
 * What kind of failure an error is, for a program to branch on without an `instanceof` chain:
 *
 * | kind              | what happened                                                    | exit |
 * | ----------------- | ---------------------------------------------------------------- | ---- |
 * | `input`           | a value the caller passed is invalid; nothing was sent           | 2    |
 * | `config`          | URL, token or another setting missing or unusable; nothing sent  | 2    |
 * | `refused`         | NetBox refused the request (400 and other 4xx), or it cannot be done as asked | 3 |
 * | `auth`            | the token was rejected or lacks permission (403)                 | 3    |
 * | `not-found`       | no such object (404), or a reference did not match exactly one   | 3    |
 * | `conflict`        | NetBox had no room (409: no free addresses, prefixes, VLANs)     | 3    |
 * | `changed`         | the object changed since it was read (412 or `last_updated`)     | 3    |
 * | `not-sent`        | the caller stopped the work before this write was sent           | 3    |
 * | `unreachable`     | NetBox could not be reached or did not answer in time            | 4    |
 * | `failing`         | NetBox answered with a server error (5xx) after retries          | 4    |
 * | `unknown-outcome` | whether a write happened cannot be told; someone must check      | 1    |
 */
export type ErrorKind =
  | "input"
  | "config"
  | "refused"
  | "auth"
  | "not-found"
  | "conflict"
  | "changed"
  | "not-sent"
  | "unreachable"
  | "failing"
  | "unknown-outcome";

/**
 * The one table from an error's kind to the exit code of the toolkit's tasks (the CLI contract:
 * 1 needs attention, 2 bad input, 3 NetBox refused, 4 NetBox unreachable or failing).
 * {@linkcode NetBoxError.exitCode} and the tasks' error reporting both read it.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { EXIT_CODE_OF_KIND } from "./errors.ts";
 * assert(EXIT_CODE_OF_KIND.input === 2 && EXIT_CODE_OF_KIND.unreachable === 4);
 * ```
 */
export const EXIT_CODE_OF_KIND: Readonly<Record<ErrorKind, 1 | 2 | 3 | 4>> = {
  input: 2,
  config: 2,
  refused: 3,
  auth: 3,
  "not-found": 3,
  conflict: 3,
  changed: 3,
  "not-sent": 3,
  unreachable: 4,
  failing: 4,
  "unknown-outcome": 1,
};

/**
 * The root of every error the client throws.
 *
 * @example Catching any client error
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { NetBoxError } from "./errors.ts";
 * try {
 *   throw new NetBoxError("Cannot list sites: example");
 * } catch (err) {
 *   if (err instanceof NetBoxError) assert(err.message.startsWith("Cannot"));
 * }
 * ```
 */
export class NetBoxError extends Error {
  /** @param message "Cannot <action>: <reason>" */
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /** What kind of failure this is; a plain `NetBoxError` is `refused`. */
  get kind(): ErrorKind {
    return "refused";
  }

  /**
   * The exit code a command-line program should end with for this error, from its
   * {@linkcode NetBoxError.kind} ({@linkcode EXIT_CODE_OF_KIND}): 2 for bad input (nothing was
   * sent), 3 when NetBox refused, 4 when NetBox was unreachable or failing, 1 when a write's
   * outcome is unknown.
   */
  get exitCode(): number {
    return EXIT_CODE_OF_KIND[this.kind];
  }
}

/**
 * A value the caller passed is invalid (an address, a DNS name, a count, a document): detected
 * before anything was sent to NetBox. Exit code 2.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { InputError } from "./errors.ts";
 * const err = new InputError("Cannot assign 10.0.0.300/24: not an IP address");
 * assert(err.kind === "input" && err.exitCode === 2);
 * ```
 */
export class InputError extends NetBoxError {
  /** Always `input`: nothing was sent. */
  override get kind(): ErrorKind {
    return "input";
  }
}

/**
 * Bad or missing configuration (URL, token, option values). Names what to set.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { ConfigError } from "./errors.ts";
 * const err = new ConfigError("Cannot connect: no NetBox URL; set NETBOX_URL or pass --url");
 * assert(err.name === "ConfigError");
 * ```
 */
export class ConfigError extends NetBoxError {
  /** Always `config`: nothing was sent. */
  override get kind(): ErrorKind {
    return "config";
  }
}

/**
 * A filter name the list operation does not know (NetBox would silently ignore it and return the
 * whole table), or another usage mistake detected before anything is sent.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { FilterError } from "./errors.ts";
 * const err = new FilterError("Cannot list ipam/prefixes/: unknown filter \"stie\"", "stie", ["site"]);
 * assert(err.suggestions[0] === "site");
 * ```
 */
export class FilterError extends NetBoxError {
  /** The unknown filter name. */
  readonly filter: string;
  /** The closest valid names, best first. */
  readonly suggestions: string[];
  /** Creates the error. */
  constructor(message: string, filter: string, suggestions: string[]) {
    super(message);
    this.filter = filter;
    this.suggestions = suggestions;
  }

  /** Always `input`: nothing was sent. */
  override get kind(): ErrorKind {
    return "input";
  }
}

/** Details of an HTTP error. */
export interface HttpErrorInit {
  /** HTTP status. */
  status: number;
  /** HTTP method. */
  method: string;
  /** The request path and query, relative to the server (never containing the token). */
  path: string;
  /** NetBox's `X-Request-ID` response header. */
  requestId?: string;
  /** The parsed body: JSON value, or the raw text for non-JSON bodies. */
  body: unknown;
  /** Field → messages, normalised from the body (`__all__`/`non_field_errors`/`detail` kept). */
  messages: Record<string, string[]>;
}

/** The kinds of 4xx statuses that are not a plain refusal. */
const HTTP_KINDS: Readonly<Record<number, ErrorKind>> = {
  403: "auth",
  404: "not-found",
  409: "conflict",
  412: "changed",
};

/**
 * NetBox answered with a non-2xx status.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { NetBoxHttpError } from "./errors.ts";
 * const err = new NetBoxHttpError("Cannot create site: slug: site with this slug already exists", {
 *   status: 400, method: "POST", path: "/api/dcim/sites/", body: {}, messages: { slug: ["site with this slug already exists."] },
 * });
 * assert(err.status === 400);
 * ```
 */
export class NetBoxHttpError extends NetBoxError implements HttpErrorInit {
  /** HTTP status. */
  readonly status: number;
  /** HTTP method. */
  readonly method: string;
  readonly path: string;
  readonly requestId?: string;
  readonly body: unknown;
  readonly messages: Record<string, string[]>;
  /** Creates the error. */
  constructor(message: string, init: HttpErrorInit, options?: ErrorOptions) {
    super(message, options);
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.requestId = init.requestId;
    this.body = init.body;
    this.messages = init.messages;
  }

  /**
   * From the status: `failing` for NetBox's own failures (5xx); for a refusal (4xx) `auth` (403),
   * `not-found` (404), `conflict` (409), `changed` (412), else `refused`.
   */
  override get kind(): ErrorKind {
    if (this.status >= 500) return "failing";
    return HTTP_KINDS[this.status] ?? "refused";
  }
}

/**
 * A 403: the token was rejected (`reason: "rejected"`: invalid, expired, disabled, missing) or
 * lacks permission (`reason: "permission"`).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { NetBoxAuthError } from "./errors.ts";
 * const err = new NetBoxAuthError("Cannot list sites: NetBox rejected the v2 token (Invalid v2 token)", {
 *   status: 403, method: "GET", path: "/api/dcim/sites/", body: {}, messages: {},
 * }, "rejected", 2);
 * assert(err.reason === "rejected");
 * ```
 */
export class NetBoxAuthError extends NetBoxHttpError {
  /** Whether the token was rejected or lacks permission. */
  readonly reason: "rejected" | "permission";
  /** The token version that was sent. */
  readonly tokenVersion: 1 | 2;
  /** Creates the error. */
  constructor(
    message: string,
    init: HttpErrorInit,
    reason: "rejected" | "permission",
    tokenVersion: 1 | 2,
  ) {
    super(message, init);
    this.reason = reason;
    this.tokenVersion = tokenVersion;
  }

  /** Always `auth`. */
  override get kind(): ErrorKind {
    return "auth";
  }
}

/**
 * A write that was not sent because the caller stopped the work (`stop` signal: Ctrl-C,
 * SIGTERM) before its turn. Nothing of it reached NetBox; run again to finish.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { NotSentError } from "./errors.ts";
 * assert(new NotSentError("Cannot create dcim/sites/: stopped before it was sent") instanceof Error);
 * ```
 */
export class NotSentError extends NetBoxError {
  /** Always `not-sent`. */
  override get kind(): ErrorKind {
    return "not-sent";
  }
}

/**
 * Whether a write happened cannot be told: NetBox's answer was lost and reading back failed too.
 * The message names what to check. Exit code 1 (done, but needs attention).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { OutcomeUnknownError } from "./errors.ts";
 * const err = new OutcomeUnknownError("Cannot tell whether 3 addresses were reserved");
 * assert(err.kind === "unknown-outcome" && err.exitCode === 1);
 * ```
 */
export class OutcomeUnknownError extends NetBoxError {
  /** Always `unknown-outcome` (exit code 1): the run is over, but someone must check. */
  override get kind(): ErrorKind {
    return "unknown-outcome";
  }
}

/**
 * The object changed since it was read: NetBox refused an `If-Match` write with 412 (4.6 and
 * newer), or, before 4.6, its `last_updated` no longer matched just before the write. Re-read,
 * decide again, or stop: nothing was written. Exit code 3.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { NetBoxChangedError } from "./errors.ts";
 * const err = new NetBoxChangedError("Cannot update dcim/devices/7/: changed by someone else since it was read", {
 *   status: 412, method: "PATCH", path: "/api/dcim/devices/7/", body: {}, messages: {},
 * });
 * assert(err.kind === "changed" && err.exitCode === 3);
 * ```
 */
export class NetBoxChangedError extends NetBoxHttpError {
  /** Always `changed`, whatever the status (before 4.6 there is no 412). */
  override get kind(): ErrorKind {
    return "changed";
  }
}

/**
 * A 409 from an `available-*` endpoint: not enough free addresses/prefixes/VLANs.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { AllocationError } from "./errors.ts";
 * const err = new AllocationError("Cannot allocate 5 IP addresses: insufficient resources", {
 *   status: 409, method: "POST", path: "/api/ipam/prefixes/1/available-ips/", body: {}, messages: {},
 * });
 * assert(err.status === 409);
 * ```
 */
export class AllocationError extends NetBoxHttpError {
  /** Always `conflict`. */
  override get kind(): ErrorKind {
    return "conflict";
  }
}

/**
 * NetBox could not be reached (refused, reset, DNS, TLS), after retries. The original failure is
 * the `cause`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { NetBoxNetworkError } from "./errors.ts";
 * const err = new NetBoxNetworkError("Cannot list sites: connection refused", { attempts: 5 });
 * assert(err.attempts === 5);
 * ```
 */
export class NetBoxNetworkError extends NetBoxError {
  /** How many attempts were made. */
  readonly attempts: number;
  /**
   * Where the last attempt failed: `connect` and `tls` before anything was sent; `reset`, `body`
   * (and a timeout) after the request may have reached NetBox.
   */
  readonly stage?: "connect" | "tls" | "reset" | "body" | "timeout";
  /** Creates the error. */
  constructor(
    message: string,
    options: ErrorOptions & {
      attempts: number;
      stage?: "connect" | "tls" | "reset" | "body" | "timeout";
    },
  ) {
    super(message, options);
    this.attempts = options.attempts;
    this.stage = options.stage;
  }

  /** Always `unreachable` (exit code 4): NetBox could not be reached. */
  override get kind(): ErrorKind {
    return "unreachable";
  }
}

/**
 * A request took longer than the timeout (after retries).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { NetBoxTimeoutError } from "./errors.ts";
 * const err = new NetBoxTimeoutError("Cannot list sites: no answer within 30 s", { attempts: 1 });
 * assert(err instanceof Error);
 * ```
 */
export class NetBoxTimeoutError extends NetBoxNetworkError {}

/**
 * Whether a failed write may nevertheless have been made: the request may have reached NetBox
 * and only the answer was lost (a timeout, a reset or broken body after sending, a gateway's
 * 502/504). Such a write must be read back before it is reported as failed or repeated.
 *
 * @param err what the write threw
 * @returns `true` when NetBox may have acted
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { mayHaveActed, NetBoxHttpError, NetBoxNetworkError, NetBoxTimeoutError } from "./errors.ts";
 * assert(mayHaveActed(new NetBoxTimeoutError("Cannot create: no answer", { attempts: 1 })));
 * assert(!mayHaveActed(new NetBoxNetworkError("Cannot create: refused", { attempts: 5, stage: "connect" })));
 * const init = { method: "POST", path: "/api/dcim/sites/", body: {}, messages: {} };
 * assert(mayHaveActed(new NetBoxHttpError("Cannot create: bad gateway", { ...init, status: 502 })));
 * assert(!mayHaveActed(new NetBoxHttpError("Cannot create: invalid", { ...init, status: 400 })));
 * ```
 */
export function mayHaveActed(err: unknown): boolean {
  if (err instanceof NetBoxTimeoutError) return true;
  if (err instanceof NetBoxNetworkError) return err.stage !== "connect" && err.stage !== "tls";
  if (err instanceof NetBoxHttpError) return err.status === 502 || err.status === 504;
  return false;
}
