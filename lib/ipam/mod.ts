/**
 * IP address management on top of the client: IP and CIDR math, DNS names, NetBox's IP
 * choices, free addresses beyond the server's cap, idempotent reservations, "address on
 * this interface, primary IP of that host" in one call, and prefixes, VLANs and ASNs allocated
 * by key and by policy.
 *
 * The calls take a client from `@netbox-toolkit/netbox-toolkit` (`"."`); their errors are the
 * client's ({@linkcode InputError}, `NetBoxHttpError`, …) plus {@linkcode LookupError} (a VRF,
 * tenant, tag or host that does not name exactly one object), {@linkcode PoolExhaustedError}
 * (addresses) and {@linkcode PoolsExhaustedError} (prefixes, VLANs, ASNs).
 * What the tasks need beyond that (row validation, labels for flags, the span arithmetic behind
 * the free-address search) stays inside `lib/ipam`.
 *
 * @example IP math needs no NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { contains, formatCidr, parseCidr, parseIp } from "./mod.ts";
 *
 * const net = parseCidr("192.168.3.0/24");
 * assert(formatCidr(net) === "192.168.3.0/24");
 * assert(contains(net, parseIp("192.168.3.200")));
 * ```
 *
 * @module
 */

export {
  contains,
  formatCidr,
  formatIp,
  hostOf,
  network,
  parseCidr,
  parseIp,
  parseSpan,
} from "./ip.ts";
export type { IpAddress, IpFamily, IpNetwork, IpSpan } from "./ip.ts";
export type { IpPool } from "./free_ips.ts";
export { expandNameTemplate, validateDnsName } from "./dns_name.ts";
export { IP_ROLES, IP_STATUSES, isIpStatus, SHARED_ROLES } from "./choices.ts";
export { LookupError } from "./lookup.ts";
export {
  findFreeIps,
  findFreeIpsInEachPool,
  PoolExhaustedError,
  reserveIps,
  resolvePools,
} from "./find_free.ts";
export type {
  FindFreeIpsOptions,
  FindFreeIpsResult,
  LabelledOption,
  NewIpFields,
  OptionLabels,
  PlannedIp,
  PoolFreeIps,
  PoolRef,
  ReserveIpsOptions,
  ReserveIpsResult,
  ResolvedPool,
  VrfRef,
} from "./find_free.ts";
export { assignIp, assignIps } from "./assign.ts";
export type {
  AssignAction,
  AssignField,
  AssignIpOptions,
  AssignIpRequest,
  AssignIpResult,
  AssignIpsOptions,
  AssignOutcome,
  AssignStep,
  AssignTarget,
} from "./assign.ts";
export {
  allocateAsns,
  allocatePrefixes,
  allocateVlans,
  ALLOCATION_POLICIES,
  allocationMarker,
  PoolsExhaustedError,
} from "./allocate.ts";
export type {
  AllocateOptions,
  AllocatePrefixesOptions,
  AllocateVlansOptions,
  AllocationPolicy,
  AllocationResult,
  NamedPoolRef,
  PrefixPoolRef,
  SkippedPool,
} from "./allocate.ts";
export { allocateIps } from "./allocate_ips.ts";
export type { AllocateIpsOptions } from "./allocate_ips.ts";
export {
  AllocationPlanError,
  applyAllocationPlan,
  parseAllocationPlan,
} from "./allocation_plan.ts";
export type {
  AllocationPlan,
  ApplyAllocationPlanOptions,
  PlanStep,
  PlanStepResult,
} from "./allocation_plan.ts";
