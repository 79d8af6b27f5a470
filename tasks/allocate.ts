/**
 * allocate — the next free prefixes, VLANs, ASNs or IP addresses out of NetBox's pools, by key
 * (idempotent) and by policy (which of several matching pools), each through the pool's locked
 * `available-*` endpoint.
 *
 * ```sh
 * deno task allocate prefix --parent 10.0.0.0/16 --length 30 --count 4 --key dc3-links
 * deno task allocate vlan --group dc3-servers --name 'srv-{n:02}' --count 2
 * deno task allocate asn --range private-dc --key dc3
 * deno task allocate ip --parent 10.20.0.0/24 --key dc3-gw --dns-name gw.dc3.example.com
 * ```
 *
 * @module
 */

import { collect, parseFilterPairs, runTask, type TaskContext } from "../lib/cli/task.ts";
import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import {
  allocateAsns,
  type AllocateOptions,
  allocatePrefixes,
  allocateVlans,
  type NamedPoolRef,
  type PrefixPoolRef,
} from "../lib/ipam/allocate.ts";
import { allocateIps } from "../lib/ipam/allocate_ips.ts";
import { applyAllocationPlan, parseAllocationPlan } from "../lib/ipam/allocation_plan.ts";
import type { PoolRef } from "../lib/ipam/find_free.ts";
import { reportAllocation, reportIpAllocation, reportPlan } from "../lib/cli/allocate_report.ts";

const KINDS = ["prefix", "vlan", "asn", "ip"] as const;
type Kind = typeof KINDS[number];

/** Options of allocate as parsed. */
interface Opts {
  args: string[];
  parent?: string;
  parentId?: string;
  group?: string;
  range?: string;
  filter: string[];
  vrf?: string;
  length?: string;
  count: string;
  key?: string;
  policy?: string;
  headroom?: string;
  minDaysLeft?: string;
  name?: string;
  numberFrom?: string;
  dnsName?: string;
  status?: string;
  role?: string;
  tenant?: string;
  site?: string;
  description?: string;
  tag: string[];
  plan?: string;
  set: string[];
}

const SPEC = {
  name: "allocate",
  description: "Allocate the next free prefixes, VLANs, ASNs or IP addresses out of NetBox's " +
    "pools, by key (idempotent) and by policy",
  writes: true,
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .argument("[kind]", `what to allocate: ${KINDS.join(", ")}`)
      .option("--parent <cidr>", "prefix, ip: the parent prefix (with --vrf; default global)")
      .option("--parent-id <id>", "prefix, ip: the parent prefix by id")
      .option("--group <group>", "vlan: the VLAN group by name, slug or id")
      .option(
        "--range <range>",
        "asn: the ASN range by name, slug or id; ip: an IP range start-end",
      )
      .option(
        "--filter <key=value>",
        "the pools matching NetBox list filters (repeatable): prefixes for prefix/ip, VLAN " +
          "groups for vlan, ASN ranges for asn; tried in --policy order",
        collect,
        [],
      )
      .option("--vrf <vrf>", "prefix, ip: VRF name, RD or id of --parent/--filter")
      .option("--length <n>", "prefix: the new prefixes' length, e.g. 30")
      .option("--count <n>", "how many (with --key: how many the key holds in the end)", "1")
      .option(
        "--key <key>",
        "idempotency key: the objects carry it (in comments); a re-run returns them instead of " +
          "allocating again",
      )
      .option("--policy <policy>", "first (default), least-used or most-used")
      .option("--headroom <pct>", "skip pools that would go above PCT percent used")
      .option(
        "--min-days-left <days>",
        "skip pools forecast full in fewer than DAYS days (the rate of creates inside the pool " +
          "in the last 90 days of NetBox's change log)",
      )
      .option("--name <name>", "vlan: the name; for --count > 1 a template such as srv-{n:02}")
      .option("--number-from <n>", "vlan, ip: the number the first {n} of a template gets")
      .option("--dns-name <name>", "ip: DNS name (a {n} template for several)")
      .option("--status <status>", "status of the new objects (prefix, vlan, ip)")
      .option("--role <role>", "role: prefix, vlan (slug, name or id); ip (NetBox's IP roles)")
      .option("--tenant <tenant>", "tenant slug, name or id")
      .option("--site <site>", "prefix: scope site; vlan: site (slug, name or id)")
      .option("--description <text>", "description of the new objects")
      .option("--tag <tag>", "tag name or slug (repeatable; must exist)", collect, [])
      .option(
        "--plan <file>",
        "a site plan (YAML/JSON): keyed allocations with references, applied all or none",
      )
      .option("--set <key=value>", "--plan: a value for the plan's {key} (repeatable)", collect, [])
      .addHelpText(
        "after",
        `
Kinds and their pools:
  prefix  --parent CIDR | --parent-id ID | --filter k=v   with --length N
  vlan    --group NAME|ID | --filter k=v                  with --name NAME|TEMPLATE
  asn     --range NAME|ID | --filter k=v
  ip      --parent CIDR | --parent-id ID | --range START-END | --filter k=v  (find-free-ip's
          reservation)
  --plan FILE --set k=v   a site plan: steps of the kinds above, each keyed
          <plan key>.<step name>, referring to earlier steps as {step} / {step.id}; a failing
          step deletes again what the run made (objects still carrying its key), exit non-zero

Each allocation is one request to the pool's available-* endpoint, which NetBox runs under its
lock: concurrent runs never get the same object, and a request is all or none. With --key, the
objects carry "netbox-toolkit allocation key=KEY run=…" in their comments; a re-run with the same
key returns them (action existing) and writes nothing, or tops up to --count. When several pools
match, a full one (or one NetBox answers 409) is skipped for the next; the report names the pool
used and why the others were skipped. No pool with room: exit 3. A lost answer is read back
until the objects show up (confirmed) or the settle window passes (unknown, exit 1); never sent
twice.`,
      ),
  examples: [
    "allocate prefix --parent 10.0.0.0/16 --length 30 --count 4 --key dc3-links",
    "allocate prefix --filter role=p2p --filter site=dc3 --length 31 --policy most-used",
    "allocate vlan --group dc3-servers --name 'srv-{n:02}' --count 2 --status active",
    "allocate asn --range private-dc --key dc3 --tenant ops",
    "allocate ip --parent 10.20.0.0/24 --key dc3-gw --dns-name gw.dc3.example.com",
    "allocate --plan site.yaml --set site=dc3 --dry-run",
  ],
};

const LABELS: Record<string, string> = {
  parent: "--parent",
  parentId: "--parent-id",
  prefix: "--parent",
  prefixId: "--parent-id",
  range: "--range",
  rangeId: "--range",
  pool: "--group/--range",
  filters: "--filter",
  vrf: "--vrf",
  length: "--length",
  count: "--count",
  key: "--key",
  policy: "--policy",
  headroom: "--headroom",
  minDaysLeft: "--min-days-left",
  name: "--name",
  numberFrom: "--number-from",
  dnsName: "--dns-name",
  status: "--status",
  role: "--role",
  tenant: "--tenant",
  site: "--site",
  tags: "--tag",
};

/** Flags that belong to some kinds only. */
const ONLY: Record<string, Kind[]> = {
  parent: ["prefix", "ip"],
  parentId: ["prefix", "ip"],
  vrf: ["prefix", "ip"],
  group: ["vlan"],
  range: ["asn", "ip"],
  length: ["prefix"],
  name: ["vlan"],
  numberFrom: ["vlan", "ip"],
  dnsName: ["ip"],
  site: ["prefix", "vlan"],
  policy: ["prefix", "vlan", "asn"],
  headroom: ["prefix", "vlan", "asn"],
  minDaysLeft: ["prefix", "vlan", "asn"],
};

const FLAG = (option: string) => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function integer(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || n < min) {
    throw new UsageError(`Cannot parse ${flag}: expected an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/** The kind and the flags' combinations, checked before anything is sent. */
function validate(opts: Opts): { kind: Kind; common: AllocateOptions } {
  const [kind, ...extra] = opts.args;
  if (!KINDS.includes(kind as Kind)) {
    throw new UsageError(
      kind === undefined
        ? `Cannot allocate: name a kind: ${KINDS.join(", ")}`
        : `Cannot allocate "${kind}": expected one of ${KINDS.join(", ")}`,
    );
  }
  if (extra.length) throw new UsageError(`Cannot parse arguments: unexpected "${extra[0]}"`);
  for (const [option, kinds] of Object.entries(ONLY)) {
    if (
      (opts as unknown as Record<string, unknown>)[option] !== undefined &&
      !kinds.includes(kind as Kind)
    ) {
      throw new UsageError(
        `Cannot use ${FLAG(option)} with ${kind}: only with ${kinds.join(", ")}`,
      );
    }
  }
  for (const f of opts.filter) {
    if (!/^[A-Za-z0-9_]+=/.test(f)) {
      throw new UsageError(`Cannot use --filter "${f}": expected key=value`);
    }
  }
  const headroom = opts.headroom === undefined ? undefined : Number(opts.headroom);
  if (headroom !== undefined && !(headroom > 0 && headroom <= 100)) {
    throw new UsageError(
      `Cannot parse --headroom: expected a percentage in (0, 100], got "${opts.headroom}"`,
    );
  }
  const minDaysLeft = opts.minDaysLeft === undefined ? undefined : Number(opts.minDaysLeft);
  if (minDaysLeft !== undefined && !(minDaysLeft > 0 && Number.isFinite(minDaysLeft))) {
    throw new UsageError(
      `Cannot parse --min-days-left: expected a number of days > 0, got "${opts.minDaysLeft}"`,
    );
  }
  const common: AllocateOptions = {
    count: integer(opts.count, "--count", 1),
    key: opts.key,
    policy: opts.policy as AllocateOptions["policy"],
    headroom,
    minDaysLeft,
    status: opts.status,
    role: opts.role,
    tenant: opts.tenant,
    site: opts.site,
    description: opts.description,
    tags: opts.tag.length ? opts.tag : undefined,
    labels: { ...LABELS, pool: kind === "vlan" ? "--group" : "--range" },
  };
  return { kind: kind as Kind, common };
}

/** Exactly one way of naming the pool(s). */
function oneSelector(flags: [string, unknown][]): string {
  const given = flags.filter(([, v]) => v !== undefined && !(Array.isArray(v) && !v.length));
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? `Cannot choose a pool: give one of ${flags.map(([f]) => f).join(", ")}`
        : `Cannot choose a pool: ${given.map(([f]) => f).join(" and ")} exclude each other`,
    );
  }
  return given[0][0];
}

function prefixRef(opts: Opts): PrefixPoolRef {
  const how = oneSelector([["--parent", opts.parent], ["--parent-id", opts.parentId], [
    "--filter",
    opts.filter,
  ]]);
  const vrf = opts.vrf === undefined ? {} : { vrf: opts.vrf };
  if (how === "--parent-id") {
    if (opts.vrf !== undefined) {
      throw new UsageError("Cannot use --vrf with --parent-id: the id names the VRF");
    }
    return { parentId: integer(opts.parentId, "--parent-id", 1)! };
  }
  return how === "--parent"
    ? { parent: opts.parent!, ...vrf }
    : { filters: parseFilterPairs(opts.filter), ...vrf };
}

function namedRef(opts: Opts, flag: "--group" | "--range"): NamedPoolRef {
  const value = flag === "--group" ? opts.group : opts.range;
  const how = oneSelector([[flag, value], ["--filter", opts.filter]]);
  return how === "--filter" ? { filters: parseFilterPairs(opts.filter) } : { pool: value! };
}

function ipRef(opts: Opts): PoolRef {
  const how = oneSelector([["--parent", opts.parent], ["--parent-id", opts.parentId], [
    "--range",
    opts.range,
  ], ["--filter", opts.filter]]);
  const vrf = opts.vrf === undefined ? {} : { vrf: opts.vrf };
  if (how === "--parent-id") return { prefixId: integer(opts.parentId, "--parent-id", 1)! };
  if (how === "--parent") return { prefix: opts.parent!, ...vrf };
  if (how === "--range") return { range: opts.range!, ...vrf };
  return { filters: parseFilterPairs(opts.filter), ...vrf };
}

async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

const OBJECT_PATHS: Record<Kind, string> = {
  prefix: "ipam/prefixes/",
  vlan: "ipam/vlans/",
  asn: "ipam/asns/",
  ip: "ipam/ip-addresses/",
};

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  if (opts.plan !== undefined) return await runPlan(ctx, opts);
  if (opts.set.length) throw new UsageError("Cannot use --set without --plan");
  const { kind, common } = validate(opts);
  if (kind === "prefix" && opts.length === undefined) {
    throw new UsageError("Cannot allocate prefixes without --length");
  }
  const client = ctx.client();
  const options: AllocateOptions = {
    ...common,
    dryRun: ctx.dryRun,
    stop: ctx.stop,
    onWarning: (m) => ctx.warn(m),
    beforeWrite: () => ctx.assertCanWrite([{ path: OBJECT_PATHS[kind], action: "add" }]),
  };
  if (kind === "ip") {
    const r = await allocateIps(client, ipRef(opts), {
      count: common.count,
      key: opts.key,
      status: opts.status,
      role: opts.role,
      tenant: opts.tenant,
      description: opts.description,
      tags: opts.tag,
      dnsName: opts.dnsName,
      numberFrom: integer(opts.numberFrom, "--number-from", 0),
      dryRun: options.dryRun,
      stop: options.stop,
      onWarning: options.onWarning,
      beforeWrite: options.beforeWrite,
      labels: LABELS,
    });
    return await reportIpAllocation(ctx, r, opts.key);
  }
  const result = kind === "prefix"
    ? await allocatePrefixes(client, prefixRef(opts), {
      ...options,
      length: integer(opts.length, "--length", 1)!,
    })
    : kind === "vlan"
    ? await allocateVlans(client, namedRef(opts, "--group"), {
      ...options,
      name: opts.name ?? "",
      numberFrom: integer(opts.numberFrom, "--number-from", 0),
    })
    : await allocateAsns(client, namedRef(opts, "--range"), options);
  return await reportAllocation(ctx, kind, result);
}

/** Applies a site plan; only --plan, --set and the common flags go with it. */
async function runPlan(ctx: TaskContext, opts: Opts): Promise<number> {
  const given = Object.keys(ONLY_PLAN_EXCLUDED).filter((k) =>
    (opts as unknown as Record<string, unknown>)[k] !== undefined
  );
  if (opts.filter.length) given.push("filter");
  if (opts.tag.length) given.push("tag");
  if (opts.count !== "1") given.push("count");
  if (opts.args.length) {
    throw new UsageError(`Cannot use --plan with a kind ("${opts.args[0]}"): the plan holds them`);
  }
  if (given.length) {
    throw new UsageError(
      `Cannot use --plan with ${given.map(FLAG).join(", ")}: the plan holds the allocations`,
    );
  }
  const set: Record<string, string> = {};
  for (const pair of opts.set) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`Cannot parse --set "${pair}": expected key=value`);
    set[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const plan = parseAllocationPlan(await ctx.readInput(opts.plan!), opts.plan);
  const steps = await applyAllocationPlan(ctx.client(), plan, {
    set,
    dryRun: ctx.dryRun,
    stop: ctx.stop,
    onWarning: (m) => ctx.warn(m),
    beforeWrite: () =>
      ctx.assertCanWrite([...new Set(plan.steps.map((s) => OBJECT_PATHS[s.kind]))].map((path) => ({
        path,
        action: "add" as const,
      }))),
  });
  await reportPlan(ctx, opts.plan!, steps);
  return EXIT.OK;
}

/** The allocation flags a plan run refuses (the plan holds them). */
const ONLY_PLAN_EXCLUDED = Object.fromEntries(
  [...Object.keys(ONLY), "key", "status", "role", "tenant", "description"].map((k) => [k, true]),
);

export { main };

if (import.meta.main) Deno.exit(await main(Deno.args));
