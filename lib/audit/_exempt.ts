/**
 * Exemptions and the ignore tag of the IP address audit.
 *
 * @module
 */

import { type IpNetwork, parseCidr } from "../ipam/ip.ts";
import type { AuditTag } from "./model.ts";
import type { AuditConfig, Exemptions } from "./rules.ts";

/** What a finding is about, as far as exemptions are concerned. */
export interface Subject {
  tags?: AuditTag[];
  /** IP role value or prefix role slug. */
  role?: string;
  family?: 4 | 6;
  host?: bigint;
}

const parsed = new Map<string, IpNetwork>();

function net(cidr: string): IpNetwork {
  let n = parsed.get(cidr);
  if (!n) {
    n = parseCidr(cidr);
    parsed.set(cidr, n);
  }
  return n;
}

/** Whether any tag of `tags` has `name` as its slug or name. */
export function hasTag(tags: AuditTag[] | undefined, name: string): boolean {
  return !!tags?.some((t) => t.slug === name || t.name === name);
}

/** Whether an object carries the ignore tag. */
export function isIgnored(tags: AuditTag[] | undefined, ignoreTag: string): boolean {
  return hasTag(tags, ignoreTag);
}

/** Whether a subject matches an exemption (by tag, role, or an address inside a prefix). */
export function isExempt(subject: Subject, exempt: Exemptions | undefined): boolean {
  if (!exempt) return false;
  if (exempt.tags.some((t) => hasTag(subject.tags, t))) return true;
  if (subject.role && exempt.roles.includes(subject.role)) return true;
  if (subject.host === undefined) return false;
  return exempt.prefixes.some((cidr) => {
    const n = net(cidr);
    return n.family === subject.family && n.first <= subject.host! && subject.host! <= n.last;
  });
}

/** Whether a finding of `rule` on `subject` is exempted: by the exemptions of every rule or of it. */
export function isExemptFrom(
  rule: string,
  subject: Subject,
  config: Pick<AuditConfig, "exempt" | "ruleExempt">,
): boolean {
  return isExempt(subject, config.exempt) || isExempt(subject, config.ruleExempt[rule]);
}
