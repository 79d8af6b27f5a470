/**
 * The rows of assign-primary-ip, read in one place: from its flags or from the records of a
 * `--file` (through {@linkcode readRecords}, whose positions come from `lib/import/parse.ts`),
 * both into one shape ({@linkcode AssignRow}), checked, and translated once into the
 * {@linkcode AssignIpRequest}s `lib/ipam/assign.ts` carries out. Nothing here calls back up into
 * the task.
 *
 * @module
 */

import { type AssignField, assignIpProblem, type AssignIpRequest } from "../ipam/assign.ts";
import { UsageError } from "./exit.ts";
import { fieldBoolean, fieldPositiveInt, readRecords } from "./records.ts";

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

/** The task's flags that make a row (camelCase, as the flag parser gives them). */
export interface AssignFlags {
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

/** One row with its library request, or the reason it is invalid. */
export interface AssignJob {
  row: AssignRow;
  /** The request to carry out (when the row is valid). */
  request?: AssignIpRequest;
  /** Why the row is invalid (then nothing is sent for it). */
  problem?: string;
}

/** Options of {@linkcode readAssignJobs}. */
export interface ReadAssignJobsOptions {
  /** Reads `--file` (`TaskContext.readInput`: unreadable → UsageError). */
  read: (path: string) => Promise<string>;
  /** `--dry-run`: the requests compute and report, and write nothing. @default {false} */
  dryRun?: boolean;
}

/** The fields of a row, by kind; the flag of a field is its name with dashes (`--device-id`). */
const TEXT_KEYS = [
  "device",
  "site",
  "vm",
  "cluster",
  "interface",
  "interface_type",
  "address",
  "vrf",
  "from_prefix",
  "dns_name",
  "status",
  "description",
] as const;
const BOOL_KEYS = ["create_interface", "oob", "move"] as const;
const INT_KEYS = ["device_id", "vm_id"] as const;
const ROW_KEYS = new Set<string>([...TEXT_KEYS, ...BOOL_KEYS, ...INT_KEYS, "tags", "tag"]);

/** The row flags that may not be combined with --file, in --help order. */
const ROW_FLAGS = "device site vm cluster device-id vm-id interface create-interface address vrf " +
  "from-prefix dns-name status description oob move";

/** How the row checks name the fields (as in batch files). */
const ROW_NAMES: Partial<Record<AssignField, string>> = {
  fromPrefix: "from_prefix",
  createInterface: "create_interface",
};

/** How NetBox-side messages of the library name the fields (as flags). */
export const ASSIGN_FLAG_NAMES: Partial<Record<AssignField, string>> = {
  site: "--site",
  cluster: "--cluster",
  interface: "--interface",
  createInterface: "--create-interface",
  vrf: "--vrf",
  move: "--move",
};

const camel = (name: string) => name.replace(/[-_](\w)/g, (_, c: string) => c.toUpperCase());

/** The row of the single-assignment flags; throws Error naming the bad flag. */
function rowFromFlags(flags: AssignFlags): AssignRow {
  const row: AssignRow = { tags: flags.tag };
  const set = row as unknown as Record<string, unknown>;
  const given = flags as unknown as Record<string, unknown>;
  for (const key of [...TEXT_KEYS, ...BOOL_KEYS]) set[key] = given[camel(key)];
  for (const key of INT_KEYS) {
    const value = given[camel(key)];
    set[key] = value === undefined
      ? undefined
      : fieldPositiveInt(value, `--${key.replaceAll("_", "-")}`);
  }
  return row;
}

/** Turns one file record into a row; throws Error with the reason. */
function rowFromRecord(record: unknown, line: number): AssignRow {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new Error("a row must be a mapping of field names to values");
  }
  const row: AssignRow = { line, tags: [] };
  const set = row as unknown as Record<string, unknown>;
  for (const [rawKey, value] of Object.entries(record)) {
    const key = rawKey.trim().toLowerCase().replaceAll("-", "_");
    if (!ROW_KEYS.has(key)) throw new Error(`unknown field "${rawKey}"`);
    if (value === null || value === undefined || value === "") continue;
    if (key === "tags" || key === "tag") {
      const list = Array.isArray(value) ? value : String(value).split(/[;,]/);
      row.tags.push(...list.map((t) => String(t).trim()).filter((t) => t !== ""));
    } else if ((BOOL_KEYS as readonly string[]).includes(key)) {
      set[key] = fieldBoolean(value, key);
    } else if ((INT_KEYS as readonly string[]).includes(key)) {
      set[key] = fieldPositiveInt(value, key);
    } else {
      set[key] = String(value).trim();
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
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseRows } from "./assign_rows.ts";
 * const rows = parseRows("vm,address,tags\nweb-01,10.0.0.1/24,a;b\n", "x.csv");
 * assert(rows[0].line === 2 && rows[0].tags.join() === "a,b");
 * ```
 */
export function parseRows(text: string, file: string): AssignRow[] {
  return readRecords(text, file, rowFromRecord, { key: "rows" });
}

/**
 * Checks a row without asking NetBox.
 *
 * @param row The row.
 * @param dnsPattern The house rule DNS names must also match (`--dns-pattern`).
 * @returns The reason the row is invalid, or `undefined` when it is valid.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { checkRow } from "./assign_rows.ts";
 * assert(/no target/.test(checkRow({ tags: [], address: "10.0.0.1/24" }) ?? ""));
 * assert(checkRow({ tags: [], vm: "a", address: "10.0.0.1/24" }) === undefined);
 * ```
 */
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
  return assignIpProblem(requestOf(row, false, dnsPattern), ROW_NAMES);
}

/** The one translation: a row (that passed the target checks of `checkRow`) → its request. */
function requestOf(row: AssignRow, dryRun: boolean, dnsPattern?: RegExp): AssignIpRequest {
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

function dnsPatternOf(flags: AssignFlags): RegExp | undefined {
  if (flags.dnsPattern === undefined) return undefined;
  try {
    return new RegExp(flags.dnsPattern);
  } catch (err) {
    throw new UsageError(`Cannot use --dns-pattern: ${(err as Error).message}`);
  }
}

async function rowsOf(flags: AssignFlags, read: (path: string) => Promise<string>) {
  if (flags.file !== undefined) {
    const given = ROW_FLAGS.split(" ")
      .filter((flag) => (flags as unknown as Record<string, unknown>)[camel(flag)] !== undefined)
      .map((flag) => `--${flag}`);
    if (flags.tag.length) given.push("--tag");
    if (given.length) {
      throw new UsageError(`Cannot use ${given.join(", ")} with --file: put them in the rows`);
    }
    const rows = parseRows(await read(flags.file), flags.file);
    for (const row of rows) row.interface_type ??= flags.interfaceType;
    return rows;
  }
  try {
    return [rowFromFlags(flags)];
  } catch (err) {
    throw new UsageError(`Cannot use ${(err as Error).message}`);
  }
}

/**
 * Reads the assignments of assign-primary-ip in one pass down: the rows of `--file` or the one
 * row of the flags, each checked and translated into its {@linkcode AssignIpRequest}.
 *
 * @param flags The task's flags.
 * @param options How to read `--file`, and `--dry-run`.
 * @returns One job per row, in file order; in a batch an invalid row carries its `problem`.
 * @throws {UsageError} A bad `--dns-pattern` or flag value, row flags beside `--file`, an
 *   unreadable or malformed file, or (without `--file`) an invalid assignment: nothing is sent.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { readAssignJobs } from "./assign_rows.ts";
 * const read = () => Promise.resolve("- vm: a\n  address: 10.0.0.1/24\n- vm: b\n");
 * const jobs = await readAssignJobs({ tag: [], file: "rows.yaml" }, { read });
 * assert(jobs[0].request?.address === "10.0.0.1/24" && jobs[1].problem !== undefined);
 * ```
 */
export async function readAssignJobs(
  flags: AssignFlags,
  options: ReadAssignJobsOptions,
): Promise<AssignJob[]> {
  const { read, dryRun = false } = options;
  const pattern = dnsPatternOf(flags);
  const rows = await rowsOf(flags, read);
  const jobs = rows.map((row): AssignJob => {
    const problem = checkRow(row, pattern);
    return problem === undefined
      ? { row, request: requestOf(row, dryRun, pattern) }
      : { row, problem };
  });
  // One assignment: nothing is sent for bad input (exit 2); in a batch invalid rows fail alone.
  if (flags.file === undefined && jobs[0].problem) {
    throw new UsageError(`Cannot assign: ${jobs[0].problem}`);
  }
  return jobs;
}
