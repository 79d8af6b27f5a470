/**
 * The opt-in `dns-forward-mismatch` rule of the IP address audit (`--resolve`): looks up each
 * address's DNS name and reports names that do not resolve to the address. It talks to the
 * system resolver, so it runs only when asked; tests inject a resolver.
 *
 * @module
 */

import { mapLimit } from "../base/limit.ts";
import { parseCidr, parseIp } from "../ipam/ip.ts";
import { isExemptFrom, isIgnored } from "./_exempt.ts";
import { validateDnsName } from "../ipam/dns_name.ts";
import { type AuditIp, type AuditVrf, choiceValue, type Finding, uiUrl } from "./model.ts";
import type { AuditConfig } from "./rules.ts";

/** Looks up the A or AAAA records of a name; rejects when the name does not exist. */
export type DnsResolver = (name: string, type: "A" | "AAAA") => Promise<string[]>;

/**
 * The system resolver (`Deno.resolveDns`; needs `--allow-net`).
 *
 * @param name The name.
 * @param type `A` or `AAAA`.
 * @returns The addresses.
 *
 * @example
 * ```ts ignore
 * import { systemResolver } from "./resolve.ts";
 * console.log(await systemResolver("localhost", "A"));
 * ```
 */
export const systemResolver: DnsResolver = (name, type) => Deno.resolveDns(name, type);

/** Options of {@linkcode checkDnsForward}. */
export interface CheckDnsOptions {
  /** Look-ups in flight. @default {8} */
  concurrency?: number;
  /** VRF names for the findings. */
  vrfs?: AuditVrf[];
}

/**
 * Resolves every address's DNS name (A for IPv4, AAAA for IPv6) and reports those that do not
 * resolve to the address. Wildcards and invalid names are skipped.
 *
 * @param ips The addresses in scope.
 * @param config The audit configuration (severity, exemptions, ignore tag).
 * @param resolver The resolver. @default {systemResolver}
 * @param options Concurrency and VRF names.
 * @returns The findings, in address order of the input.
 *
 * @example With a resolver that knows one name
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { checkDnsForward } from "./resolve.ts";
 * import { defaultAuditConfig } from "./rules.ts";
 * const resolver = (name: string) =>
 *   name === "a.example" ? Promise.resolve(["10.0.0.9"]) : Promise.reject(new Error("NXDOMAIN"));
 * const findings = await checkDnsForward(
 *   [{ id: 1, address: "10.0.0.1/24", dns_name: "a.example" }],
 *   defaultAuditConfig(),
 *   resolver,
 * );
 * assert(findings[0].rule === "dns-forward-mismatch");
 * ```
 */
export async function checkDnsForward(
  ips: AuditIp[],
  config: AuditConfig,
  resolver: DnsResolver = systemResolver,
  options: CheckDnsOptions = {},
): Promise<Finding[]> {
  const { concurrency = 8, vrfs = [] } = options;
  const names = new Map(vrfs.map((v) => [v.id, v.name]));
  const todo = withCheckableDnsName(ips, config);
  const results = await mapLimit(todo, concurrency, (ip) => checkOne(ip, config, resolver, names));
  return results.filter((f): f is Finding => f !== undefined);
}

async function checkOne(
  ip: AuditIp,
  config: AuditConfig,
  resolver: DnsResolver,
  vrfNames: Map<number, string>,
): Promise<Finding | undefined> {
  let net;
  try {
    net = parseCidr(ip.address);
  } catch {
    return undefined;
  }
  const name = ip.dns_name!.trim();
  const type = net.family === 4 ? "A" : "AAAA";
  let message: string;
  try {
    const answers = await resolver(name, type);
    const values = answers.flatMap((a) => {
      try {
        return [parseIp(a).value];
      } catch {
        return [];
      }
    });
    if (values.includes(net.address)) return undefined;
    message = `${name} resolves to ${answers.join(", ") || "nothing"} (${type}), not ${
      ip.address.split("/")[0]
    }`;
  } catch (err) {
    message = `${name} does not resolve (${type}): ${(err as Error).message}`;
  }
  return dnsFinding("dns-forward-mismatch", ip, net, config, vrfNames, message);
}

/**
 * The addresses whose DNS name the DNS rules look up: a valid name, not a wildcard, not carrying
 * the ignore tag.
 *
 * @param ips The addresses.
 * @param config The audit's configuration (its ignore tag).
 * @returns Those addresses, in their order.
 */
export function withCheckableDnsName(ips: readonly AuditIp[], config: AuditConfig): AuditIp[] {
  return ips.filter((ip) => {
    const name = (ip.dns_name ?? "").trim();
    return name !== "" && !name.startsWith("*") && validateDnsName(name) === undefined &&
      !isIgnored(ip.tags, config.ignoreTag);
  });
}

/**
 * The finding of a DNS rule on an address, or undefined when the address is exempted from it.
 *
 * @param rule The rule.
 * @param ip The address.
 * @param net The address, parsed.
 * @param config The audit's configuration (severities, exemptions).
 * @param vrfNames VRF names by id.
 * @param message What is wrong.
 * @returns The finding, or undefined.
 */
export function dnsFinding(
  rule: string,
  ip: AuditIp,
  net: { family: 4 | 6; address: bigint },
  config: AuditConfig,
  vrfNames: Map<number, string>,
  message: string,
): Finding | undefined {
  const subject = {
    tags: ip.tags,
    role: choiceValue(ip.role),
    family: net.family,
    host: net.address,
  };
  if (isExemptFrom(rule, subject, config)) return undefined;
  return {
    rule,
    severity: config.severity[rule],
    object_type: "ipam.ipaddress",
    object_id: ip.id,
    address: ip.address,
    vrf: ip.vrf ? vrfNames.get(ip.vrf.id) ?? ip.vrf.name ?? `#${ip.vrf.id}` : null,
    url: uiUrl(ip.url),
    message,
    related: [],
  };
}
