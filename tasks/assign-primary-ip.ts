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
import { EXIT } from "../lib/cli/exit.ts";
import { OutcomeUnknownError } from "../lib/client/errors.ts";
import {
  ASSIGN_FLAG_NAMES,
  type AssignFlags,
  type AssignRow,
  readAssignJobs,
} from "../lib/cli/assign_rows.ts";
import { IP_STATUSES } from "../lib/ipam/choices.ts";
import {
  assignIp,
  type AssignIpOptions,
  type AssignIpRequest,
  assignIps,
  type AssignOutcome,
  type AssignStep,
} from "../lib/ipam/assign.ts";

export { type AssignRow, checkRow, parseRows } from "../lib/cli/assign_rows.ts";

const COLUMNS = ["line", "target", "interface", "address", "ip_id", "actions", "error"];

type Opts = AssignFlags;

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

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  const jobs = await readAssignJobs(opts, { read: ctx.readInput, dryRun: ctx.dryRun });
  const say = (row: AssignRow, step: AssignStep) =>
    ctx.info(`${row.line ? `line ${row.line}: ` : ""}${ctx.dryRun ? "would " : ""}${step.text}`);
  const options: AssignIpOptions = {
    fieldNames: ASSIGN_FLAG_NAMES,
    assertCanWrite: (writes) => ctx.assertCanWrite(writes),
  };
  if (opts.file === undefined) {
    // One assignment (checked by readAssignJobs): errors map to exit codes as usual.
    const [{ row, request }] = jobs;
    const done = await assignIp(ctx.client(), request!, { ...options, onStep: (s) => say(row, s) });
    const result = rowResult(row, { ok: true, result: done });
    await ctx.emit({ summary: summarize([result], ctx.dryRun), items: [result] }, {
      columns: COLUMNS.filter((c) => c !== "line" && c !== "error"),
    });
    return EXIT.OK;
  }
  // A batch: invalid rows fail alone, the others still run.
  const valid = jobs.filter((job) => job.request !== undefined);
  let outcomes: AssignOutcome[] = [];
  if (valid.length) {
    const requests = valid.map((job) => job.request as AssignIpRequest);
    // No URL or an unreadable token file is a usage error (exit 2), not a failure of each row.
    const client = ctx.client();
    outcomes = await assignIps(client, requests, {
      ...options,
      stop: ctx.stop,
      concurrency: ctx.concurrency,
      onStep: (step, i) => say(valid[i].row, step),
    });
  }
  const results = jobs.map((job) =>
    rowResult(job.row, job.problem ?? outcomes[valid.indexOf(job)])
  );
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
