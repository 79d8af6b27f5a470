/**
 * Client configuration: URL normalisation, the environment (`NETBOX_URL`, `NETBOX_TOKEN`,
 * `NETBOX_TOKEN_FILE`, `NETBOX_TIMEOUT`, `NETBOX_RETRIES`, `NETBOX_CA_CERT`) and the flags of the
 * tasks, resolved to {@linkcode ClientOptions}. A missing URL or token is a
 * {@linkcode ConfigError} naming what to set.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";
import type { ClientOptions } from "./types.ts";

/**
 * Normalises a NetBox URL to its base: no `/api` suffix, no trailing slash, no query.
 *
 * @param url e.g. `"https://netbox.example.com/api/"`.
 * @returns e.g. `"https://netbox.example.com"`.
 * @throws {ConfigError} When the URL is not an absolute `http(s)` URL or carries credentials.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { normalizeUrl } from "./config.ts";
 * assert(normalizeUrl("https://nb.example.com/api/") === "https://nb.example.com");
 * assert(normalizeUrl("http://127.0.0.1:8000/netbox") === "http://127.0.0.1:8000/netbox");
 * ```
 */
export function normalizeUrl(url: string): string {
  const text = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(
      `Cannot use the NetBox URL "${text}": not an absolute URL (e.g. https://netbox.example.com)`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(
      `Cannot use the NetBox URL "${parsed.origin}": the scheme must be http or https, not ${parsed.protocol}`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new ConfigError(
      "Cannot use the NetBox URL: it contains credentials; pass the token through NETBOX_TOKEN or NETBOX_TOKEN_FILE",
    );
  }
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/api$/, "");
  return `${parsed.origin}${path}`;
}

/**
 * Whether the URL sends the token in clear text over the network: plain `http://` to a host
 * other than a loopback address.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { isInsecureUrl } from "./config.ts";
 * assert(isInsecureUrl("http://netbox.example.com"));
 * assert(!isInsecureUrl("http://127.0.0.1:8000"));
 * assert(!isInsecureUrl("https://netbox.example.com"));
 * ```
 */
export function isInsecureUrl(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:") return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return !(host === "localhost" || host.endsWith(".localhost") || host === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(host));
}

/** Reads one environment variable (`undefined` when unset). */
export type EnvGetter = (name: string) => string | undefined;

/**
 * How messages name the settings a caller passed in (the rest are named by their variable):
 * a task's flags by default, a library caller's options in backquotes.
 */
export interface ConfigNames {
  /** The URL. @default {"--url"} */
  url: string;
  /** Where to give a token when none was found. @default {"--token-file"} */
  token: string;
}

const FLAG_NAMES: ConfigNames = { url: "--url", token: "--token-file" };

/** Flag values of a task; each wins over its environment variable. */
export interface ConfigFlags {
  /** `--url` (else `NETBOX_URL`). */
  url?: string;
  /** A token given directly (e.g. a `--token` flag); wins over the file and `NETBOX_TOKEN`. */
  token?: string;
  /** `--token-file` (else `NETBOX_TOKEN_FILE`, else `NETBOX_TOKEN`). */
  tokenFile?: string;
  /** `--timeout` in seconds (else `NETBOX_TIMEOUT`). */
  timeoutSec?: number | string;
  /** `--retries` (else `NETBOX_RETRIES`). */
  retries?: number | string;
  /** `--settle` in seconds (else `NETBOX_SETTLE`): how long a late write is looked for. */
  settleSec?: number | string;
  /** `--ca-cert` (else `NETBOX_CA_CERT`): a PEM file. */
  caCertPath?: string;
  /** `--concurrency`. */
  concurrency?: number | string;
  /** `--memory`, already in bytes: page data a listing holds at once. */
  memoryBudget?: number;
}

/**
 * Resolves flags and environment to client options. Reads the environment only through `env`
 * (so a task can run with a narrow `--allow-env`) and the token / CA files named there.
 *
 * @param flags Flag values; each wins over its variable.
 * @param env Reads a variable. @default {Deno.env.get}
 * @param options `onWarning` is told about configuration that works but is unsafe: a token file
 *   its group or others may access (see {@linkcode tokenFileModeWarning}); never the token.
 *   `names`: how messages name the URL and token settings ({@linkcode ConfigNames}; the flags
 *   by default).
 * @returns Options for `createClient`.
 * @throws {ConfigError} Missing URL or token, unreadable file, bad number.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { resolveConfig } from "./config.ts";
 * const vars: Record<string, string> = { NETBOX_URL: "https://nb.example.com/api/", NETBOX_TOKEN: "x".repeat(40), NETBOX_TIMEOUT: "5" };
 * const options = resolveConfig({ retries: 2 }, (name) => vars[name]);
 * assert(options.url === "https://nb.example.com" && options.timeoutMs === 5000 && options.retries === 2);
 * ```
 */
export function resolveConfig(
  flags: ConfigFlags = {},
  env: EnvGetter = (name) => Deno.env.get(name),
  options: { onWarning?: (message: string) => void; names?: ConfigNames } = {},
): ClientOptions {
  const { onWarning, names = FLAG_NAMES } = options;
  const rawUrl = flags.url ?? nonEmpty(env("NETBOX_URL"));
  if (rawUrl === undefined || rawUrl.trim() === "") {
    throw new ConfigError(`Cannot connect to NetBox: no URL; set NETBOX_URL or pass ${names.url}`);
  }
  const client: ClientOptions = {
    url: normalizeUrl(rawUrl),
    token: resolveToken(flags, env, onWarning, names),
  };
  const timeoutSec = flags.timeoutSec ?? nonEmpty(env("NETBOX_TIMEOUT"));
  if (timeoutSec !== undefined) {
    const name = flags.timeoutSec !== undefined ? "--timeout" : "NETBOX_TIMEOUT";
    client.timeoutMs = Math.round(toNumber(timeoutSec, name, "a number of seconds > 0") * 1000);
    if (!(client.timeoutMs > 0)) throw badNumber(name, timeoutSec, "a number of seconds > 0");
  }
  const settleSec = flags.settleSec ?? nonEmpty(env("NETBOX_SETTLE"));
  if (settleSec !== undefined) {
    const name = flags.settleSec !== undefined ? "--settle" : "NETBOX_SETTLE";
    client.settleMs = Math.round(toNumber(settleSec, name, "a number of seconds >= 0") * 1000);
    if (!(client.settleMs >= 0)) throw badNumber(name, settleSec, "a number of seconds >= 0");
  }
  const retries = flags.retries ?? nonEmpty(env("NETBOX_RETRIES"));
  if (retries !== undefined) {
    const name = flags.retries !== undefined ? "--retries" : "NETBOX_RETRIES";
    client.retries = toInteger(retries, name, 0);
  }
  if (flags.concurrency !== undefined) {
    client.concurrency = toInteger(flags.concurrency, "--concurrency", 1);
  }
  if (flags.memoryBudget !== undefined) client.memoryBudget = flags.memoryBudget;
  const caPath = flags.caCertPath ?? nonEmpty(env("NETBOX_CA_CERT"));
  if (caPath !== undefined) {
    const name = flags.caCertPath !== undefined ? "--ca-cert" : "NETBOX_CA_CERT";
    client.caCerts = [readFile(caPath, name, "CA certificate")];
  }
  return client;
}

function resolveToken(
  flags: ConfigFlags,
  env: EnvGetter,
  onWarning: ((message: string) => void) | undefined,
  names: ConfigNames,
): string {
  if (flags.token !== undefined && flags.token.trim() !== "") return flags.token.trim();
  const file = flags.tokenFile ?? nonEmpty(env("NETBOX_TOKEN_FILE"));
  if (file !== undefined) {
    const name = flags.tokenFile !== undefined ? "--token-file" : "NETBOX_TOKEN_FILE";
    const token = readFile(file, name, "token file").trim();
    if (token === "") {
      throw new ConfigError(`Cannot read the token file ${file} (${name}): it is empty`);
    }
    if (onWarning) {
      const warning = tokenFileModeWarning(file, name);
      if (warning) onWarning(warning);
    }
    return token;
  }
  const token = env("NETBOX_TOKEN")?.trim();
  if (token === undefined || token === "") {
    throw new ConfigError(
      "Cannot connect to NetBox: no API token; set NETBOX_TOKEN or NETBOX_TOKEN_FILE, or pass " +
        names.token,
    );
  }
  return token;
}

/**
 * The warning for a token file that its group or others may access (any of the mode bits 077,
 * as ssh checks private keys): names the file and its mode and says how to fix it; never
 * reads or shows the token. Undefined when the mode is private, on Windows, or when the file
 * cannot be examined.
 *
 * @param path the token file
 * @param name how the user named it, e.g. `--token-file` or `NETBOX_TOKEN_FILE`
 * @returns the warning text, or undefined
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { tokenFileModeWarning } from "./config.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.chmod(file, 0o644);
 * assert(tokenFileModeWarning(file, "--token-file")?.includes(`mode 0644`));
 * await Deno.chmod(file, 0o600);
 * assert(tokenFileModeWarning(file, "--token-file") === undefined);
 * await Deno.remove(file);
 * ```
 */
export function tokenFileModeWarning(path: string, name: string): string | undefined {
  if (Deno.build.os === "windows") return undefined;
  let mode: number | null;
  try {
    mode = Deno.statSync(path).mode;
  } catch {
    return undefined;
  }
  if (mode === null || (mode & 0o077) === 0) return undefined;
  const who = [(mode & 0o070) ? "its group" : "", (mode & 0o007) ? "others" : ""]
    .filter(Boolean).join(" and ");
  const octal = (mode & 0o7777).toString(8).padStart(4, "0");
  return `the token file ${path} (${name}) is open to ${who} (mode ${octal}); ` +
    `restrict it to its owner: chmod 600 ${path}`;
}

function readFile(path: string, name: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    // A missing --allow-read surfaces as Deno's own message (the task names the flag to add).
    if (err instanceof Deno.errors.NotCapable) throw err;
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable
      ? "permission denied"
      : (err as Error).name;
    throw new ConfigError(`Cannot read the ${what} ${path} (${name}): ${why}`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function toNumber(value: number | string, name: string, expected: string): number {
  const n = typeof value === "number" ? value : Number(value.trim());
  if (!Number.isFinite(n) || (typeof value === "string" && value.trim() === "")) {
    throw badNumber(name, value, expected);
  }
  return n;
}

function toInteger(value: number | string, name: string, min: number): number {
  const expected = `a whole number >= ${min}`;
  const n = toNumber(value, name, expected);
  if (!Number.isInteger(n) || n < min) throw badNumber(name, value, expected);
  return n;
}

function badNumber(name: string, value: unknown, expected: string): ConfigError {
  return new ConfigError(
    `Cannot use ${name}=${JSON.stringify(String(value))}: expected ${expected}`,
  );
}
