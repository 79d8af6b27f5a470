/**
 * Site plans: a template of keyed allocations — a /24 per role, p2p /31s, a VLAN named after a
 * prefix, an ASN, the gateway of a /24 — applied all or none. {@linkcode parseAllocationPlan}
 * reads and checks a plan (YAML or JSON); {@linkcode applyAllocationPlan} allocates its steps
 * in dependency order, each idempotent by its key (`<plan key>.<step name>`), and when a step
 * fails deletes again what this run made (only objects that still carry this run's marker)
 * before it throws.
 *
 * Text values may hold `{var}` (a value given with `set`, e.g. `{site}`) and references to
 * earlier steps: `{step}` (its first object's prefix, VLAN id, AS number or address) and
 * `{step.id}`. `{n}` / `{n:02}` stay as they are: they number a VLAN name template.
 *
 * @module
 */

import { yamlParse } from "../deps.ts";
import { InputError, NetBoxError, NotSentError } from "../client/errors.ts";
import type { ErrorKind } from "../client/errors.ts";
import type { NetBoxClient, NetBoxObject } from "../client/types.ts";
import {
  allocateAsns,
  type AllocateOptions,
  allocatePrefixes,
  allocateVlans,
  allocationMarker,
  type AllocationPolicy,
} from "./allocate.ts";
import { allocateIps } from "./allocate_ips.ts";

/** The kinds a plan step allocates. */
const STEP_KINDS = ["prefix", "vlan", "asn", "ip"] as const;

/**
 * One step of a plan: what to allocate, from which pool, with which fields.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { PlanStep } from "./allocation_plan.ts";
 * const step: PlanStep = { name: "gw", kind: "ip", parent_id: "{servers.id}", dns_name: "gw.{site}.example.com" };
 * assert(step.kind === "ip");
 * ```
 */
export interface PlanStep {
  /** The step's name: its key is `<plan key>.<name>`, later steps refer to it as `{name}`. */
  name: string;
  /** `prefix`, `vlan`, `asn` or `ip`. */
  kind: "prefix" | "vlan" | "asn" | "ip";
  /** prefix, ip: the parent prefix's CIDR. */
  parent?: string;
  /** prefix, ip: the parent prefix's id. */
  parent_id?: string | number;
  /** vlan: the VLAN group. */
  group?: string | number;
  /** asn: the ASN range; ip: an IP range `start-end`. */
  range?: string | number;
  /** The pools matching these list filters. */
  filter?: Record<string, string | number | (string | number)[]>;
  /** prefix, ip: VRF of `parent`/`filter`. */
  vrf?: string;
  /** prefix: the length. */
  length?: number;
  /** How many. @default {1} */
  count?: number;
  /** Pool order when several match. */
  policy?: AllocationPolicy;
  /** Skip pools that would go above this percentage. */
  headroom?: number;
  /** Skip pools forecast full in fewer than this many days (see `AllocateOptions.minDaysLeft`). */
  min_days_left?: number;
  /** vlan: the VLAN name (a `{n}` template for several). */
  vlan_name?: string;
  /** ip: DNS name. */
  dns_name?: string;
  /** Status. */
  status?: string;
  /** Role. */
  role?: string;
  /** Tenant. */
  tenant?: string;
  /** Site (a prefix's scope, a VLAN's site). */
  site?: string;
  /** Description. */
  description?: string;
  /** Tags. */
  tags?: string[];
}

/**
 * A plan: its key and its steps.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { AllocationPlan } from "./allocation_plan.ts";
 * const plan: AllocationPlan = { key: "{site}", steps: [{ name: "asn", kind: "asn", range: "private" }] };
 * assert(plan.steps.length === 1);
 * ```
 */
export interface AllocationPlan {
  /** The plan's key (may hold `{var}`); each step's key is `<key>.<step name>`. */
  key: string;
  /** The steps, in any order (they run in dependency order). */
  steps: PlanStep[];
}

/**
 * Options of {@linkcode applyAllocationPlan}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { ApplyAllocationPlanOptions } from "./allocation_plan.ts";
 * const options: ApplyAllocationPlanOptions = { set: { site: "dc3" }, dryRun: true };
 * assert(options.set?.site === "dc3");
 * ```
 */
export interface ApplyAllocationPlanOptions {
  /** Values of the plan's `{var}` placeholders. */
  set?: Record<string, string>;
  /** Show what each step would allocate now; write nothing. @default {false} */
  dryRun?: boolean;
  /** Called once before the first write. */
  beforeWrite?: () => Promise<void> | void;
  /** Once it fires, no further step is sent (and what this run made is removed again). */
  stop?: AbortSignal;
  /** Warnings. */
  onWarning?: (message: string) => void;
}

/**
 * What one step of a plan did.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { PlanStepResult } from "./allocation_plan.ts";
 * const r = { name: "asn", kind: "asn", key: "dc3.asn", existing: [], allocated: [], planned: ["64512"], values: ["64512"] } as PlanStepResult;
 * assert(r.values[0] === "64512");
 * ```
 */
export interface PlanStepResult {
  /** The step's name. */
  name: string;
  /** Its kind. */
  kind: string;
  /** Its key. */
  key: string;
  /** Objects the key already held. */
  existing: NetBoxObject[];
  /** Objects this run allocated. */
  allocated: NetBoxObject[];
  /** With `dryRun`: what NetBox would hand out now (empty when it depends on a step to come). */
  planned: string[];
  /** The values of its objects (prefix, VLAN id, AS number, address), held first. */
  values: string[];
  /** The pool the new objects came from. */
  pool?: string;
  /** With `dryRun`: why no values could be shown (it needs a step that is not made yet). */
  deferred?: string;
}

/**
 * A plan whose step failed; what this run had made was removed again (`rolledBack`), unless
 * `leftBehind` says otherwise. Its exit code is the failed step's.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { AllocationPlanError } from "./allocation_plan.ts";
 * import { InputError } from "../client/errors.ts";
 * const err = new AllocationPlanError("links", new InputError("Cannot use length: bad"), ["prefix 10.0.0.0/24 id 3"], []);
 * assert(err.exitCode === 2 && err.message.includes("rolled back 1"));
 * ```
 */
export class AllocationPlanError extends NetBoxError {
  /** The step that failed. */
  readonly step: string;
  /** What was deleted again (`prefix 10.0.0.0/24 id 3`). */
  readonly rolledBack: string[];
  /** What could not be deleted again. */
  readonly leftBehind: string[];
  /** The failed step's error. */
  readonly failure: Error;
  /**
   * Creates the error.
   *
   * @param step The step that failed.
   * @param failure Its error.
   * @param rolledBack What was deleted again.
   * @param leftBehind What could not be.
   */
  constructor(step: string, failure: Error, rolledBack: string[], leftBehind: string[]) {
    super(
      `Cannot apply the plan: step "${step}" failed: ${failure.message}; rolled back ${rolledBack.length} object${
        rolledBack.length === 1 ? "" : "s"
      } this run made${rolledBack.length ? ` (${rolledBack.join(", ")})` : ""}${
        leftBehind.length ? `; left behind: ${leftBehind.join(", ")}` : ""
      }`,
      { cause: failure },
    );
    this.step = step;
    this.failure = failure;
    this.rolledBack = rolledBack;
    this.leftBehind = leftBehind;
  }

  /** The failed step's kind (so its exit code). */
  override get kind(): ErrorKind {
    return this.failure instanceof NetBoxError ? this.failure.kind : "failing";
  }
}

const STEP_FIELDS = new Set([
  "name",
  "kind",
  "parent",
  "parent_id",
  "group",
  "range",
  "filter",
  "vrf",
  "length",
  "count",
  "policy",
  "headroom",
  "min_days_left",
  "vlan_name",
  "dns_name",
  "status",
  "role",
  "tenant",
  "site",
  "description",
  "tags",
]);

/**
 * Reads a plan from YAML or JSON text and checks its shape: a `key`, a list of `allocations`
 * with unique names, known kinds and known fields, references to steps that exist, no cycle.
 *
 * @param text The plan.
 * @param file Its name, for messages.
 * @returns The plan.
 * @throws {InputError} Naming the file, the step and what was expected.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseAllocationPlan } from "./allocation_plan.ts";
 * const plan = parseAllocationPlan(`
 * key: "{site}"
 * allocations:
 *   - {name: servers, kind: prefix, parent: 10.0.0.0/16, length: 24}
 *   - {name: gw, kind: ip, parent_id: "{servers.id}"}
 * `);
 * assert(plan.steps.map((s) => s.name).join() === "servers,gw");
 * ```
 */
export function parseAllocationPlan(text: string, file = "plan"): AllocationPlan {
  let doc: unknown;
  try {
    doc = yamlParse(text);
  } catch (err) {
    throw new InputError(`Cannot read ${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const bad = (what: string) => new InputError(`Cannot use ${file}: ${what}`);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw bad("expected a mapping with key and allocations");
  }
  const { key, allocations, ...rest } = doc as Record<string, unknown>;
  if (Object.keys(rest).length) throw bad(`unknown field "${Object.keys(rest)[0]}"`);
  if (typeof key !== "string" || !key) throw bad("expected a key (text, may hold {var})");
  if (!Array.isArray(allocations) || !allocations.length) {
    throw bad("expected a non-empty list of allocations");
  }
  const names = new Set<string>();
  const steps = allocations.map((a, i) => {
    const at = `allocation ${i + 1}`;
    if (typeof a !== "object" || a === null || Array.isArray(a)) {
      throw bad(`${at}: expected a mapping`);
    }
    const step = a as Record<string, unknown>;
    if (typeof step.name !== "string" || !/^[A-Za-z0-9_-]+$/.test(step.name)) {
      throw bad(`${at}: expected a name of letters, digits, _ and -`);
    }
    if (names.has(step.name)) throw bad(`${at}: the name "${step.name}" is used twice`);
    names.add(step.name);
    if (!STEP_KINDS.includes(step.kind as PlanStep["kind"])) {
      throw bad(`allocation "${step.name}": expected kind ${STEP_KINDS.join(", ")}`);
    }
    const unknown = Object.keys(step).find((k) => !STEP_FIELDS.has(k));
    if (unknown) throw bad(`allocation "${step.name}": unknown field "${unknown}"`);
    return step as unknown as PlanStep;
  });
  const plan = { key, steps };
  order(plan, file); // references exist, no cycle
  return plan;
}

/** `{x}` / `{x.id}` placeholders of a text, `{n}` templates aside. */
function placeholders(text: string): { name: string; field?: string }[] {
  return [...text.matchAll(/\{([A-Za-z0-9_-]+)(?:\.([a-z_]+))?\}/g)]
    .filter((m) => m[1] !== "n")
    .map((m) => ({ name: m[1], field: m[2] }));
}

/** Every text value of a step, nested ones included. */
function texts(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(texts);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(texts);
  return [];
}

/** The steps in dependency order; unknown references and cycles are input errors. */
function order(plan: AllocationPlan, file: string): PlanStep[] {
  const byName = new Map(plan.steps.map((s) => [s.name, s]));
  const deps = new Map(plan.steps.map((s) => {
    const { name: _, ...fields } = s;
    const refs = texts(fields).flatMap(placeholders).filter((p) => byName.has(p.name));
    return [s.name, [...new Set(refs.map((r) => r.name))]];
  }));
  const out: PlanStep[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new InputError(
        `Cannot use ${file}: the allocations refer to each other in a cycle: ${cycle.join(" → ")}`,
      );
    }
    state.set(name, "visiting");
    for (const d of deps.get(name)!) visit(d, [...path, name]);
    state.set(name, "done");
    out.push(byName.get(name)!);
  };
  for (const s of plan.steps) visit(s.name, []);
  return out;
}

const VALUE: Record<PlanStep["kind"], (o: NetBoxObject) => string> = {
  prefix: (o) => String(o.prefix),
  vlan: (o) => String(o.vid),
  asn: (o) => String(o.asn),
  ip: (o) => String(o.address),
};

const OBJECT_PATH: Record<PlanStep["kind"], string> = {
  prefix: "ipam/prefixes/",
  vlan: "ipam/vlans/",
  asn: "ipam/asns/",
  ip: "ipam/ip-addresses/",
};

/**
 * Applies a plan: each step in dependency order, idempotent by its key; a failing step deletes
 * again what this run made (objects still carrying this run's key), then throws.
 *
 * @param client The client.
 * @param plan The plan ({@linkcode parseAllocationPlan}).
 * @param options `set` values, `dryRun` …
 * @returns Each step's result, in the order they ran.
 * @throws {InputError} A placeholder without a value or a step that is malformed (nothing written).
 * @throws {AllocationPlanError} A step failed; what this run made was removed again.
 *
 * @example A plan with an unknown placeholder is refused before anything is sent
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { InputError } from "../client/errors.ts";
 * import { applyAllocationPlan, parseAllocationPlan } from "./allocation_plan.ts";
 * let sent = 0;
 * const fetch = () => (sent++, Promise.resolve(Response.json({})));
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const plan = parseAllocationPlan("key: '{site}'\nallocations: [{name: a, kind: asn, range: '{rng}'}]");
 * try {
 *   await applyAllocationPlan(client, plan, { set: { site: "dc3" } });
 *   assert(false);
 * } catch (err) {
 *   assert(err instanceof InputError && err.message.includes("{rng}"));
 * }
 * assert(sent === 0);
 * client.close();
 * ```
 */
export async function applyAllocationPlan(
  client: NetBoxClient,
  plan: AllocationPlan,
  options: ApplyAllocationPlanOptions = {},
): Promise<PlanStepResult[]> {
  const steps = order(plan, "the plan");
  const vars = options.set ?? {};
  const names = new Set(plan.steps.map((s) => s.name));
  // Every placeholder that is not a step must have a value before anything is sent.
  for (const text of [plan.key, ...plan.steps.flatMap((s) => texts({ ...s, name: "" }))]) {
    for (const p of placeholders(text)) {
      if (!names.has(p.name) && vars[p.name] === undefined) {
        throw new InputError(
          `Cannot apply the plan: no value for {${p.name}} (give it with --set ${p.name}=…)`,
        );
      }
    }
  }
  const planKey = fill(plan.key, vars, new Map());
  const done: PlanStepResult[] = [];
  const byName = new Map<string, PlanStepResult>();
  let wrote = false;
  for (const step of steps) {
    const key = `${planKey}.${step.name}`;
    try {
      if (options.stop?.aborted) {
        throw new NotSentError(`Cannot allocate step "${step.name}": stopped before it was sent`);
      }
      const waiting = dependsOnUnmade(step, byName);
      if (options.dryRun && waiting) {
        const r: PlanStepResult = {
          name: step.name,
          kind: step.kind,
          key,
          existing: [],
          allocated: [],
          planned: [],
          values: [],
          deferred: `after ${waiting} is made`,
        };
        done.push(r);
        byName.set(step.name, r);
        continue;
      }
      const filled = fillStep(step, vars, byName);
      const r = await runStep(client, filled, key, {
        dryRun: options.dryRun,
        stop: options.stop,
        onWarning: options.onWarning,
        beforeWrite: async () => {
          if (!wrote) await options.beforeWrite?.();
          wrote = true;
        },
      });
      done.push(r);
      byName.set(step.name, r);
    } catch (err) {
      if (err instanceof InputError && !done.some((d) => d.allocated.length)) throw err;
      const { rolledBack, leftBehind } = await rollBack(client, done, planKey);
      throw new AllocationPlanError(step.name, err as Error, rolledBack, leftBehind);
    }
  }
  return done;
}

/** The first step this one refers to that has no object yet (dry runs cannot look into it). */
function dependsOnUnmade(step: PlanStep, made: Map<string, PlanStepResult>): string | undefined {
  const { name: _, ...fields } = step;
  for (const p of texts(fields).flatMap(placeholders)) {
    const r = made.get(p.name);
    if (r && (r.deferred || !(r.existing.length + r.allocated.length))) return p.name;
  }
  return undefined;
}

function fill(
  text: string,
  vars: Record<string, string>,
  made: Map<string, PlanStepResult>,
): string {
  return text.replace(
    /\{([A-Za-z0-9_-]+)(?:\.([a-z_]+))?\}/g,
    (whole, name: string, field?: string) => {
      if (name === "n") return whole;
      const r = made.get(name);
      if (r) {
        const o = [...r.existing, ...r.allocated][0];
        if (!o) return r.planned[0] ?? whole;
        if (field === undefined || field === "value") return VALUE[r.kind as PlanStep["kind"]](o);
        if (field === "id") return String(o.id);
        throw new InputError(`Cannot use {${name}.${field}}: expected {${name}} or {${name}.id}`);
      }
      const v = vars[name];
      if (v === undefined) throw new InputError(`Cannot apply the plan: no value for {${name}}`);
      return v;
    },
  );
}

function fillStep(
  step: PlanStep,
  vars: Record<string, string>,
  made: Map<string, PlanStepResult>,
): PlanStep {
  const walk = (v: unknown): unknown =>
    typeof v === "string"
      ? fill(v, vars, made)
      : Array.isArray(v)
      ? v.map(walk)
      : typeof v === "object" && v !== null
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
      : v;
  return { ...(walk({ ...step }) as PlanStep), name: step.name };
}

async function runStep(
  client: NetBoxClient,
  step: PlanStep,
  key: string,
  common: AllocateOptions,
): Promise<PlanStepResult> {
  const labels = {
    length: `"${step.name}" length`,
    count: `"${step.name}" count`,
    minDaysLeft: `"${step.name}" min_days_left`,
  };
  const options: AllocateOptions = {
    ...common,
    key,
    count: step.count,
    policy: step.policy,
    headroom: step.headroom,
    minDaysLeft: step.min_days_left,
    status: step.status,
    role: step.role,
    tenant: step.tenant,
    site: step.site,
    description: step.description,
    tags: step.tags,
    labels,
  };
  const filters = step.filter as AllocateOptions["fields"] | undefined;
  const vrf = step.vrf === undefined ? {} : { vrf: step.vrf };
  const parentId = step.parent_id === undefined ? undefined : Number(step.parent_id);
  if (parentId !== undefined && !Number.isInteger(parentId)) {
    throw new InputError(
      `Cannot use "${step.name}" parent_id: expected an id, got ${step.parent_id}`,
    );
  }
  const base = { name: step.name, kind: step.kind, key };
  if (step.kind === "ip") {
    const r = await allocateIps(
      client,
      parentId !== undefined
        ? { prefixId: parentId }
        : step.parent !== undefined
        ? { prefix: step.parent, ...vrf }
        : step.range !== undefined
        ? { range: String(step.range), ...vrf }
        : { filters: (filters ?? {}) as Record<string, string>, ...vrf },
      {
        count: step.count,
        key,
        status: step.status,
        role: step.role,
        tenant: step.tenant,
        description: step.description,
        tags: step.tags,
        dnsName: step.dns_name,
        dryRun: common.dryRun,
        stop: common.stop,
        onWarning: common.onWarning,
        beforeWrite: common.beforeWrite,
      },
    );
    const objects = [...r.existing, ...r.reserved];
    return {
      ...base,
      existing: r.existing,
      allocated: r.reserved,
      planned: r.planned.map((p) => p.address),
      values: [...objects.map((o) => String(o.address)), ...r.planned.map((p) => p.address)],
      pool: r.pool.pool.label,
    };
  }
  const r = step.kind === "prefix"
    ? await allocatePrefixes(
      client,
      parentId !== undefined
        ? { parentId }
        : step.parent !== undefined
        ? { parent: step.parent, ...vrf }
        : { filters: (filters ?? {}) as Record<string, string>, ...vrf },
      { ...options, length: step.length as number },
    )
    : step.kind === "vlan"
    ? await allocateVlans(
      client,
      step.group !== undefined
        ? { pool: step.group }
        : { filters: (filters ?? {}) as Record<string, string> },
      { ...options, name: step.vlan_name ?? "" },
    )
    : await allocateAsns(
      client,
      step.range !== undefined
        ? { pool: step.range }
        : { filters: (filters ?? {}) as Record<string, string> },
      options,
    );
  const value = VALUE[step.kind];
  return {
    ...base,
    existing: r.existing,
    allocated: r.allocated,
    planned: r.planned,
    values: [...r.existing.map(value), ...r.allocated.map(value), ...r.planned],
    ...(r.pool ? { pool: r.pool.label } : {}),
  };
}

/**
 * Deletes again what this run allocated, last step first — each object only when it still
 * carries its step's key (read back now), so nothing someone else changed is removed.
 */
async function rollBack(
  client: NetBoxClient,
  done: PlanStepResult[],
  planKey: string,
): Promise<{ rolledBack: string[]; leftBehind: string[] }> {
  const rolledBack: string[] = [];
  const leftBehind: string[] = [];
  for (const step of [...done].reverse()) {
    const endpoint = client.endpoint(OBJECT_PATH[step.kind as PlanStep["kind"]]);
    const mark = allocationMarker(`${planKey}.${step.name}`, "");
    for (const o of [...step.allocated].reverse()) {
      const what = `${step.kind} ${VALUE[step.kind as PlanStep["kind"]](o)} id ${o.id}`;
      try {
        const now = await endpoint.get(o.id);
        if (typeof now.comments !== "string" || !now.comments.startsWith(mark)) {
          leftBehind.push(`${what} (its comments changed)`);
          continue;
        }
        await endpoint.delete(o.id);
        rolledBack.push(what);
      } catch (err) {
        leftBehind.push(`${what} (${(err as Error).message})`);
      }
    }
  }
  return { rolledBack, leftBehind };
}
