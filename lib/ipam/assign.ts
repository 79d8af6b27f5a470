/**
 * One step from "device/VM + interface + address (or a prefix to allocate from)" to "IP assigned
 * to that interface and set as primary_ip4/6 (or OOB)": VRF-aware, idempotent (a second identical
 * call only reads), with a dry run that returns the plan and writes nothing.
 *
 * - {@linkcode assignIp} does one assignment and returns what it did (or would do).
 * - {@linkcode assignIps} does many, a few at a time; a NetBox refusal fails only its item.
 * - {@linkcode assignIpProblem} checks a request without asking NetBox.
 *
 * @module
 */

import {
  InputError,
  mayHaveActed,
  NetBoxAuthError,
  NetBoxChangedError,
  NetBoxError,
  NotSentError,
  OutcomeUnknownError,
} from "../client/errors.ts";
import { mapLimit } from "../base/limit.ts";
import { seconds } from "../base/duration.ts";
import { settle as readBackUntil } from "../client/settle.ts";
import { etagOf } from "../client/etag.ts";
import { assertMayWrite, type ModelWrite } from "../client/permissions.ts";
import type {
  BriefDevice,
  BriefIPAddress,
  BriefVirtualMachine,
  Device,
  Interface,
  IPAddress,
  Prefix,
  VirtualMachine,
  VMInterface,
  VRF,
  WritableIPAddress,
} from "../client/models.ts";
import type { Endpoint, NetBoxClient, NetBoxObject } from "../client/types.ts";
import { IP_STATUSES, isIpStatus } from "./choices.ts";
import { validateDnsName } from "./dns_name.ts";
import { occupies, prefixPool } from "./free_ips.ts";
import { formatCidr, formatIp, hostOf, parseCidr } from "./ip.ts";
import { describeObject, findOne, LookupError, resolveTags, resolveVrf } from "./lookup.ts";

/**
 * The device or virtual machine to assign to: a name (with its site or cluster when the name is
 * not unique) or an id.
 */
export type AssignTarget =
  | {
    /** The device's name, or its id. */
    device: string | number;
    /** Slug or name of the device's site (with a device name only). */
    site?: string;
  }
  | {
    /** The virtual machine's name, or its id. */
    virtualMachine: string | number;
    /** Name of the virtual machine's cluster (with a name only). */
    cluster?: string;
  };

/** What {@linkcode assignIp} should make true. */
export interface AssignIpRequest {
  /** The device or virtual machine. */
  target: AssignTarget;
  /** The interface's name. @default the target's only interface */
  interface?: string;
  /** Create `interface` when the target does not have it. */
  createInterface?: boolean;
  /** The type of a created device interface. @default {"virtual"} */
  interfaceType?: string;
  /**
   * The address with its mask, e.g. `192.168.3.10/24`; an existing copy (in `vrf`) is reused.
   * Give exactly one of `address` and `fromPrefix`.
   */
  address?: string;
  /**
   * A prefix (CIDR, or its id) to allocate the next free address from, through NetBox's locked
   * `available-ips`; an address the interface already has in it is used instead.
   */
  fromPrefix?: string | number;
  /** The VRF (name, RD or id) of `address` / `fromPrefix`. @default the global table */
  vrf?: string | number;
  /** The DNS name to set (stored lower-cased). @default left as it is */
  dnsName?: string;
  /** A house rule `dnsName` must also match. */
  dnsPattern?: RegExp | string;
  /** The status to set (see `IP_STATUSES`). @default left as it is; `active` for new addresses */
  status?: string;
  /** Tags (names or slugs, which must exist) the address must carry; others stay. */
  tags?: readonly string[];
  /** The description to set. @default left as it is */
  description?: string;
  /** Set the device's `oob_ip` instead of `primary_ip4`/`primary_ip6` (devices only). */
  oob?: boolean;
  /**
   * Move an address assigned to another interface, first clearing a primary/OOB designation of
   * its current device or VM that would block the move. Without it such an address is refused.
   */
  move?: boolean;
  /** Compute and return the plan; send no write. */
  dryRun?: boolean;
}

/** What one step does. */
export type AssignAction =
  | "created-interface"
  | "allocated-ip"
  | "created-ip"
  | "updated-ip"
  | "assigned"
  | "moved"
  | "cleared-primary"
  | "set-primary"
  | "set-oob"
  | "unchanged";

/** One write of an assignment (made, or planned under `dryRun`). */
export interface AssignStep {
  /** What it does. */
  action: AssignAction;
  /** The step in words: `create IP 10.0.0.5/24 (VRF global) on docker-01 eth0`. */
  text: string;
  /** The model writes it (and the steps it leads to) needs: checked before it is made. */
  needs: ModelWrite[];
}

/** What {@linkcode assignIp} did, or under `dryRun` would do. */
export interface AssignIpResult {
  /** `device <name>` or `vm <name>`. */
  target: string;
  /** The interface's name. */
  interface: string;
  /**
   * The address as NetBox holds it (for a new one under `dryRun`: as asked, or
   * `<address> (next free)` when allocating); `null` when it cannot be known.
   */
  address: string | null;
  /** The IP address's id (`null` for one not created yet under `dryRun`). */
  ip_id: number | null;
  /** What was (or would be) done, in order; `["unchanged"]` when everything already held. */
  actions: AssignAction[];
  /** The writes, in order (empty when unchanged). */
  steps: AssignStep[];
}

/** The request fields messages name. */
export type AssignField =
  | "address"
  | "fromPrefix"
  | "vrf"
  | "interface"
  | "createInterface"
  | "site"
  | "cluster"
  | "oob"
  | "move";

/** How an assignment reports and guards its writes. */
export interface AssignIpOptions {
  /** Called for every step: after it is made, or under `dryRun` instead of making it. */
  onStep?: (step: AssignStep) => void;
  /**
   * Called before each write with the model writes it needs; throws to stop. The default refuses
   * a read-only token and writes NetBox says the token may not make (`NetBoxAuthError`).
   */
  assertCanWrite?: (writes: readonly ModelWrite[]) => Promise<void>;
  /**
   * How messages name the request's fields (a command line passes its flags, e.g.
   * `{ move: "--move" }`). @default the field names
   */
  fieldNames?: Partial<Record<AssignField, string>>;
}

type Kind = "device" | "vm";

/** A device or a virtual machine, as NetBox reads it. */
type Host = Device | VirtualMachine;

/** The IP designations of a host (a VM has no `oob_ip`). */
interface HostIps {
  primary_ip4?: BriefIPAddress | null;
  primary_ip6?: BriefIPAddress | null;
  oob_ip?: BriefIPAddress | null;
}

/** The host fields that designate an IP. */
type HostIpField = keyof HostIps;

const HOST_IP_FIELDS: readonly HostIpField[] = ["primary_ip4", "primary_ip6", "oob_ip"];

interface Target {
  kind: Kind;
  obj: Host;
  label: string;
}

/**
 * The interface an IP is assigned to, as NetBox nests it in `assigned_object`: a device
 * interface (with `device`) or a VM interface (with `virtual_machine`). The schema types
 * `assigned_object` as `unknown` (it is polymorphic); {@linkcode assignedInterface} narrows it.
 */
interface AssignedInterface {
  id?: number;
  name?: string;
  device?: BriefDevice;
  virtual_machine?: BriefVirtualMachine;
}

/** The target's fields, read loosely (callers from JavaScript may send anything). */
interface LooseTarget {
  device?: string | number;
  site?: string;
  virtualMachine?: string | number;
  cluster?: string;
}

const IPS = "ipam/ip-addresses/";

const OBJECT_TYPE: Record<Kind, string> = {
  device: "dcim.interface",
  vm: "virtualization.vminterface",
};

const isId = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v > 0;

function namer(names: AssignIpOptions["fieldNames"]): (field: AssignField) => string {
  return (field) => names?.[field] ?? field;
}

/**
 * Checks an assignment request without asking NetBox.
 *
 * @param request The request.
 * @param fieldNames How messages name the request's fields. @default the field names
 * @returns The first reason the request is invalid, or `undefined` when it is valid.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { assignIpProblem } from "./assign.ts";
 * assert(assignIpProblem({ target: { virtualMachine: "web-01" }, address: "10.0.0.5/24" }) === undefined);
 * assert(/needs a mask/.test(assignIpProblem({ target: { device: 7 }, address: "10.0.0.5" }) ?? ""));
 * assert(/devices only/.test(assignIpProblem({ target: { virtualMachine: 3 }, fromPrefix: 12, oob: true }) ?? ""));
 * ```
 */
export function assignIpProblem(
  request: AssignIpRequest,
  fieldNames?: AssignIpOptions["fieldNames"],
): string | undefined {
  const name = namer(fieldNames);
  const t = (request.target ?? {}) as LooseTarget;
  const kinds = [t.device !== undefined && "device", t.virtualMachine !== undefined && "vm"]
    .filter(Boolean);
  if (kinds.length !== 1) {
    return kinds.length === 0
      ? "no target: give a device or a virtual machine"
      : "a device and a virtual machine exclude each other";
  }
  const ref = t.device ?? t.virtualMachine;
  if (typeof ref !== "string" && !isId(ref)) return `target ${ref}: expected a name or an id`;
  if (t.site !== undefined && typeof t.device !== "string") {
    return `${name("site")} needs a device name`;
  }
  if (t.cluster !== undefined && typeof t.virtualMachine !== "string") {
    return `${name("cluster")} needs a virtual machine name`;
  }
  if (request.oob && t.virtualMachine !== undefined) {
    return `${name("oob")} is for devices only (a VM has no OOB IP)`;
  }
  if ((request.address === undefined) === (request.fromPrefix === undefined)) {
    return `give exactly one of ${name("address")} or ${name("fromPrefix")}`;
  }
  if (request.address !== undefined) {
    if (!request.address.includes("/")) {
      return `${name("address")} "${request.address}" needs a mask (e.g. /24)`;
    }
    try {
      parseCidr(request.address);
    } catch (err) {
      return (err as Error).message;
    }
  }
  const prefix = request.fromPrefix;
  if (typeof prefix === "number" && !isId(prefix)) return `prefix id ${prefix}: not an id`;
  if (typeof prefix === "string" && !/^\d+$/.test(prefix)) {
    try {
      parseCidr(prefix);
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (request.status !== undefined && !IP_STATUSES.includes(request.status)) {
    return `status "${request.status}": expected one of ${IP_STATUSES.join(", ")}`;
  }
  if (request.dnsName !== undefined) {
    const reason = validateDnsName(request.dnsName, request.dnsPattern);
    if (reason) return reason;
  }
  if (request.createInterface && request.interface === undefined) {
    return `${name("createInterface")} needs ${name("interface")} (the name to create)`;
  }
  return undefined;
}

/**
 * Assigns an IP address to a device or VM interface and makes it the primary (or OOB) IP, in one
 * idempotent step:
 *
 * 1. finds the device or VM (by name, with site/cluster, or id) and its interface (the only one,
 *    or by name; created with `createInterface`);
 * 2. finds the address (`address`, in `vrf`) or, with `fromPrefix`, an address the interface
 *    already has in that prefix — else creates it, or allocates the prefix's next free address
 *    through NetBox's locked `available-ips`;
 * 3. assigns it to the interface (with `move`, away from another one, after clearing a primary or
 *    OOB designation that blocks it) and sets only the DNS name, status, description and tags
 *    that differ;
 * 4. sets `primary_ip4`/`primary_ip6` (by the address's family) or `oob_ip`.
 *
 * What already holds is left alone: a second identical call only reads and reports
 * `["unchanged"]`. Under `dryRun` nothing is written and the result is the plan.
 *
 * @param client The client.
 * @param request What should hold.
 * @param options Step reporting, the pre-write check, and how messages name fields.
 * @returns What was (or would be) done.
 * @throws {InputError} When the request is invalid or a tag does not exist (exit code 2);
 *   nothing is sent for an invalid request.
 * @throws {LookupError} When the device, VM, interface, prefix or address is not found or is
 *   ambiguous, or the address is assigned elsewhere without `move` (exit code 3).
 * @throws {NetBoxHttpError} When NetBox refuses a write, e.g. `NetBoxAuthError` for a token that
 *   may not write (exit code 3).
 *
 * @example Plan an assignment with a dry run (a scripted NetBox with one VM)
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { assignIp } from "./assign.ts";
 * const data: Record<string, unknown[]> = {
 *   "virtualization/virtual-machines/": [{ id: 4, url: "", name: "docker-01", primary_ip4: null }],
 *   "virtualization/interfaces/": [{ id: 9, url: "", name: "eth0", virtual_machine: { id: 4 } }],
 *   "ipam/ip-addresses/": [],
 * };
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   const results = data[url.pathname.replace("/api/", "")] ?? [];
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const plan = await assignIp(client, {
 *   target: { virtualMachine: "docker-01" },
 *   interface: "eth0",
 *   address: "192.168.3.10/24",
 *   dnsName: "docker-01-nexus.spaceships.work",
 *   dryRun: true,
 * });
 * assert(plan.actions.join() === "created-ip,set-primary");
 * assert(plan.steps[1].text === "set primary_ip4 of docker-01 to 192.168.3.10/24");
 * ```
 *
 * @example Invalid input throws InputError (exit code 2) before anything is sent
 * ```ts
 * import { ok as assert, rejects } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { InputError } from "../client/errors.ts";
 * import { assignIp } from "./assign.ts";
 * const fetch = () => Promise.reject(new Error("nothing may be sent"));
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * await rejects(
 *   assignIp(client, { target: { device: "foxtrot" }, address: "10.0.0.300/24" }),
 *   (err) => err instanceof InputError && err.exitCode === 2,
 * );
 * ```
 */
export async function assignIp(
  client: NetBoxClient,
  request: AssignIpRequest,
  options: AssignIpOptions = {},
): Promise<AssignIpResult> {
  const problem = assignIpProblem(request, options.fieldNames);
  if (problem) throw new InputError(`Cannot assign: ${problem}`);
  // Someone changed the device/VM between our read and our write (412, or last_updated before
  // NetBox 4.6), or NetBox's answer to a write was lost (it may have made it): read everything
  // again and decide once more — what was written is then found, not written twice.
  let run = new Assignment(client, request, options);
  for (let attempt = 1;; attempt++) {
    try {
      return await assignOnce(run);
    } catch (err) {
      const lost = mayHaveActed(err);
      if (!lost && !(err instanceof NetBoxChangedError)) throw err;
      if (lost) {
        // Never sent twice while it may still land: wait until the lost write shows up or the
        // settle window proves it absent; only then go on (or send it again).
        const settled = await settleLost(client, request, options, run, err as NetBoxError);
        if (settled.done) return settled.done;
        if (attempt >= 3) throw settled.unknown;
      } else if (attempt >= 2) throw err;
      run = new Assignment(client, request, options, run);
    }
  }
}

/**
 * After a lost answer: read back (a dry run) what is still to do. A write NetBox did not answer
 * may still be running there, so it is read back with pauses until the lost write shows up or the
 * client's settle window has passed. `done`: nothing is left to do (the result). Otherwise the
 * caller goes on — the lost write landed and the rest is still to do, or it was absent for the
 * whole window and may be sent again — and `unknown` is the error to give when it may not:
 * unknown, never "not done" (the write may land later). NetBox unreadable: that error is thrown.
 */
async function settleLost(
  client: NetBoxClient,
  request: AssignIpRequest,
  options: AssignIpOptions,
  run: Assignment,
  lost: NetBoxError,
): Promise<{ done?: AssignIpResult; unknown: OutcomeUnknownError }> {
  const readBack = async () => {
    try {
      return await assignOnce(new Assignment(client, { ...request, dryRun: true }, {}));
    } catch (err) {
      throw new OutcomeUnknownError(
        `Cannot tell whether the assignment was done: NetBox's answer was lost (${lost.message}) ` +
          `and reading back failed (${(err as Error).message})`,
        { cause: lost },
      );
    }
  };
  const step = run.inFlight;
  const landed = (c: AssignIpResult) =>
    !c.steps.length || (step !== undefined && !c.steps.some((s) => s.action === step.action));
  const { value: check, waitedMs } = await readBackUntil(client, readBack, landed);
  const unknown = new OutcomeUnknownError(
    `Cannot tell whether the assignment was done: NetBox did not answer (${lost.message}) ` +
      `and may still be making the change; reading back ${
        seconds(waitedMs)
      } later shows ${check.steps.length} step${
        check.steps.length === 1 ? "" : "s"
      } still to do (a re-run finishes it or finds ` +
      "it done)",
    { cause: lost },
  );
  if (check.steps.length) return { unknown };
  options.onStep?.({ action: "unchanged", text: "confirmed by reading back", needs: [] });
  const done = {
    ...check,
    actions: run.actions.length ? run.actions : ["unchanged" as const],
    steps: run.steps,
  };
  return { done, unknown };
}

async function assignOnce(run: Assignment): Promise<AssignIpResult> {
  const { client, request } = run;
  const target = await resolveTarget(run);
  const vrf = request.vrf === undefined ? undefined : await resolveVrf(client, String(request.vrf));
  const { tags, missing } = await resolveTags(client, [...(request.tags ?? [])]);
  if (missing.length) {
    throw new InputError(`Cannot use tag ${missing.join(", ")}: no such tag in NetBox`);
  }
  const tagIds = tags.map((t) => t.id);
  const iface = await resolveInterface(run, target);
  const ifaceName = String(iface?.name ?? request.interface);
  const result: AssignIpResult = {
    target: `${target.kind} ${target.label}`,
    interface: ifaceName,
    address: request.address ?? null,
    ip_id: null,
    actions: run.actions,
    steps: run.steps,
  };
  const ifaceId = iface?.id;
  const objectType = OBJECT_TYPE[target.kind];
  const onIface = `${target.label} ${ifaceName}`;
  const assignment = ifaceId === undefined
    ? {}
    : { assigned_object_type: objectType, assigned_object_id: ifaceId };

  let ip: IPAddress | undefined;
  if (request.address !== undefined) {
    ip = await findAddress(run, request.address, vrf);
  } else {
    const pfx = await resolvePrefix(run, String(request.fromPrefix), vrf);
    const pool = prefixPool(pfx);
    if (ifaceId !== undefined) {
      const held = await client.ipam.ipAddresses.all(
        target.kind === "device" ? { interface_id: ifaceId } : { vminterface_id: ifaceId },
      );
      ip = held.find((a) => occupies(pool, a));
    }
    if (!ip) {
      const helper = client.ipam.prefixes.availableIps(pfx.id);
      const [next] = await helper.list({ limit: 1 });
      if (!next) {
        throw new NetBoxError(`Cannot allocate from ${pfx.prefix}: no free address left`);
      }
      const body = {
        ...fieldChanges(undefined, request, tagIds),
        status: request.status ?? "active",
        ...assignment,
      };
      result.address = request.dryRun ? `${next.address} (next free)` : null;
      const created = await run.write(
        {
          action: "allocated-ip",
          text:
            `allocate the next free address of ${pfx.prefix} (now ${next.address}) on ${onIface}`,
          needs: ipThenPrimary("add", target),
        },
        () => helper.create(body),
      );
      if (created) {
        ip = created[0];
        result.address = String(ip.address);
        result.ip_id = ip.id;
      }
      await setPrimary(run, target, ip, next.address);
      return result;
    }
  }

  if (ip === undefined) {
    const body: WritableIPAddress = {
      address: request.address!,
      vrf: vrf?.id ?? null,
      status: isIpStatus(request.status) ? request.status : "active", // checked by assignIpProblem
      ...fieldChanges(undefined, request, tagIds),
      ...assignment,
    };
    ip = await run.write(
      {
        action: "created-ip",
        text: `create IP ${request.address} (VRF ${vrf?.name ?? "global"}) on ${onIface}`,
        needs: ipThenPrimary("add", target),
      },
      () => client.ipam.ipAddresses.create(body),
    );
    result.ip_id = ip?.id ?? null;
    await setPrimary(run, target, ip, request.address!);
    return result;
  }

  result.address = String(ip.address);
  result.ip_id = ip.id;
  const patch = fieldChanges(ip, request, tagIds);
  if (
    request.address !== undefined &&
    parseCidr(String(ip.address)).prefixLength !== parseCidr(request.address).prefixLength
  ) {
    patch.address = request.address;
  }
  const assignedHere = ifaceId !== undefined && ip.assigned_object_type === objectType &&
    ip.assigned_object_id === ifaceId;
  if (!assignedHere) {
    if (ip.assigned_object_id != null) {
      if (!request.move) {
        throw new LookupError(
          `Cannot assign ${ip.address} to ${onIface}: it is assigned to ${assignedWhere(ip)}; add ${
            run.name("move")
          } to move it`,
          [ip],
        );
      }
      await clearBlockingDesignation(run, ip, target);
    }
    patch.assigned_object_type = objectType;
    patch.assigned_object_id = ifaceId;
  }
  if (Object.keys(patch).length) {
    const moving = !assignedHere && ip.assigned_object_id != null;
    const action = !assignedHere ? (moving ? "moved" : "assigned") : "updated-ip";
    if (!assignedHere && Object.keys(patch).some((k) => !k.startsWith("assigned_object"))) {
      run.actions.push("updated-ip");
    }
    const verb = action === "updated-ip" ? "update" : action === "moved" ? "move" : "assign";
    const fields = Object.keys(patch).filter((k) => k !== "assigned_object_type").join(", ");
    const id = ip.id;
    const updated = await run.write(
      {
        action,
        text: `${verb} IP ${ip.address}${assignedHere ? "" : ` to ${onIface}`} (${fields})`,
        needs: ipThenPrimary("change", target),
      },
      () => client.ipam.ipAddresses.update(id, patch),
    );
    if (updated) result.address = String(updated.address);
  }
  await setPrimary(run, target, ip, String(ip.address));
  return result;
}

/** One item of {@linkcode assignIps}: its result, or the NetBox error that failed it. */
export type AssignOutcome =
  | { ok: true; result: AssignIpResult }
  | { ok: false; error: NetBoxError };

/** Options of {@linkcode assignIps}. */
export interface AssignIpsOptions extends Omit<AssignIpOptions, "onStep"> {
  /** Assignments in flight. @default the client's concurrency */
  concurrency?: number;
  /** Called for every step, with the index of its request. */
  onStep?: (step: AssignStep, index: number) => void;
  /**
   * Stops gracefully: no new assignment starts after it fires, those in flight finish; the
   * requests not started fail with `NotSentError` (a re-run completes them).
   */
  stop?: AbortSignal;
}

/**
 * Makes many assignments, a few at a time ({@linkcode assignIp} for each). An assignment NetBox
 * refuses, or whose objects it cannot find, fails alone and the others still run; a token NetBox
 * rejects or that may not write, and any error that is not a `NetBoxError`, stops them all (the
 * promise rejects).
 *
 * @param client The client.
 * @param requests The assignments.
 * @param options Concurrency, step reporting, the pre-write check, how messages name fields.
 * @returns One outcome per request, in request order.
 *
 * @example An invalid request fails alone, before anything is sent for it
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { assignIps } from "./assign.ts";
 * const fetch = () => Promise.reject(new Error("nothing may be sent"));
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const [outcome] = await assignIps(client, [{ target: { device: "foxtrot" } }]);
 * assert(!outcome.ok && /exactly one of address or fromPrefix/.test(outcome.error.message));
 * ```
 */
export async function assignIps(
  client: NetBoxClient,
  requests: readonly AssignIpRequest[],
  options: AssignIpsOptions = {},
): Promise<AssignOutcome[]> {
  const outcomes: AssignOutcome[] = new Array(requests.length);
  const { concurrency = client.concurrency, onStep, stop: stopSignal, ...rest } = options;
  let stop: { error: unknown } | undefined;
  // After a stop, the assignments in flight finish (no write goes unreported); no new one starts.
  await mapLimit(requests, Math.max(1, concurrency), async (request, index) => {
    if (stop) return;
    if (stopSignal?.aborted) {
      outcomes[index] = {
        ok: false,
        error: new NotSentError("Cannot assign: stopped before it was started"),
      };
      return;
    }
    try {
      const result = await assignIp(client, request, {
        ...rest,
        onStep: onStep && ((step) => onStep(step, index)),
      });
      outcomes[index] = { ok: true, result };
    } catch (err) {
      // NetBox's answers fail the item; a refused token fails every item alike: stop.
      if (!(err instanceof NetBoxError) || err instanceof NetBoxAuthError) {
        stop ??= { error: err };
      } else outcomes[index] = { ok: false, error: err };
    }
  });
  if (stop) throw stop.error;
  return outcomes;
}

// ---------------------------------------------------------------------------------------------
// one assignment

/** One assignment's state; every write goes through `write`, which only plans under dryRun. */
class Assignment {
  readonly actions: AssignAction[] = [];
  readonly steps: AssignStep[] = [];
  readonly name: (field: AssignField) => string;
  constructor(
    readonly client: NetBoxClient,
    readonly request: AssignIpRequest,
    readonly options: AssignIpOptions,
    /** An earlier attempt whose writes were made (kept in the result). */
    earlier?: Assignment,
  ) {
    this.name = namer(options.fieldNames);
    if (earlier) {
      this.actions.push(...earlier.actions);
      this.steps.push(...earlier.steps);
    }
  }

  /** The write sent and not answered yet: the one whose answer may be lost. */
  inFlight: AssignStep | undefined;

  async write<T>(step: AssignStep, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.request.dryRun) {
      this.actions.push(step.action);
      this.steps.push(step);
      this.options.onStep?.(step);
      return undefined;
    }
    const check = this.options.assertCanWrite ?? ((w) => assertTokenMayWrite(this.client, w));
    await check(step.needs);
    this.inFlight = step;
    const value = await fn();
    this.inFlight = undefined;
    // Recorded once made: a write whose answer was lost is found (or made) by the next attempt.
    this.actions.push(step.action);
    this.steps.push(step);
    this.options.onStep?.(step);
    return value;
  }
}

/** The default pre-write check: a read-only token, or a write NetBox says it may not make. */
async function assertTokenMayWrite(
  client: NetBoxClient,
  writes: readonly ModelWrite[],
): Promise<void> {
  if ((await client.canWrite()) === false) {
    throw new NetBoxAuthError(
      "Cannot write to NetBox: the token is read-only (write disabled)",
      { status: 403, method: "-", path: "-", body: null, messages: {} },
      "permission",
      client.tokenVersion,
    );
  }
  await assertMayWrite(client, writes);
}

/** The list path of a device or VM (what setting a primary IP changes). */
function hostPath(kind: Kind): string {
  return kind === "device" ? "dcim/devices/" : "virtualization/virtual-machines/";
}

function hostEndpoint(client: NetBoxClient, kind: Kind): Endpoint {
  return kind === "device" ? client.dcim.devices : client.virtualization.virtualMachines;
}

/** One device or VM by id (a 404 throws). */
function getHost(client: NetBoxClient, kind: Kind, id: number): Promise<Host> {
  return kind === "device"
    ? client.dcim.devices.get(id)
    : client.virtualization.virtualMachines.get(id);
}

/** An IP write that ends in setting the target's primary/OOB IP: both permissions up front. */
function ipThenPrimary(action: "add" | "change", target: Target): ModelWrite[] {
  return [{ path: IPS, action }, { path: hostPath(target.kind), action: "change" }];
}

async function resolveTarget(run: Assignment): Promise<Target> {
  const { client } = run;
  const t = run.request.target as LooseTarget;
  if (typeof t.device === "number" || typeof t.virtualMachine === "number") {
    const kind: Kind = t.device !== undefined ? "device" : "vm";
    const obj = await getHost(client, kind, Number(t.device ?? t.virtualMachine));
    return { kind, obj, label: String(obj.name ?? `#${obj.id}`) };
  }
  if (t.device !== undefined) {
    const filters: Record<string, string | number> = { name: t.device };
    if (t.site !== undefined) {
      filters.site_id = (await findOne(client.dcim.sites, t.site, ["slug", "name"], "site")).id;
    }
    const hits = await client.dcim.devices.all(filters);
    return {
      kind: "device",
      obj: one(hits, `device "${t.device}"`, run.name("site"), siteOf),
      label: t.device,
    };
  }
  const vmName = String(t.virtualMachine);
  const filters: Record<string, string | number> = { name: vmName };
  if (t.cluster !== undefined) {
    filters.cluster_id =
      (await findOne(client.virtualization.clusters, t.cluster, ["name"], "cluster")).id;
  }
  const hits = await client.virtualization.virtualMachines.all(filters);
  return {
    kind: "vm",
    obj: one(hits, `virtual machine "${vmName}"`, run.name("cluster"), clusterOf),
    label: vmName,
  };
}

function siteOf(o: Device): string {
  return `${describeObject(o)} at site ${o.site?.name ?? "-"}`;
}

function clusterOf(o: VirtualMachine): string {
  return `${describeObject(o)} in cluster ${o.cluster?.name ?? "-"}`;
}

function one<T extends NetBoxObject>(
  hits: T[],
  what: string,
  hint: string,
  describe: (o: T) => string,
): T {
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) throw new LookupError(`Cannot find ${what}`, []);
  throw new LookupError(
    `Cannot choose ${what}: ${hits.length} match: ${
      hits.map(describe).join("; ")
    }; narrow it with ${hint} or use the id`,
    hits,
  );
}

async function resolveInterface(
  run: Assignment,
  target: Target,
): Promise<Interface | VMInterface | undefined> {
  // Either table: reads either model; the filters and the body below are built for either.
  const endpoint: Endpoint<Interface | VMInterface> = target.kind === "device"
    ? run.client.dcim.interfaces
    : run.client.virtualization.interfaces;
  const all = await endpoint.all(
    target.kind === "device" ? { device_id: target.obj.id } : { virtual_machine_id: target.obj.id },
  );
  const { interface: name, createInterface, interfaceType } = run.request;
  if (name === undefined) {
    if (all.length === 1) return all[0];
    throw new LookupError(
      all.length === 0
        ? `Cannot choose an interface of ${target.label}: it has none; give ${
          run.name("interface")
        } and ${run.name("createInterface")}`
        : `Cannot choose an interface of ${target.label}: it has ${all.length} (${
          all.map((i) => i.name).join(", ")
        }); give ${run.name("interface")}`,
      all,
    );
  }
  const found = all.find((i) => i.name === name);
  if (found) return found;
  if (!createInterface) {
    throw new LookupError(
      `Cannot find interface ${name} on ${target.label} (it has: ${
        all.map((i) => i.name).join(", ") || "none"
      }); add ${run.name("createInterface")} to create it`,
      all,
    );
  }
  const body: Record<string, unknown> = target.kind === "device"
    ? { device: target.obj.id, name, type: interfaceType ?? "virtual" }
    : { virtual_machine: target.obj.id, name };
  return await run.write(
    {
      action: "created-interface",
      text: `create interface ${name} on ${target.label}`,
      needs: [
        { path: endpoint.path, action: "add" },
        ...ipThenPrimary("add", target),
      ],
    },
    () => endpoint.create(body),
  );
}

function ipVrfId(ip: IPAddress): number | null {
  return ip.vrf?.id ?? null;
}

function vrfName(obj: IPAddress | Prefix): string {
  return obj.vrf?.name ?? "global";
}

/** Whether an `assigned_object` is an object (NetBox sends the nested interface, or `null`). */
function isAssignedInterface(value: unknown): value is AssignedInterface {
  return typeof value === "object" && value !== null;
}

/** The interface the IP is assigned to, when NetBox nests one. */
function assignedInterface(ip: IPAddress): AssignedInterface | undefined {
  return isAssignedInterface(ip.assigned_object) ? ip.assigned_object : undefined;
}

/** Where an IP is assigned, as words. */
function assignedWhere(ip: IPAddress): string {
  if (!ip.assigned_object) return "nothing";
  const obj = assignedInterface(ip) ?? {};
  if (obj.device) return `device ${obj.device.name} interface ${obj.name}`;
  if (obj.virtual_machine) {
    return `virtual machine ${obj.virtual_machine.name} interface ${obj.name}`;
  }
  return `${ip.assigned_object_type} ${obj.name ?? ip.assigned_object_id}`;
}

/** The existing IP for `address`, honouring the VRF; undefined when it does not exist. */
async function findAddress(
  run: Assignment,
  address: string,
  vrf: VRF | undefined,
): Promise<IPAddress | undefined> {
  const host = formatIp(hostOf(address));
  let hits = await run.client.ipam.ipAddresses.all({ address: host });
  if (vrf) hits = hits.filter((ip) => ipVrfId(ip) === vrf.id);
  if (hits.length <= 1) return hits[0];
  const vrfs = new Set(hits.map(ipVrfId));
  const list = hits.map((ip) => `${ip.address} in VRF ${vrfName(ip)} (id ${ip.id})`).join(", ");
  throw new LookupError(
    vrfs.size > 1
      ? `Cannot choose address ${host}: it exists in ${vrfs.size} VRFs: ${list}; give ${
        run.name("vrf")
      }`
      : `Cannot choose address ${host}: ${hits.length} copies in VRF ${vrfName(hits[0])}: ${list}`,
    hits,
  );
}

async function resolvePrefix(
  run: Assignment,
  ref: string,
  vrf: VRF | undefined,
): Promise<Prefix> {
  const prefixes = run.client.ipam.prefixes;
  if (/^\d+$/.test(ref)) return await prefixes.get(Number(ref));
  const cidr = formatCidr(parseCidr(ref), { network: true });
  const hits = await prefixes.all({ prefix: cidr, ...(vrf ? { vrf_id: vrf.id } : {}) });
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) {
    throw new LookupError(`Cannot find prefix ${cidr}${vrf ? ` in VRF ${vrf.name}` : ""}`, []);
  }
  throw new LookupError(
    `Cannot choose prefix ${cidr}: ${hits.length} match (${
      hits.map((p) => `VRF ${vrfName(p)}, id ${p.id}`).join("; ")
    }); give ${run.name("vrf")} or the prefix id`,
    hits,
  );
}

/** The fields of the IP the request wants changed (only those that differ). */
function fieldChanges(
  ip: IPAddress | undefined,
  request: AssignIpRequest,
  tagIds: number[],
): Partial<WritableIPAddress> {
  const patch: Partial<WritableIPAddress> = {};
  const status = ip?.status?.value;
  const dnsName = request.dnsName?.toLowerCase();
  if (dnsName !== undefined && dnsName !== (ip?.dns_name ?? "")) patch.dns_name = dnsName;
  // A status other than IP_STATUSES never gets here (assignIpProblem refuses it).
  if (isIpStatus(request.status) && request.status !== status) patch.status = request.status;
  if (request.description !== undefined && request.description !== (ip?.description ?? "")) {
    patch.description = request.description;
  }
  const have = (ip?.tags ?? []).map((t) => t.id);
  if (tagIds.some((id) => !have.includes(id))) {
    patch.tags = [...new Set([...have, ...tagIds])];
  }
  return patch;
}

/** Clears primary_ip4/6 / oob_ip on the IP's current parent when moving it elsewhere. */
async function clearBlockingDesignation(
  run: Assignment,
  ip: IPAddress,
  target: Target,
): Promise<void> {
  const obj = assignedInterface(ip);
  const parentKind: Kind | undefined = obj?.device
    ? "device"
    : obj?.virtual_machine
    ? "vm"
    : undefined;
  const parentId = obj?.device?.id ?? obj?.virtual_machine?.id;
  if (!parentKind || parentId === undefined) return;
  if (parentKind === target.kind && parentId === target.obj.id) return; // same parent: allowed
  const endpoint = hostEndpoint(run.client, parentKind);
  const parent = await getHost(run.client, parentKind, parentId);
  const designations: HostIps = parent;
  const fields = HOST_IP_FIELDS.filter((f) => designations[f]?.id === ip.id);
  if (!fields.length) return;
  const patch = Object.fromEntries(fields.map((f) => [f, null]));
  await run.write(
    {
      action: "cleared-primary",
      text: `clear ${fields.join(", ")} of ${parentKind} ${parent.name} (it blocks the move)`,
      needs: [{ path: hostPath(parentKind), action: "change" }, ...ipThenPrimary("change", target)],
    },
    () => endpoint.update(parentId, patch, ifUnchanged(parent)),
  );
}

/** `update()` options that write only if the object is as it was read (when it can tell). */
function ifUnchanged(object: object): { ifMatch?: object } {
  return etagOf(object) ? { ifMatch: object } : {};
}

async function setPrimary(
  run: Assignment,
  target: Target,
  ip: IPAddress | undefined,
  address: string,
): Promise<void> {
  const oob = !!run.request.oob;
  const field: HostIpField = oob
    ? "oob_ip"
    : hostOf(address).family === 4
    ? "primary_ip4"
    : "primary_ip6";
  const ips: HostIps = target.obj;
  const current = ips[field]?.id;
  if (ip && current === ip.id) {
    if (run.actions.length === 0) run.actions.push("unchanged");
    return;
  }
  await run.write(
    {
      action: oob ? "set-oob" : "set-primary",
      text: `set ${field} of ${target.label} to ${address}`,
      needs: [{ path: hostPath(target.kind), action: "change" }],
    },
    () =>
      hostEndpoint(run.client, target.kind).update(
        target.obj.id,
        { [field]: ip!.id },
        ifUnchanged(target.obj),
      ),
  );
}
