/**
 * find-free-ip — free addresses in a prefix or IP range, any number of them, and optionally
 * reserved in one locked request.
 *
 * ```sh
 * deno task find-free-ip --prefix 192.168.3.0/24 --count 5
 * deno task find-free-ip --prefix 10.20.0.0/24 --reserve --count 3 \
 *   --dns-name 'k8s-{n:02}-worker.spaceships.work' --tag production-dns
 * ```
 *
 * @module
 */

import { collect, runTask, type TaskContext } from "../lib/cli/task.ts";
import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { AllocationError, NetBoxError, NetBoxHttpError } from "../lib/client/errors.ts";
import { expandNameTemplate, isNameTemplate, validateDnsName } from "../lib/ipam/dns_name.ts";
import { IP_ROLES, IP_STATUSES } from "../lib/ipam/choices.ts";
import {
  freeSpans,
  type IpPool,
  iterateFree,
  occupies,
  populatedSpans,
  type PrefixLike,
  prefixPool,
  type RangeLike,
  rangePool,
  skipLeading,
  spanSize,
} from "../lib/ipam/free_ips.ts";
import {
  coveringNetwork,
  formatCidr,
  formatIp,
  hostOf,
  type IpSpan,
  parseCidr,
  parseSpan,
} from "../lib/ipam/ip.ts";
import {
  describeObject,
  LookupError,
  resolveTags,
  resolveTenant,
  resolveVrf,
} from "../lib/ipam/lookup.ts";
import type { Filters, NetBoxClient, NetBoxObject } from "../lib/client/types.ts";

const COLUMNS = ["address", "vrf", "dns_name", "status", "id", "url", "action"];
/**
 * The columns of a result: listing free addresses shows only what they have (no DNS name,
 * status, id or URL yet; the VRF when there is one).
 */
function columnsFor(rows: Row[]): string[] {
  if (!rows.every((r) => r.action === "free")) return COLUMNS;
  return rows.some((r) => r.vrf) ? ["address", "vrf", "action"] : ["address", "action"];
}

/** Options of find-free-ip as parsed. */
interface Opts {
  prefix?: string;
  prefixId?: string;
  range?: string;
  rangeId?: string;
  filter: string[];
  allMatching?: boolean;
  vrf?: string;
  count: string;
  skip: string;
  reserve?: boolean;
  new?: boolean;
  dnsName?: string;
  dnsPattern?: string;
  numberFrom: string;
  status?: string;
  role?: string;
  tag: string[];
  createTags?: boolean;
  description?: string;
  tenant?: string;
}

const SPEC = {
  name: "find-free-ip",
  description: "List free IP addresses in a prefix or IP range (any number), or reserve them " +
    "in one locked request",
  writes: true,
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .option("--prefix <cidr>", "the prefix, e.g. 192.168.3.0/24 (with --vrf; default global)")
      .option("--vrf <vrf>", "VRF name, RD or id of --prefix/--range/--filter (default: global)")
      .option("--prefix-id <id>", "the prefix by id")
      .option("--range <start-end>", "an IP range, e.g. 10.0.0.10-10.0.0.50")
      .option("--range-id <id>", "the IP range by id")
      .option(
        "--filter <key=value>",
        "prefix filter (repeatable, e.g. site=matrix role=servers): the first matching prefix " +
          "with enough room is used",
        collect,
        [],
      )
      .option("--all-matching", "with --filter: list free addresses in every matching prefix")
      .option("--count <n>", "how many addresses", "1")
      .option(
        "--skip <n>",
        "leave the first N usable addresses of the pool out (e.g. gateways)",
        "0",
      )
      .option(
        "--reserve",
        "create the addresses (status, DNS name, tags …) through the pool's available-ips " +
          "POST: all N in one locked request, or none",
      )
      .option(
        "--dns-name <name>",
        "DNS name; for --count > 1 a template such as k8s-{n:02}-worker.example.com. An " +
          "address in the pool already carrying the name is returned (action existing)",
      )
      .option("--number-from <n>", "first number a {n} template gets", "1")
      .option("--dns-pattern <regex>", "house rule DNS names must also match")
      .option("--new", "reserve new addresses even when the DNS name exists in the pool")
      .option("--status <status>", `status of reserved addresses: ${IP_STATUSES.join(", ")}`)
      .option("--role <role>", `role of reserved addresses: ${IP_ROLES.join(", ")}`)
      .option("--tag <tag>", "tag name or slug (repeatable; must exist)", collect, [])
      .option("--create-tags", "create tags given with --tag that do not exist")
      .option("--description <text>", "description of reserved addresses")
      .option("--tenant <tenant>", "tenant slug, name or id of reserved addresses")
      .addHelpText(
        "after",
        `
Free addresses are computed the way NetBox's available-ips does (child IPs of the pool's VRF,
mark_populated ranges, IPv4 network/broadcast unless pool or /31-/32, IPv6 first address unless
pool or /127-/128), beyond the server's per-call cap, and never by enumerating an IPv6 prefix.

Reserving: without --skip (or when the skipped addresses are all taken), the addresses are
created through the pool's available-ips POST, which NetBox runs under its allocation lock: safe
against concurrent runs, all or none. With --skip and a free address among the skipped ones,
that POST cannot be told to skip, so the addresses are created explicitly in one bulk request
(still all or none); a concurrent allocation of the same address is refused by NetBox's
duplicate check and the run retries with the next free addresses (up to 3 times). Duplicate
detection needs ENFORCE_GLOBAL_UNIQUE (global table) or the VRF's enforce_unique.`,
      ),
  examples: [
    "find-free-ip --prefix 192.168.3.0/24 --count 5",
    "find-free-ip --prefix 10.0.0.0/16 --vrf blue --count 2000 --format csv",
    "find-free-ip --filter site=matrix --filter role=servers --count 2",
    "find-free-ip --prefix 192.168.3.0/24 --reserve --count 3 \\\n" +
    "    --dns-name 'k8s-{n:02}-worker.spaceships.work' --tag production-dns",
  ],
};

/** A validated request. */
interface Plan {
  count: number;
  skip: number;
  names: string[] | undefined;
  status: string;
  role?: string;
}

function parseCount(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`Cannot parse ${flag}: expected an integer >= ${min}, got "${value}"`);
  }
  return n;
}

function selectors(opts: Opts): string[] {
  const given: string[] = [];
  if (opts.prefix !== undefined) given.push("--prefix");
  if (opts.prefixId !== undefined) given.push("--prefix-id");
  if (opts.range !== undefined) given.push("--range");
  if (opts.rangeId !== undefined) given.push("--range-id");
  if (opts.filter.length) given.push("--filter");
  return given;
}

/** Checks every flag before anything is sent; throws UsageError (exit 2). */
function validate(opts: Opts): Plan {
  const given = selectors(opts);
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? "Cannot choose a pool: give one of --prefix, --prefix-id, --range, --range-id, --filter"
        : `Cannot choose a pool: ${given.join(" and ")} exclude each other`,
    );
  }
  if (opts.vrf !== undefined && (opts.prefixId !== undefined || opts.rangeId !== undefined)) {
    throw new UsageError("Cannot use --vrf with --prefix-id/--range-id: the id names the VRF");
  }
  if (opts.allMatching && !opts.filter.length) {
    throw new UsageError("Cannot use --all-matching without --filter");
  }
  if (opts.allMatching && opts.reserve) {
    throw new UsageError("Cannot use --all-matching with --reserve: reserve from one pool");
  }
  if (opts.prefix !== undefined) {
    try {
      parseCidr(opts.prefix);
    } catch (err) {
      throw new UsageError(`Cannot use --prefix: ${(err as Error).message}`);
    }
  }
  if (opts.range !== undefined) {
    try {
      parseSpan(opts.range);
    } catch (err) {
      throw new UsageError(`Cannot use --range: ${(err as Error).message}`);
    }
  }
  for (const f of opts.filter) {
    if (!/^[A-Za-z0-9_]+=/.test(f)) {
      throw new UsageError(`Cannot use --filter "${f}": expected key=value`);
    }
  }
  const count = parseCount(opts.count, "--count", 1);
  const skip = parseCount(opts.skip, "--skip", 0);
  const numberFrom = parseCount(opts.numberFrom, "--number-from", 0);
  const writeOnly: [string, unknown][] = [
    ["--status", opts.status],
    ["--role", opts.role],
    ["--description", opts.description],
    ["--tenant", opts.tenant],
    ["--create-tags", opts.createTags],
    ["--new", opts.new],
  ];
  if (opts.tag.length) writeOnly.push(["--tag", true]);
  if (!opts.reserve) {
    const bad = writeOnly.filter(([, v]) => v !== undefined).map(([k]) => k);
    if (bad.length) throw new UsageError(`Cannot use ${bad.join(", ")} without --reserve`);
  }
  if (opts.status !== undefined && !IP_STATUSES.includes(opts.status)) {
    throw new UsageError(
      `Cannot use --status "${opts.status}": expected one of ${IP_STATUSES.join(", ")}`,
    );
  }
  if (opts.role !== undefined && !IP_ROLES.includes(opts.role)) {
    throw new UsageError(
      `Cannot use --role "${opts.role}": expected one of ${IP_ROLES.join(", ")}`,
    );
  }
  let pattern: RegExp | undefined;
  if (opts.dnsPattern !== undefined) {
    try {
      pattern = new RegExp(opts.dnsPattern);
    } catch (err) {
      throw new UsageError(`Cannot use --dns-pattern: ${(err as Error).message}`);
    }
  }
  let names: string[] | undefined;
  if (opts.dnsName !== undefined) {
    if (count > 1 && !isNameTemplate(opts.dnsName)) {
      throw new UsageError(
        `Cannot name ${count} addresses "${opts.dnsName}": use a template such as ` +
          `"host-{n:02}.example.com" for --count > 1`,
      );
    }
    names = Array.from(
      { length: count },
      (_, i) => expandNameTemplate(opts.dnsName!, numberFrom + i),
    );
    for (const name of names) {
      const reason = validateDnsName(name, pattern);
      if (reason) throw new UsageError(`Cannot use --dns-name: ${reason}`);
    }
    names = names.map((n) => n.toLowerCase()); // NetBox lower-cases dns_name on save
  } else if (opts.dnsPattern !== undefined) {
    throw new UsageError("Cannot use --dns-pattern without --dns-name");
  }
  return { count, skip, names, status: opts.status ?? "active", role: opts.role };
}

function parseFilters(pairs: string[]): Filters {
  const filters: Record<string, string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    (filters[pair.slice(0, eq)] ??= []).push(pair.slice(eq + 1));
  }
  return Object.fromEntries(
    Object.entries(filters).map(([k, v]) => [k, v.length === 1 ? v[0] : v]),
  );
}

/** A pool with what the output needs. */
interface PoolInfo {
  pool: IpPool;
  vrfName: string | null;
}

function vrfOf(o: NetBoxObject): { id: number; name?: string } | null {
  return (o.vrf as { id: number; name?: string } | null | undefined) ?? null;
}

function info(pool: IpPool, o: NetBoxObject): PoolInfo {
  return { pool, vrfName: vrfOf(o)?.name ?? null };
}

/** Resolves the pools the flags name (several only for --filter). */
async function resolvePools(client: NetBoxClient, opts: Opts): Promise<PoolInfo[]> {
  const vrf = opts.vrf === undefined ? undefined : await resolveVrf(client, opts.vrf);
  const vrfFilter = vrf ? vrf.id : null;
  if (opts.prefixId !== undefined) {
    const p = await client.ipam.prefixes.get(parseCount(opts.prefixId, "--prefix-id", 1));
    return [info(prefixPool(p as unknown as PrefixLike), p)];
  }
  if (opts.rangeId !== undefined) {
    const r = await client.ipam.ipRanges.get(parseCount(opts.rangeId, "--range-id", 1));
    return [info(rangePool(r as unknown as RangeLike), r)];
  }
  const where = vrf ? `VRF ${vrf.name}` : "the global table";
  if (opts.prefix !== undefined) {
    const cidr = formatCidr(parseCidr(opts.prefix), { network: true });
    const hits = await client.ipam.prefixes.all({ prefix: cidr, vrf_id: vrfFilter });
    if (hits.length === 0) {
      throw new LookupError(`Cannot find prefix ${cidr} in ${where}`, []);
    }
    if (hits.length > 1) {
      throw new LookupError(
        `Cannot choose prefix ${cidr} in ${where}: ${hits.length} prefixes match: ${
          hits.map(describeObject).join(", ")
        }; use --prefix-id`,
        hits,
      );
    }
    return [info(prefixPool(hits[0] as unknown as PrefixLike), hits[0])];
  }
  if (opts.range !== undefined) {
    const span = parseSpan(opts.range);
    const start = formatIp({ family: span.family, value: span.start });
    const hits = (await client.ipam.ipRanges.all({ start_address: start, vrf_id: vrfFilter }))
      .filter((r) => hostOf(String(r.end_address)).value === span.end);
    if (hits.length !== 1) {
      throw new LookupError(
        hits.length === 0
          ? `Cannot find IP range ${opts.range} in ${where}`
          : `Cannot choose IP range ${opts.range} in ${where}: ${hits.length} match; use --range-id`,
        hits,
      );
    }
    return [info(rangePool(hits[0] as unknown as RangeLike), hits[0])];
  }
  const filters = parseFilters(opts.filter);
  if (vrf) filters.vrf_id = vrf.id;
  const hits = await client.ipam.prefixes.all(filters);
  if (hits.length === 0) {
    throw new LookupError(`Cannot find a prefix matching ${opts.filter.join(" ")}`, []);
  }
  return hits.map((p) => info(prefixPool(p as unknown as PrefixLike), p));
}

/** Free addresses of a pool: the server's own list first, our computation beyond its cap. */
interface FreeResult {
  addresses: string[];
  /** Total free after --skip (bigint), when computed locally. */
  total?: bigint;
}

function addressText(pool: IpPool, value: bigint): string {
  return `${formatIp({ family: pool.family, value })}/${pool.maskLength}`;
}

function poolCidr(pool: IpPool): string {
  return pool.kind === "prefix"
    ? pool.label
    : formatCidr(coveringNetwork(pool.bounds), { network: true });
}

/** The free spans of a pool, computed from its child IPs and populated ranges. */
async function computeSpans(client: NetBoxClient, pool: IpPool, skip: number): Promise<IpSpan[]> {
  const parent = poolCidr(pool);
  const vrfFilter: Filters = pool.anyVrf ? {} : { vrf_id: pool.vrfId };
  const occupied: bigint[] = [];
  for await (
    const ip of client.ipam.ipAddresses.list(
      { parent, ...vrfFilter },
      { fields: ["id", "address", "vrf"] },
    )
  ) {
    const o = ip as unknown as { address: string; vrf: { id: number } | null };
    if (occupies(pool, o)) occupied.push(hostOf(o.address).value);
  }
  const ranges = pool.kind === "prefix"
    ? await client.ipam.ipRanges.all({ parent, vrf_id: pool.vrfId })
    : [];
  const populated = populatedSpans(pool, ranges as unknown as RangeLike[]);
  return freeSpans(skipLeading(pool.usable, skip), occupied, populated);
}

async function serverList(client: NetBoxClient, pool: IpPool, limit: number) {
  const helper = pool.kind === "prefix"
    ? client.ipam.prefixes.availableIps(pool.id)
    : client.ipam.ipRanges.availableIps(pool.id);
  return await helper.list({ limit });
}

/**
 * Lists `count` free addresses of a pool after leaving out its first `skip` usable addresses.
 * The server's list is used as far as it goes (it is the authority, and fast for huge IPv6
 * prefixes); beyond its cap the rest is computed from the pool's child IPs.
 */
async function findFree(
  ctx: TaskContext,
  pool: IpPool,
  count: number,
  skip: number,
): Promise<FreeResult> {
  const client = ctx.client();
  if (count === 0) return { addresses: [] };
  const skipBelow = pool.usable.start + BigInt(skip);
  const asked = count + skip;
  const listed = await serverList(client, pool, asked);
  const mine = listed.filter((a) => hostOf(a.address).value >= skipBelow);
  if (mine.length >= count) return { addresses: mine.slice(0, count).map((a) => a.address) };
  // Fewer than asked: the pool is full, or the server capped its answer (MAX_PAGE_SIZE).
  const spans = await computeSpans(client, pool, skip);
  const total = spanSize(spans);
  const computed = iterateFree(spans).take(count).map((ip) => addressText(pool, ip.value))
    .toArray();
  const head = mine.map((a) => a.address);
  const agree = head.every((a, i) => computed[i] === a);
  if (!agree) {
    ctx.warn(
      `the free addresses computed for ${pool.label} differ from NetBox's own list (object ` +
        `permissions hiding some IP addresses?); using NetBox's list where it reaches`,
    );
    const last = head.length ? hostOf(head[head.length - 1]).value : undefined;
    const rest = iterateFree(spans, { after: last }).take(count - head.length)
      .map((ip) => addressText(pool, ip.value)).toArray();
    return { addresses: [...head, ...rest], total };
  }
  return { addresses: computed, total };
}

/** One output row. */
interface Row {
  [key: string]: unknown;
  address: string;
  vrf: string | null;
  dns_name: string | null;
  status: string | null;
  id: number | null;
  url: string | null;
  action: string;
  pool: string;
}

function rowFromIp(ip: NetBoxObject, pool: PoolInfo, action: string): Row {
  const status = ip.status as { value?: string } | string | undefined;
  return {
    address: String(ip.address),
    vrf: vrfOf(ip)?.name ?? pool.vrfName,
    dns_name: (ip.dns_name as string | undefined) || null,
    status: typeof status === "string" ? status : status?.value ?? null,
    id: ip.id,
    url: ip.url,
    action,
    pool: pool.pool.label,
  };
}

function freeRow(address: string, pool: PoolInfo, action = "free"): Row {
  return {
    address,
    vrf: pool.vrfName,
    dns_name: null,
    status: null,
    id: null,
    url: null,
    action,
    pool: pool.pool.label,
  };
}

/** Existing addresses of the pool carrying the requested names, by name. */
async function existingByName(
  client: NetBoxClient,
  pool: IpPool,
  names: string[],
): Promise<Map<string, NetBoxObject>> {
  const found = new Map<string, NetBoxObject>();
  const hits = await client.ipam.ipAddresses.all({ dns_name: names });
  hits.sort((a, b) => a.id - b.id);
  for (const ip of hits) {
    const name = String(ip.dns_name ?? "").toLowerCase();
    const o = ip as unknown as { address: string; vrf: { id: number } | null };
    if (names.includes(name) && !found.has(name) && occupies(pool, o)) found.set(name, ip);
  }
  return found;
}

async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  const plan = validate(opts);
  const client = ctx.client();
  const pools = await resolvePools(client, opts);
  if (plan.status === "slaac" && pools.some((p) => p.pool.family !== 6)) {
    throw new UsageError("Cannot use --status slaac for IPv4 addresses");
  }
  if (opts.allMatching) return await listAll(ctx, pools, plan);
  const names = plan.names;
  let chosen: PoolInfo | undefined;
  let existing = new Map<string, NetBoxObject>();
  let free: FreeResult = { addresses: [] };
  for (const candidate of pools) {
    const found = names && !opts.new
      ? await existingByName(client, candidate.pool, names)
      : new Map<string, NetBoxObject>();
    const need = plan.count - found.size;
    const result = await findFree(ctx, candidate.pool, need, plan.skip);
    const fits = result.addresses.length >= need;
    if (!chosen || fits || found.size > 0) {
      chosen = candidate;
      existing = found;
      free = result;
    }
    if (fits || found.size > 0 || pools.length === 1) break;
  }
  if (!chosen) throw new NetBoxError("Cannot choose a pool: none found");
  const rows: Row[] = [];
  const missingNames = names ? names.filter((n) => !existing.has(n)) : undefined;
  for (const [, ip] of existing) rows.push(rowFromIp(ip, chosen, "existing"));
  const need = plan.count - existing.size;
  const summary: Record<string, unknown> = {
    pool: chosen.pool.label,
    pool_kind: chosen.pool.kind,
    pool_id: chosen.pool.id,
    vrf: chosen.vrfName,
    requested: plan.count,
    existing: existing.size,
  };
  if (pools.length > 1 && free.addresses.length < need) {
    ctx.warn(`no prefix matching ${opts.filter.join(" ")} has ${need} free addresses`);
  }
  if (!opts.reserve || need === 0) {
    for (const a of free.addresses) rows.push(freeRow(a, chosen));
    summary.free_listed = free.addresses.length;
    if (free.total !== undefined) summary.free_total = free.total.toString();
    await ctx.emit({ summary, items: rows }, {
      columns: columnsFor(rows),
    });
    if (free.addresses.length < need) {
      ctx.warn(
        `only ${free.addresses.length} free addresses in ${chosen.pool.label} (asked ${need})`,
      );
      return EXIT.ATTENTION;
    }
    return EXIT.OK;
  }
  return await reserve(ctx, opts, plan, chosen, free, missingNames, rows, summary);
}

async function listAll(ctx: TaskContext, pools: PoolInfo[], plan: Plan): Promise<number> {
  const rows: Row[] = [];
  let short = 0;
  for (const p of pools) {
    const free = await findFree(ctx, p.pool, plan.count, plan.skip);
    if (free.addresses.length < plan.count) short++;
    for (const a of free.addresses) rows.push(freeRow(a, p));
  }
  await ctx.emit(
    {
      summary: { pools: pools.length, requested_per_pool: plan.count, free_listed: rows.length },
      items: rows,
    },
    { columns: ["pool", ...columnsFor(rows)] },
  );
  return short === pools.length ? EXIT.ATTENTION : EXIT.OK;
}

async function reserve(
  ctx: TaskContext,
  opts: Opts,
  plan: Plan,
  chosen: PoolInfo,
  free: FreeResult,
  names: string[] | undefined,
  rows: Row[],
  summary: Record<string, unknown>,
): Promise<number> {
  const client = ctx.client();
  const pool = chosen.pool;
  const need = plan.count - (rows.length);
  const fail = (freeCount: string) => {
    ctx.io.stderr(
      `error: Cannot reserve ${need} addresses in ${pool.label}: ${freeCount} free\n`,
    );
    return EXIT.ATTENTION;
  };
  if (free.addresses.length < need) {
    const total = free.total ?? spanSize(await computeSpans(client, pool, plan.skip));
    return fail(total.toString());
  }
  await ctx.assertCanWrite([{ path: "ipam/ip-addresses/", action: "add" }]);
  const { tags, missing } = await resolveTags(client, opts.tag, {
    create: opts.createTags,
    dryRun: ctx.dryRun,
  });
  if (missing.length && !opts.createTags) {
    throw new UsageError(
      `Cannot use --tag ${
        missing.join(", ")
      }: no such tag in NetBox (add --create-tags to create it)`,
    );
  }
  const tenant = opts.tenant ? await resolveTenant(client, opts.tenant) : undefined;
  const bodies = Array.from({ length: need }, (_, i) => {
    const body: Record<string, unknown> = { status: plan.status };
    if (names) body.dns_name = names[i];
    if (plan.role) body.role = plan.role;
    if (opts.description !== undefined) body.description = opts.description;
    if (tenant) body.tenant = tenant.id;
    if (tags.length) body.tags = tags.map((t) => t.id);
    return body;
  });
  if (ctx.dryRun) {
    free.addresses.forEach((a, i) => {
      const row = freeRow(a, chosen, "would-reserve");
      row.dns_name = names?.[i] ?? null;
      row.status = plan.status;
      rows.push(row);
    });
    ctx.info(
      `dry run: would reserve ${need} addresses in ${pool.label} through its available-ips ` +
        `(the server picks the addresses; these are the ones free now)` +
        (missing.length ? `; would create tags ${missing.join(", ")}` : ""),
    );
    await ctx.emit({ summary: { ...summary, dry_run: true, reserved: 0 }, items: rows }, {
      columns: COLUMNS,
    });
    return EXIT.OK;
  }
  let created: NetBoxObject[];
  try {
    created = await allocate(ctx, pool, plan.skip, bodies);
  } catch (err) {
    if (err instanceof AllocationError || (err instanceof NetBoxHttpError && err.status === 409)) {
      const total = spanSize(await computeSpans(client, pool, plan.skip));
      return fail(total.toString());
    }
    throw err;
  }
  for (const ip of created) rows.push(rowFromIp(ip, chosen, "reserved"));
  await ctx.emit({ summary: { ...summary, reserved: created.length }, items: rows }, {
    columns: COLUMNS,
  });
  return EXIT.OK;
}

/**
 * Creates the addresses: through the locked available-ips POST when nothing free is skipped,
 * else explicitly in one bulk request, retried when a concurrent run took an address.
 */
async function allocate(
  ctx: TaskContext,
  pool: IpPool,
  skip: number,
  bodies: Record<string, unknown>[],
): Promise<NetBoxObject[]> {
  const client = ctx.client();
  const skipBelow = pool.usable.start + BigInt(skip);
  const helper = pool.kind === "prefix"
    ? client.ipam.prefixes.availableIps(pool.id)
    : client.ipam.ipRanges.availableIps(pool.id);
  const first = skip === 0 ? undefined : await firstFree(client, pool);
  if (first === undefined || first >= skipBelow) {
    const created = await helper.create(bodies);
    const inSkipped = created.filter((ip) => hostOf(String(ip.address)).value < skipBelow);
    if (inSkipped.length === 0) return created;
    // An address among the skipped ones was freed meanwhile: give these back, go explicit.
    await client.ipam.ipAddresses.delete(created.map((ip) => ip.id));
  }
  for (let attempt = 1;; attempt++) {
    const free = await findFree(ctx, pool, bodies.length, skip);
    if (free.addresses.length < bodies.length) {
      throw new AllocationError(
        `Cannot reserve ${bodies.length} addresses in ${pool.label}: insufficient resources`,
        { status: 409, method: "POST", path: "ipam/ip-addresses/", body: null, messages: {} },
      );
    }
    const explicit = bodies.map((b, i) => ({ ...b, address: free.addresses[i], vrf: pool.vrfId }));
    try {
      return await client.request<NetBoxObject[]>("POST", "ipam/ip-addresses/", {
        body: explicit,
        action: `reserve ${bodies.length} addresses in ${pool.label}`,
      });
    } catch (err) {
      const duplicate = err instanceof NetBoxHttpError && err.status === 400 &&
        /duplicate/i.test(JSON.stringify(err.body));
      if (!duplicate || attempt >= 3) throw err;
      ctx.info(`an address was taken concurrently; retrying (${attempt}/3)`);
    }
  }
}

async function firstFree(client: NetBoxClient, pool: IpPool): Promise<bigint | undefined> {
  const [first] = await serverList(client, pool, 1);
  return first ? hostOf(first.address).value : undefined;
}

export { main };

if (import.meta.main) Deno.exit(await main(Deno.args));
