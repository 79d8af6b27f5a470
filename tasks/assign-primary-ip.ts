/**
 * assign-primary-ip — from "device/VM + interface + address (or a prefix to allocate from)" to
 * "IP assigned to that interface and set as primary_ip4/6 (or OOB)" in one step; VRF-aware,
 * idempotent, batch from a file, `--dry-run`.
 *
 * ```sh
 * deno task assign-primary-ip --vm docker-01 --interface eth0 --address 192.168.3.10/24 \
 *   --dns-name docker-01-nexus.spaceships.work
 * ```
 *
 * @module
 */

import { collect, runTask, type TaskContext } from "../lib/cli/task.ts";
import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { OutcomeUnknownError } from "../lib/client/errors.ts";
import { fieldBoolean, fieldPositiveInt, readRecords } from "../lib/cli/records.ts";
import { IP_STATUSES } from "../lib/ipam/choices.ts";
import {
  type AssignField,
  assignIp,
  type AssignIpOptions,
  assignIpProblem,
  type AssignIpRequest,
  assignIps,
  type AssignOutcome,
  type AssignStep,
} from "../lib/ipam/assign.ts";

const COLUMNS = ["line", "target", "interface", "address", "ip_id", "actions", "error"];

/** One assignment: from the flags, or one row of `--file`. */
export interface AssignRow {
  /** Line in the batch file (undefined for flags). */
  line?: number;
  device?: string;
  site?: string;
  vm?: string;
  cluster?: string;
  device_id?: number;
  vm_id?: number;
  interface?: string;
  create_interface?: boolean;
  interface_type?: string;
  address?: string;
  vrf?: string;
  from_prefix?: string;
  dns_name?: string;
  status?: string;
  tags: string[];
  description?: string;
  oob?: boolean;
  move?: boolean;
}

interface Opts {
  device?: string;
  site?: string;
  vm?: string;
  cluster?: string;
  deviceId?: string;
  vmId?: string;
  interface?: string;
  createInterface?: boolean;
  interfaceType?: string;
  address?: string;
  vrf?: string;
  fromPrefix?: string;
  dnsName?: string;
  dnsPattern?: string;
  status?: string;
  tag: string[];
  description?: string;
  oob?: boolean;
  move?: boolean;
  file?: string;
}

const SPEC = {
  name: "assign-primary-ip",
  description: "Assign an IP address to a device or VM interface and make it the primary " +
    "(or OOB) IP, in one idempotent step",
  writes: true,
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .option("--device <name>", "the device (with --site when the name is not unique)")
      .option("--site <site>", "site slug or name of --device")
      .option("--vm <name>", "the virtual machine (with --cluster when not unique)")
      .option("--cluster <cluster>", "cluster name of --vm")
      .option("--device-id <id>", "the device by id")
      .option("--vm-id <id>", "the virtual machine by id")
      .option("--interface <name>", "the interface (default: the target's only interface)")
      .option("--create-interface", "create --interface when the target does not have it")
      .option("--interface-type <type>", "type of a created device interface", "virtual")
      .option("--address <cidr>", "the address, e.g. 192.168.3.10/24 (reused when it exists)")
      .option("--vrf <vrf>", "VRF name, RD or id of --address / --from-prefix")
      .option(
        "--from-prefix <cidr|id>",
        "allocate the next free address of this prefix (through available-ips); an address the " +
          "interface already has in it is used instead",
      )
      .option("--dns-name <name>", "DNS name to set on the address")
      .option("--dns-pattern <regex>", "house rule DNS names must also match")
      .option("--status <status>", `status to set: ${IP_STATUSES.join(", ")}`)
      .option("--tag <tag>", "tag (name or slug) the address must carry (repeatable)", collect, [])
      .option("--description <text>", "description to set on the address")
      .option("--oob", "set the device's oob_ip instead of primary_ip4/6 (devices only)")
      .option(
        "--move",
        "move an address assigned elsewhere (first clearing a primary/OOB designation that blocks it)",
      )
      .option(
        "--file <file>",
        "batch: YAML, JSON or CSV rows with the same fields (device, site, vm, cluster, " +
          "device_id, vm_id, interface, create_interface, interface_type, address, vrf, " +
          "from_prefix, dns_name, status, tags, description, oob, move); - reads stdin",
      ),
  examples: [
    "assign-primary-ip --vm docker-01 --interface eth0 --address 192.168.3.10/24 \\\n" +
    "    --dns-name docker-01-nexus.spaceships.work",
    "assign-primary-ip --device foxtrot --site matrix --interface mgmt0 --address 10.9.0.5/24 --oob",
    "assign-primary-ip --vm web-01 --from-prefix 192.168.3.0/24 --dry-run",
    "assign-primary-ip --file rows.yaml --concurrency 8",
  ],
};

// ---------------------------------------------------------------------------------------------
// rows: from flags or a file

const TEXT_KEYS = "device site vm cluster interface interface_type address vrf from_prefix " +
  "dns_name status description";
const BOOL_KEYS = new Set(["create_interface", "oob", "move"]);
const INT_KEYS = new Set(["device_id", "vm_id"]);
const ROW_KEYS = new Set([...TEXT_KEYS.split(" "), ...BOOL_KEYS, ...INT_KEYS, "tags", "tag"]);

function rowFromOpts(opts: Opts): AssignRow {
  return {
    device: opts.device,
    site: opts.site,
    vm: opts.vm,
    cluster: opts.cluster,
    device_id: opts.deviceId === undefined
      ? undefined
      : fieldPositiveInt(opts.deviceId, "--device-id"),
    vm_id: opts.vmId === undefined ? undefined : fieldPositiveInt(opts.vmId, "--vm-id"),
    interface: opts.interface,
    create_interface: opts.createInterface,
    interface_type: opts.interfaceType,
    address: opts.address,
    vrf: opts.vrf,
    from_prefix: opts.fromPrefix,
    dns_name: opts.dnsName,
    status: opts.status,
    tags: opts.tag,
    description: opts.description,
    oob: opts.oob,
    move: opts.move,
  };
}

/** Turns one file record into a row; throws Error with the reason. */
function rowFromRecord(record: unknown, line: number): AssignRow {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new Error("a row must be a mapping of field names to values");
  }
  const row: AssignRow = { line, tags: [] };
  for (const [rawKey, value] of Object.entries(record)) {
    const key = rawKey.trim().toLowerCase().replaceAll("-", "_");
    if (!ROW_KEYS.has(key)) throw new Error(`unknown field "${rawKey}"`);
    if (value === null || value === undefined || value === "") continue;
    if (key === "tags" || key === "tag") {
      const list = Array.isArray(value) ? value : String(value).split(/[;,]/);
      row.tags.push(...list.map((t) => String(t).trim()).filter((t) => t !== ""));
    } else if (BOOL_KEYS.has(key)) {
      (row as unknown as Record<string, unknown>)[key] = fieldBoolean(value, key);
    } else if (INT_KEYS.has(key)) {
      (row as unknown as Record<string, unknown>)[key] = fieldPositiveInt(value, key);
    } else {
      (row as unknown as Record<string, unknown>)[key] = String(value).trim();
    }
  }
  return row;
}

/**
 * Parses a batch file: a YAML or JSON list of rows (or a mapping with a `rows:` list), or CSV
 * with a header line. Every row remembers its line.
 *
 * @param text The file's contents.
 * @param file The file name (its extension picks CSV; `-` or others are tried as YAML/JSON).
 * @returns The rows.
 * @throws {UsageError} For syntax errors and rows that are not shaped right, with line numbers.
 */
export function parseRows(text: string, file: string): AssignRow[] {
  return readRecords(text, file, rowFromRecord, { key: "rows" });
}

/** How the row checks name the fields (as in batch files). */
const ROW_NAMES: Partial<Record<AssignField, string>> = {
  fromPrefix: "from_prefix",
  createInterface: "create_interface",
};

/** How NetBox-side messages name the fields (as flags). */
const FLAG_NAMES: Partial<Record<AssignField, string>> = {
  site: "--site",
  cluster: "--cluster",
  interface: "--interface",
  createInterface: "--create-interface",
  vrf: "--vrf",
  move: "--move",
};

/** Checks a row without asking NetBox; returns the reason it is invalid. */
export function checkRow(row: AssignRow, dnsPattern?: RegExp): string | undefined {
  const targets = [
    row.device !== undefined && "device",
    row.vm !== undefined && "vm",
    row.device_id !== undefined && "device_id",
    row.vm_id !== undefined && "vm_id",
  ].filter(Boolean);
  if (targets.length !== 1) {
    return targets.length === 0
      ? "no target: give device, vm, device_id or vm_id"
      : `${targets.join(" and ")} exclude each other`;
  }
  if (row.site !== undefined && row.device === undefined) return "site needs device";
  if (row.cluster !== undefined && row.vm === undefined) return "cluster needs vm";
  return assignIpProblem(requestFromRow(row, false, dnsPattern), ROW_NAMES);
}

/** The library request of a row (that passed the target checks of {@linkcode checkRow}). */
function requestFromRow(row: AssignRow, dryRun: boolean, dnsPattern?: RegExp): AssignIpRequest {
  const device = row.device ?? row.device_id;
  return {
    target: device !== undefined
      ? { device, site: row.site }
      : { virtualMachine: (row.vm ?? row.vm_id)!, cluster: row.cluster },
    interface: row.interface,
    createInterface: row.create_interface,
    interfaceType: row.interface_type,
    address: row.address,
    fromPrefix: row.from_prefix,
    vrf: row.vrf,
    dnsName: row.dns_name,
    dnsPattern,
    status: row.status,
    tags: row.tags,
    description: row.description,
    oob: row.oob,
    move: row.move,
    dryRun,
  };
}

// ---------------------------------------------------------------------------------------------
// the task

/** The outcome of one row, as printed. */
interface RowResult {
  [key: string]: unknown;
  line: number | null;
  target: string;
  interface: string | null;
  address: string | null;
  ip_id: number | null;
  actions: string[];
  /** `unknown`: NetBox's answer was lost and reading back could not settle it (check, re-run). */
  outcome: "done" | "failed" | "unknown";
  error: string | null;
}

function targetLabel(row: AssignRow): string {
  if (row.device !== undefined) return `device ${row.device}`;
  if (row.vm !== undefined) return `vm ${row.vm}`;
  if (row.device_id !== undefined) return `device #${row.device_id}`;
  return `vm #${row.vm_id}`;
}

/** A row's printed outcome: the library's result, or why it failed. */
function rowResult(row: AssignRow, outcome: AssignOutcome | string): RowResult {
  const result = typeof outcome === "string" || !outcome.ok ? undefined : outcome.result;
  const error = typeof outcome === "string" ? outcome : outcome.ok ? null : outcome.error.message;
  return {
    line: row.line ?? null,
    target: result?.target ?? targetLabel(row),
    interface: result ? result.interface : row.interface ?? null,
    address: result ? result.address : row.address ?? null,
    ip_id: result?.ip_id ?? null,
    actions: result?.actions ?? [],
    outcome: error === null
      ? "done"
      : typeof outcome !== "string" && !outcome.ok && outcome.error instanceof OutcomeUnknownError
      ? "unknown"
      : "failed",
    error,
  };
}

async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

/** The row flags given (they may not be combined with --file), in --help order. */
function rowFlagsGiven(opts: Opts): string[] {
  const flags = "device site vm cluster device-id vm-id interface create-interface address vrf " +
    "from-prefix dns-name status description oob move";
  const given = flags.split(" ").filter((flag) => {
    const key = flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as keyof Opts;
    return opts[key] !== undefined;
  }).map((flag) => `--${flag}`);
  return opts.tag.length ? [...given, "--tag"] : given;
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  let pattern: RegExp | undefined;
  if (opts.dnsPattern !== undefined) {
    try {
      pattern = new RegExp(opts.dnsPattern);
    } catch (err) {
      throw new UsageError(`Cannot use --dns-pattern: ${(err as Error).message}`);
    }
  }
  let rows: AssignRow[];
  if (opts.file !== undefined) {
    const given = rowFlagsGiven(opts);
    if (given.length) {
      throw new UsageError(`Cannot use ${given.join(", ")} with --file: put them in the rows`);
    }
    rows = parseRows(await ctx.readInput(opts.file), opts.file);
    for (const row of rows) row.interface_type ??= opts.interfaceType;
  } else {
    let row: AssignRow;
    try {
      row = rowFromOpts(opts);
    } catch (err) {
      throw new UsageError(`Cannot use ${(err as Error).message}`);
    }
    rows = [row];
  }
  const reasons = rows.map((row) => checkRow(row, pattern));
  const say = (row: AssignRow, step: AssignStep) =>
    ctx.info(`${row.line ? `line ${row.line}: ` : ""}${ctx.dryRun ? "would " : ""}${step.text}`);
  const options: AssignIpOptions = {
    fieldNames: FLAG_NAMES,
    assertCanWrite: (writes) => ctx.assertCanWrite(writes),
  };
  if (opts.file === undefined) {
    // One assignment: nothing is sent for bad input, and errors map to exit codes as usual.
    if (reasons[0]) throw new UsageError(`Cannot assign: ${reasons[0]}`);
    const request = requestFromRow(rows[0], ctx.dryRun, pattern);
    const done = await assignIp(ctx.client(), request, {
      ...options,
      onStep: (s) => say(rows[0], s),
    });
    const result = rowResult(rows[0], { ok: true, result: done });
    await ctx.emit({ summary: summarize([result], ctx.dryRun), items: [result] }, {
      columns: COLUMNS.filter((c) => c !== "line" && c !== "error"),
    });
    return EXIT.OK;
  }
  // A batch: invalid rows fail alone, the others still run.
  const valid = rows.filter((_, i) => reasons[i] === undefined);
  let outcomes: AssignOutcome[] = [];
  if (valid.length) {
    const requests = valid.map((row) => requestFromRow(row, ctx.dryRun, pattern));
    // No URL or an unreadable token file is a usage error (exit 2), not a failure of each row.
    const client = ctx.client();
    outcomes = await assignIps(client, requests, {
      ...options,
      stop: ctx.stop,
      concurrency: ctx.concurrency,
      onStep: (step, i) => say(valid[i], step),
    });
  }
  const results = rows.map((row, i) => rowResult(row, reasons[i] ?? outcomes[valid.indexOf(row)]));
  const failed = results.filter((r) => r.error !== null);
  for (const r of failed) ctx.io.stderr(`error: ${opts.file}:${r.line}: ${r.error}\n`);
  const summary = summarize(results, ctx.dryRun);
  await ctx.emit({ summary, items: results }, { columns: COLUMNS });
  ctx.info(
    `${summary.done} of ${summary.rows} rows done${
      summary.failed ? `, ${summary.failed} failed` : ""
    }${summary.unknown ? `, ${summary.unknown} unknown (answer lost: check or re-run)` : ""}`,
  );
  return failed.length ? EXIT.ATTENTION : EXIT.OK;
}

function summarize(results: RowResult[], dryRun: boolean) {
  const count = (outcome: RowResult["outcome"]) =>
    results.filter((r) => r.outcome === outcome)
      .length;
  return {
    rows: results.length,
    done: count("done"),
    failed: count("failed"),
    unknown: count("unknown"),
    unchanged: results.filter((r) => r.actions.length === 1 && r.actions[0] === "unchanged").length,
    dry_run: dryRun,
  };
}

export { main };

if (import.meta.main) Deno.exit(await main(Deno.args));
