/**
 * The handshake of the transport: `/api/status/`, fetched once per client and cached (a failed
 * look is forgotten, so the next request tries again), the v1-token deprecation warning it
 * prompts, and whether the token may write (looked up once).
 *
 * @module
 */

import { NetBoxError } from "./errors.ts";
import type { NetBoxStatus, Transport } from "./types.ts";

/** What the handshake needs of the transport. */
export interface HandshakeOptions {
  /** NetBox's base URL (no `/api`), for messages. */
  readonly baseUrl: string;
  /** 1 or 2: a v1 token draws a warning on NetBox >= 4.6. */
  readonly tokenVersion: 1 | 2;
  /** Fetches `/api/status/` (no handshake of its own). */
  readonly fetchStatus: (action: string) => Promise<unknown>;
  /** Writes a warning once. */
  readonly warn: (message: string) => void;
}

/** The cached status of one client. */
export interface Handshake {
  /** `/api/status/`, parsed; `action` names the request that needed it. */
  status(action: string): Promise<NetBoxStatus>;
}

/** Creates the handshake of a client. */
export function createHandshake(options: HandshakeOptions): Handshake {
  const { baseUrl, tokenVersion, fetchStatus, warn } = options;
  let statusPromise: Promise<NetBoxStatus> | undefined;
  const status = (action: string): Promise<NetBoxStatus> => {
    statusPromise ??= fetchStatus(action)
      .then((raw) => {
        const parsed = parseStatus(raw, action, baseUrl);
        if (tokenVersion === 1 && (parsed.major > 4 || (parsed.major === 4 && parsed.minor >= 6))) {
          warn(
            `warning: the API token is a v1 token, deprecated since NetBox 4.6 and removed in 5.0 (this server runs ${parsed.version}); create a v2 token`,
          );
        }
        return parsed;
      })
      .catch((err) => {
        statusPromise = undefined;
        throw err;
      });
    return statusPromise;
  };
  return { status };
}

/**
 * Whether the token may write, looked up once (see {@linkcode lookUpWriteEnabled}); `undefined`
 * when NetBox does not say or the look-up fails.
 */
export function writeCheck(
  request: Transport["request"],
  token: string,
): () => Promise<boolean | undefined> {
  let canWritePromise: Promise<boolean | undefined> | undefined;
  return () => {
    canWritePromise ??= lookUpWriteEnabled(request, token).catch(() => undefined);
    return canWritePromise;
  };
}

/**
 * Parses `/api/status/`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseStatus } from "./_handshake.ts";
 * const status = parseStatus({ "netbox-version": "4.6.8" }, "connect", "https://nb.example.com");
 * assert(status.major === 4 && status.minor === 6 && status.patch === 8);
 * ```
 */
export function parseStatus(raw: unknown, action: string, baseUrl: string): NetBoxStatus {
  const record = raw !== null && typeof raw === "object" ? raw as Record<string, unknown> : {};
  const version = record["netbox-version"];
  const match = typeof version === "string" ? /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version) : null;
  if (!match) {
    throw new NetBoxError(
      `Cannot ${action}: ${baseUrl}/api/status/ has no netbox-version; check that NETBOX_URL points at NetBox`,
    );
  }
  return {
    version: String(version),
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    raw: record,
  };
}

/**
 * Finds the token's own entry in `/api/users/tokens/` and returns its `write_enabled`. A v2
 * token is found by its key (`?key=`, the 12 characters after `nbt_`); a v1 token by the last
 * six characters NetBox shows in its masked `display` (an entry without `version`, as on 4.3, is
 * a v1 token). `undefined` when the entry is not
 * visible (no `users.view_token` permission) or not unique.
 */
async function lookUpWriteEnabled(
  request: Transport["request"],
  token: string,
): Promise<boolean | undefined> {
  const key = /^nbt_([^.]+)\./.exec(token)?.[1];
  // NetBox 4.3 has v1 tokens only: its token list has no `version` field (nor filter, so the
  // `version` query is ignored there) and an entry without one is a v1 token.
  const page = await request<{ results?: Record<string, unknown>[] }>("GET", "users/tokens/", {
    query: key ? { key, limit: 2 } : { version: 1, limit: 1000 },
    action: "check whether the token may write",
  });
  const masked = `${"*".repeat(34)}${token.slice(-6)}`;
  const mine = (page.results ?? []).filter((item) =>
    key ? item.key === key : (item.version ?? 1) === 1 && item.display === masked
  );
  const flags = new Set(mine.map((item) => item.write_enabled));
  const [writeEnabled] = flags;
  return flags.size === 1 && typeof writeEnabled === "boolean" ? writeEnabled : undefined;
}
