/**
 * The opt-in `ptr-mismatch` rule (`audit-ips --ptr`, `--nameserver HOST[:PORT]`): the reverse
 * DNS (PTR) of every address with a DNS name must name it. Talks to DNS, so it runs only when
 * asked; tests run a loopback DNS server or inject a resolver.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import { mapLimit } from "../base/limit.ts";
import { parseCidr, parseIp } from "../ipam/ip.ts";
import { dnsFinding, withCheckableDnsName } from "./resolve.ts";
import type { AuditIp, AuditVrf, Finding } from "./model.ts";
import type { AuditConfig } from "./rules.ts";

/** Looks up the PTR records of a reverse name (`5.0.0.10.in-addr.arpa`). */
export type PtrResolver = (reverseName: string) => Promise<string[]>;

/** A DNS server: address and port. */
export interface Nameserver {
  /** Its IP address. */
  ipAddr: string;
  /** Its UDP/TCP port. @default {53} */
  port: number;
}

/**
 * Parses `--nameserver HOST[:PORT]` (`[v6]:PORT` for IPv6).
 *
 * @param text the flag's value
 * @returns the server
 * @throws {InputError} when it is not an IP address with an optional port
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseNameserver } from "./ptr.ts";
 * assert(parseNameserver("127.0.0.1:5353").port === 5353);
 * assert(parseNameserver("::1").port === 53);
 * ```
 */
export function parseNameserver(text: string): Nameserver {
  const m = text.match(/^\[([^\]]+)\](?::(\d+))?$/) ?? text.match(/^([^:]+)(?::(\d+))?$/) ??
    [text, text, undefined];
  const port = m[2] === undefined ? 53 : Number(m[2]);
  try {
    parseIp(m[1]);
  } catch {
    throw new InputError(`Cannot parse --nameserver "${text}": expected IP[:PORT] or [IPv6]:PORT`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InputError(`Cannot parse --nameserver "${text}": the port must be 1-65535`);
  }
  return { ipAddr: m[1], port };
}

/**
 * The system's PTR look-up (`Deno.resolveDns`, needs `--allow-net`), through `nameserver` when
 * given.
 *
 * @param nameserver the DNS server to ask instead of the system's
 * @returns the resolver
 *
 * @example
 * ```ts ignore
 * import { systemPtrResolver } from "./ptr.ts";
 * console.log(await systemPtrResolver()("1.0.0.127.in-addr.arpa"));
 * ```
 */
export function systemPtrResolver(nameserver?: Nameserver): PtrResolver {
  return (name) => Deno.resolveDns(name, "PTR", nameserver ? { nameServer: nameserver } : {});
}

/**
 * The reverse DNS name of an address (`10.0.0.5` → `5.0.0.10.in-addr.arpa`).
 *
 * @param address an address, with or without mask
 * @returns the name under `in-addr.arpa` or `ip6.arpa`
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { reverseName } from "./ptr.ts";
 * assert(reverseName("10.0.0.5/24") === "5.0.0.10.in-addr.arpa");
 * assert(reverseName("2001:db8::1").startsWith("1.0.0.0."));
 * ```
 */
export function reverseName(address: string): string {
  const net = parseCidr(address);
  if (net.family === 4) {
    const v = net.address;
    return [0n, 8n, 16n, 24n].map((s) => String((v >> s) & 0xffn)).join(".") + ".in-addr.arpa";
  }
  const hex = net.address.toString(16).padStart(32, "0");
  return [...hex].reverse().join(".") + ".ip6.arpa";
}

/** Options of {@linkcode checkPtr}. */
export interface CheckPtrOptions {
  /** Look-ups in flight. @default {8} */
  concurrency?: number;
  /** VRF names for the findings. */
  vrfs?: AuditVrf[];
}

/**
 * Looks up the PTR of every address with a DNS name and reports those whose PTR records do not
 * name it (or that have none). Wildcards, invalid names and ignored addresses are skipped.
 *
 * @param ips the addresses in scope
 * @param config severity, exemptions, ignore tag
 * @param resolver the PTR resolver
 * @param options concurrency and VRF names
 * @returns the findings, in the input's order
 *
 * @example A PTR that names another host
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { checkPtr } from "./ptr.ts";
 * import { defaultAuditConfig } from "./rules.ts";
 * const findings = await checkPtr(
 *   [{ id: 1, address: "10.0.0.5/24", dns_name: "a.example" }],
 *   defaultAuditConfig(),
 *   () => Promise.resolve(["b.example."]),
 * );
 * assert(findings[0].rule === "ptr-mismatch");
 * ```
 */
export async function checkPtr(
  ips: readonly AuditIp[],
  config: AuditConfig,
  resolver: PtrResolver,
  options: CheckPtrOptions = {},
): Promise<Finding[]> {
  const { concurrency = 8, vrfs = [] } = options;
  const names = new Map(vrfs.map((v) => [v.id, v.name]));
  const todo = withCheckableDnsName(ips, config);
  const results = await mapLimit(todo, concurrency, async (ip) => {
    let net;
    try {
      net = parseCidr(ip.address);
    } catch {
      return undefined;
    }
    const want = ip.dns_name!.trim().replace(/\.$/, "").toLowerCase();
    const host = ip.address.split("/")[0];
    let message: string;
    try {
      const answers = await resolver(reverseName(ip.address));
      const got = answers.map((a) => a.replace(/\.$/, "").toLowerCase());
      if (got.includes(want)) return undefined;
      message = got.length
        ? `the PTR of ${host} names ${got.join(", ")}, not its DNS name ${want}`
        : `${host} has no PTR record (its DNS name is ${want})`;
    } catch (err) {
      message = err instanceof Deno.errors.NotFound
        ? `${host} has no PTR record (its DNS name is ${want})`
        : `the PTR of ${host} could not be looked up: ${(err as Error).message}`;
    }
    return dnsFinding("ptr-mismatch", ip, net, config, names, message);
  });
  return results.filter((f): f is Finding => f !== undefined);
}
