/**
 * Output of `nb`: listings that stream (NDJSON and CSV are written object by object as the pages
 * arrive, so any size runs in constant memory), tables with columns chosen from the objects
 * (human-friendly nested names), and the per-object outcomes of writes with their field diffs.
 *
 * @module
 */

import { csvStringify } from "../deps.ts";
import { escapeControls, neutralizeCsvCell } from "../base/safe_text.ts";
import type { FieldChange } from "../client/diff.ts";
import type { WriteOutcome } from "../client/where.ts";
import type { NetBoxObject } from "../client/types.ts";

/** Table columns in this order of preference, when present in the objects. */
const PREFERRED = [
  "id",
  "name",
  "address",
  "prefix",
  "vid",
  "model",
  "cid",
  "slug",
  "status",
  "type",
  "role",
  "site",
  "device",
  "virtual_machine",
  "assigned_object",
  "tenant",
  "vrf",
  "dns_name",
  "description",
];

/**
 * The columns of a table or CSV: the `--fields` asked for, else up to seven of the usual fields
 * the first object has (`display` when it has no name), or all its fields for `all`.
 *
 * @param first the first object (undefined for an empty listing)
 * @param fields `--fields`
 * @param all every top-level field (CSV)
 * @returns the columns
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { chooseColumns } from "./nb_output.ts";
 * deepEqual(chooseColumns({ id: 1, url: "", display: "d1", name: "d1", status: {}, site: {} }), ["id", "name", "status", "site"]);
 * deepEqual(chooseColumns({ id: 1, url: "", display: "x" }), ["id", "display"]);
 * ```
 */
export function chooseColumns(
  first: Record<string, unknown> | undefined,
  fields?: string[],
  all = false,
): string[] {
  if (fields?.length) return fields;
  if (!first) return ["id", "display"];
  if (all) return Object.keys(first).filter((k) => k !== "url" && k !== "display_url");
  const cols = PREFERRED.filter((k) => k in first).slice(0, 7);
  if (!cols.some((c) => ["name", "address", "prefix", "model", "cid"].includes(c))) {
    cols.splice(cols[0] === "id" ? 1 : 0, 0, "display");
  }
  return cols;
}

/**
 * A value as one cell: a nested object by its name (`display`, `name`, `address`, a choice's
 * value), a list joined by commas.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { cell } from "./nb_output.ts";
 * equal(cell({ id: 3, name: "matrix", display: "Matrix DC" }), "Matrix DC");
 * equal(cell({ value: "active", label: "Active" }), "active");
 * equal(cell([{ name: "a" }, { name: "b" }]), "a,b");
 * ```
 */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(cell).join(",");
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if ("value" in o && "label" in o) return String(o.value);
    return String(o.display ?? o.name ?? o.address ?? o.prefix ?? JSON.stringify(o));
  }
  return String(value);
}

/**
 * Streams a listing as NDJSON (one object a line) or CSV (header from `--fields` or the first
 * object), writing each piece as it comes.
 *
 * @param items the listing
 * @param format `ndjson` or `csv`
 * @param write receives the text pieces in order
 * @param fields `--fields`
 * @returns how many objects were written
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { streamListing } from "./nb_output.ts";
 * let out = "";
 * async function* two() { yield { id: 1, url: "", name: "=a" }; yield { id: 2, url: "", name: "b" }; }
 * equal(await streamListing(two(), "csv", (t) => void (out += t)), 2);
 * equal(out, "id,name\n1,'=a\n2,b\n");
 * ```
 */
export async function streamListing(
  items: AsyncIterable<NetBoxObject>,
  format: "ndjson" | "csv",
  write: (text: string) => void | Promise<void>,
  fields?: string[],
): Promise<number> {
  let n = 0;
  let columns: string[] | undefined = fields?.length ? fields : undefined;
  if (format === "csv" && columns) await write(csvStringify([columns]));
  for await (const item of items) {
    if (format === "ndjson") {
      await write(JSON.stringify(item) + "\n");
    } else {
      if (!columns) {
        columns = chooseColumns(item, undefined, true);
        await write(csvStringify([columns]));
      }
      await write(csvStringify([columns.map((c) => neutralizeCsvCell(cell(item[c])))]));
    }
    n++;
  }
  return n;
}

/**
 * The rows of a table from objects: each column's value as a cell, shown safely.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { tableRows } from "./nb_output.ts";
 * deepEqual(tableRows([{ id: 1, site: { name: "m" } }], ["id", "site"]), [{ id: "1", site: "m" }]);
 * ```
 */
export function tableRows(
  items: Record<string, unknown>[],
  columns: string[],
): Record<string, string>[] {
  return items.map((item) =>
    Object.fromEntries(columns.map((c) => [c, escapeControls(cell(item[c]))]))
  );
}

/**
 * Field changes as one line: `status: active → offline; name: (none) → web-01`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { formatChanges } from "./nb_output.ts";
 * equal(formatChanges([{ field: "status", before: "active", after: "offline" }]), "status: active → offline");
 * ```
 */
export function formatChanges(changes: FieldChange[]): string {
  const show = (v: unknown) =>
    v === undefined ? "(none)" : typeof v === "string" && v !== "" ? v : JSON.stringify(v);
  return changes.map((c) => `${c.field}: ${show(c.before)} → ${show(c.after)}`).join("; ");
}

/** The outcomes of a write as result items (for every format) and its summary. */
export function outcomeReport(model: string, outcomes: WriteOutcome[], dryRun: boolean) {
  const count = (s: WriteOutcome["status"]) => outcomes.filter((o) => o.status === s).length;
  const summary = {
    model,
    dry_run: dryRun,
    planned: count("planned"),
    done: count("done"),
    unchanged: count("unchanged"),
    failed: count("failed"),
    not_sent: count("not-sent"),
    unknown: count("unknown"),
  };
  const items = outcomes.map((o) => ({
    action: o.action,
    status: o.status,
    id: o.id ?? null,
    display: o.display ?? null,
    changes: formatChanges(o.changes),
    diff: o.changes,
    message: o.message ?? null,
  }));
  return { summary, items, columns: ["action", "status", "id", "display", "changes", "message"] };
}
