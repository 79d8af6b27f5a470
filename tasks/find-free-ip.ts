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

import { collect, parseFilterPairs, runTask, type TaskContext } from "../lib/cli/task.ts";
import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { IP_ROLES, IP_STATUSES } from "../lib/ipam/choices.ts";
import {
  findFreeIps,
  findFreeIpsInEachPool,
  type FindFreeIpsOptions,
  type FindFreeIpsResult,
  type OptionLabels,
  planDnsNames,
  PoolExhaustedError,
  type PoolRef,
  reserveIps,
  type ReserveIpsOptions,
  type ReserveIpsResult,
  type ResolvedPool,
} from "../lib/ipam/find_free.ts";
import type { IPAddress } from "../lib/client/models.ts";
import { escapeControls } from "../lib/base/safe_text.ts";

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

/** How the library's messages name the options: by their flags. */
const LABELS: OptionLabels = {
  prefix: "--prefix",
  prefixId: "--prefix-id",
  range: "--range",
  rangeId: "--range-id",
  filters: "--filter",
  vrf: "--vrf",
  count: "--count",
  skip: "--skip",
  numberFrom: "--number-from",
  status: "--status",
  role: "--role",
  dnsName: "--dns-name",
  dnsPattern: "--dns-pattern",
  tags: "--tag",
  createTags: "--create-tags",
};

/** The typed request the flags make (the library checks the values themselves). */
interface TypedRequest {
  pool: PoolRef;
  find: FindFreeIpsOptions & { count: number; skip: number };
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

/** Checks the flags' combinations and syntax before anything is sent; throws UsageError (exit 2). */
function validate(opts: Opts): TypedRequest {
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
  const vrf = opts.vrf === undefined ? {} : { vrf: opts.vrf };
  const pool: PoolRef = opts.prefixId !== undefined
    ? { prefixId: parseCount(opts.prefixId, "--prefix-id", 1) }
    : opts.rangeId !== undefined
    ? { rangeId: parseCount(opts.rangeId, "--range-id", 1) }
    : opts.prefix !== undefined
    ? { prefix: opts.prefix, ...vrf }
    : opts.range !== undefined
    ? { range: opts.range, ...vrf }
    : { filters: parseFilterPairs(opts.filter), ...vrf };
  const find = {
    count,
    skip,
    numberFrom,
    dnsName: opts.dnsName,
    dnsPattern: opts.dnsPattern,
    labels: LABELS,
  };
  return { pool, find };
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

/** A choice field's value (`{ value, label }` as NetBox reads it; plain text as it is). */
function choiceValue(choice: { value: string } | string | null | undefined): string | null {
  return typeof choice === "string" ? choice : choice?.value ?? null;
}

function rowFromIp(ip: IPAddress, pool: ResolvedPool, action: string): Row {
  return {
    address: String(ip.address),
    vrf: ip.vrf?.name ?? pool.vrfName,
    dns_name: ip.dns_name || null,
    status: choiceValue(ip.status),
    id: ip.id,
    url: ip.url,
    action,
    pool: pool.pool.label,
  };
}

function freeRow(address: string, pool: ResolvedPool, action = "free"): Row {
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

/** What every single-pool result's summary starts with. */
function summaryOf(r: FindFreeIpsResult | ReserveIpsResult): Record<string, unknown> {
  return {
    pool: r.pool.pool.label,
    pool_kind: r.pool.pool.kind,
    pool_id: r.pool.pool.id,
    vrf: r.pool.vrfName,
    requested: r.requested,
    existing: r.existing.length,
  };
}

async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  const { pool, find } = validate(opts);
  const client = ctx.client();
  const onWarning = (message: string) => ctx.warn(message);
  if (opts.allMatching) {
    planDnsNames(find); // checked, as for one pool, though names play no part here
    const each = await findFreeIpsInEachPool(client, pool, { ...find, onWarning });
    const rows = each.flatMap((p) => p.free.map((a) => freeRow(a, p.pool)));
    await ctx.emit(
      {
        summary: { pools: each.length, requested_per_pool: find.count, free_listed: rows.length },
        items: rows,
      },
      { columns: ["pool", ...columnsFor(rows)] },
    );
    return each.every((p) => !p.complete) ? EXIT.ATTENTION : EXIT.OK;
  }
  if (!opts.reserve) {
    return await list(ctx, await findFreeIps(client, pool, { ...find, onWarning }));
  }
  const options: ReserveIpsOptions = {
    ...find,
    onWarning,
    reuseExisting: !opts.new,
    status: opts.status,
    role: opts.role,
    tags: opts.tag,
    createTags: opts.createTags,
    description: opts.description,
    tenant: opts.tenant,
    dryRun: ctx.dryRun,
    stop: ctx.stop,
    beforeWrite: () => ctx.assertCanWrite([{ path: "ipam/ip-addresses/", action: "add" }]),
    onRetry: (attempt, max) =>
      ctx.info(`an address was taken concurrently; retrying (${attempt}/${max})`),
  };
  let result: ReserveIpsResult;
  try {
    result = await reserveIps(client, pool, options);
  } catch (err) {
    if (!(err instanceof PoolExhaustedError)) throw err;
    ctx.io.stderr(`error: ${escapeControls(err.message)}\n`);
    return EXIT.ATTENTION;
  }
  // Every name exists already: nothing reserved, reported like a listing.
  if (result.existing.length === result.requested) {
    return await list(ctx, { ...result, free: [], complete: true });
  }
  return await reported(ctx, result);
}

/** Renders a listing: existing addresses, then free ones; exit 1 when fewer than asked. */
async function list(ctx: TaskContext, r: FindFreeIpsResult): Promise<number> {
  const rows = r.existing.map((ip) => rowFromIp(ip, r.pool, "existing"));
  for (const a of r.free) rows.push(freeRow(a, r.pool));
  const summary = summaryOf(r);
  summary.free_listed = r.free.length;
  if (r.freeTotal !== undefined) summary.free_total = r.freeTotal.toString();
  await ctx.emit({ summary, items: rows }, { columns: columnsFor(rows) });
  const need = r.requested - r.existing.length;
  if (r.free.length < need) {
    ctx.warn(`only ${r.free.length} free addresses in ${r.pool.pool.label} (asked ${need})`);
    return EXIT.ATTENTION;
  }
  return EXIT.OK;
}

/** Renders what was reserved (or, in a dry run, would be). */
async function reported(ctx: TaskContext, r: ReserveIpsResult): Promise<number> {
  const rows = r.existing.map((ip) => rowFromIp(ip, r.pool, "existing"));
  const summary = summaryOf(r);
  if (r.dryRun) {
    for (const planned of r.planned) {
      const row = freeRow(planned.address, r.pool, "would-reserve");
      row.dns_name = planned.dns_name ?? null;
      row.status = planned.status;
      rows.push(row);
    }
    const missing = r.missingTags;
    ctx.info(
      `dry run: would reserve ${r.planned.length} addresses in ${r.pool.pool.label} through its ` +
        `available-ips (the server picks the addresses; these are the ones free now)` +
        (missing.length ? `; would create tags ${missing.join(", ")}` : ""),
    );
    await ctx.emit({ summary: { ...summary, dry_run: true, reserved: 0 }, items: rows }, {
      columns: COLUMNS,
    });
    return EXIT.OK;
  }
  for (const ip of r.reserved) rows.push(rowFromIp(ip, r.pool, "reserved"));
  await ctx.emit({ summary: { ...summary, reserved: r.reserved.length }, items: rows }, {
    columns: COLUMNS,
  });
  return EXIT.OK;
}

export { main };

if (import.meta.main) Deno.exit(await main(Deno.args));
