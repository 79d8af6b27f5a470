/**
 * What a revert undoes: entries of NetBox's change log (`/api/core/object-changes/`), selected by
 * the request ids of the writes (an `--audit-log` of any writing task records them) or by a time
 * window and the user who made them.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import { createEndpoint } from "../client/endpoint.ts";
import type { Filters, Transport } from "../client/types.ts";

/** One entry of NetBox's change log, as a revert reads it. */
export interface LoggedChange {
  /** The entry's id (NetBox numbers entries in the order it made the changes). */
  id: number;
  /** When NetBox made the change (ISO 8601). */
  time: string;
  /** Who made it. */
  user_name: string;
  /** The `X-Request-ID` of the request that made it. */
  request_id: string;
  /** What happened to the object. */
  action: "create" | "update" | "delete";
  /** Its content type, `app.model` (`dcim.device`). */
  model: string;
  /** Its id. */
  object_id: number;
  /** Its fields before the change (`null` for a create). */
  prechange: Record<string, unknown> | null;
  /** Its fields after the change (`null` for a delete). */
  postchange: Record<string, unknown> | null;
}

/** Which changes to undo. Give request ids, or `since` with `user`. */
export interface RevertSelection {
  /** The `X-Request-ID`s of the writes to undo. */
  requestIds?: readonly string[];
  /** Changes at or after this time (ISO 8601). */
  since?: string;
  /** Changes at or before this time (ISO 8601). @default {now} */
  until?: string;
  /** Changes made by this user (with `since`). */
  user?: string;
  /** Only changes of this model, `app.model` (`dcim.device`). */
  model?: string;
}

/** Options of {@linkcode readChanges}. */
export interface ReadChangesOptions {
  /** Aborts the reading. */
  signal?: AbortSignal;
  /**
   * With request ids: when the writes were made (an audit log's first and last time). The change
   * log of that window is read in one listing and the ids are picked out of it; only ids not found
   * there are asked for one by one.
   */
  window?: { since: string; until: string };
}

const TIME = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/;
const MODEL = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

/**
 * Checks a selection before anything is sent.
 *
 * @param selection the selection
 * @throws {InputError} naming the option that is missing or malformed
 *
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { checkSelection } from "./changes.ts";
 * checkSelection({ requestIds: ["4f1c0f6e-2b0a-4c55-9d4e-6b7f3f1d2a10"] });
 * throws(() => checkSelection({ since: "yesterday", user: "admin" }), /since/);
 * throws(() => checkSelection({}), /request id/);
 * ```
 */
export function checkSelection(selection: RevertSelection): void {
  const { requestIds = [], since, until, user, model } = selection;
  if (requestIds.length && (since !== undefined || user !== undefined)) {
    throw new InputError(
      "Cannot select changes: give request ids (or an audit log), or since and user, not both",
    );
  }
  if (!requestIds.length && since === undefined) {
    throw new InputError(
      "Cannot select changes: give a request id, an audit log, or since (with user)",
    );
  }
  for (const id of requestIds) {
    if (!/^[0-9a-f-]{8,64}$/i.test(id)) {
      throw new InputError(`Cannot select changes: "${id}" is not a request id (a UUID)`);
    }
  }
  for (const [name, value] of [["since", since], ["until", until]] as const) {
    if (value !== undefined && (!TIME.test(value) || Number.isNaN(Date.parse(value)))) {
      throw new InputError(
        `Cannot select changes: ${name} "${value}" is not a time (expected ISO 8601, e.g. ` +
          "2026-12-07T18:30:00Z)",
      );
    }
  }
  if (since !== undefined && (user === undefined || user.trim() === "")) {
    throw new InputError("Cannot select changes: since needs user (whose changes to undo)");
  }
  if (since !== undefined && until !== undefined && Date.parse(until) < Date.parse(since)) {
    throw new InputError(`Cannot select changes: until ${until} is before since ${since}`);
  }
  if (model !== undefined && !MODEL.test(model)) {
    throw new InputError(
      `Cannot select changes: model "${model}" is not app.model (e.g. dcim.device, ipam.ipaddress)`,
    );
  }
}

/**
 * The request ids of the successful writes an audit log records (one JSON line per write, as
 * the tasks' `--audit-log` writes it), in order.
 *
 * @param text the log's text
 * @param file its name, for messages
 * @returns the request ids, each once
 * @throws {InputError} naming the line that is not a log line, or when no write is logged
 *
 * @example
 * ```ts
 * import { deepEqual, throws } from "node:assert/strict";
 * import { requestIdsOfAuditLog } from "./changes.ts";
 * const log = '{"task":"bulk-import","method":"POST","path":"/api/dcim/sites/","status":201,' +
 *   '"requestId":"4f1c0f6e-2b0a-4c55-9d4e-6b7f3f1d2a10","ids":[7]}\n';
 * deepEqual(requestIdsOfAuditLog(log, "run.log"), ["4f1c0f6e-2b0a-4c55-9d4e-6b7f3f1d2a10"]);
 * throws(() => requestIdsOfAuditLog("not json\n", "run.log"), /run\.log:1/);
 * ```
 */
export function requestIdsOfAuditLog(text: string, file: string): string[] {
  return auditLogWrites(text, file).ids;
}

/**
 * The request ids of the successful writes an audit log records, and the first and last time
 * of those writes (for {@linkcode ReadChangesOptions.window}).
 *
 * @param text the log's text
 * @param file its name, for messages
 * @returns the request ids, each once, and the times (undefined when the lines carry none)
 * @throws {InputError} as {@linkcode requestIdsOfAuditLog}
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { auditLogWrites } from "./changes.ts";
 * const log = '{"time":"2026-12-07T18:30:00.000Z","method":"DELETE","path":"/api/dcim/sites/7/",' +
 *   '"status":204,"requestId":"4f1c0f6e-2b0a-4c55-9d4e-6b7f3f1d2a10","ids":[7]}\n';
 * equal(auditLogWrites(log, "run.log").first, "2026-12-07T18:30:00.000Z");
 * ```
 */
export function auditLogWrites(
  text: string,
  file: string,
): { ids: string[]; first?: string; last?: string } {
  const times: number[] = [];
  const ids: string[] = [];
  let writes = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      throw new InputError(
        `Cannot read audit log ${file}:${i + 1}: not a JSON line (expected one write per line)`,
      );
    }
    const e = entry as Record<string, unknown>;
    if (
      typeof entry !== "object" || entry === null || typeof e.method !== "string" ||
      typeof e.status !== "number"
    ) {
      throw new InputError(
        `Cannot read audit log ${file}:${i + 1}: expected an object with method, status and ` +
          "requestId",
      );
    }
    if (e.status < 200 || e.status >= 300) return;
    writes++;
    if (typeof e.requestId === "string" && !ids.includes(e.requestId)) ids.push(e.requestId);
    const time = typeof e.time === "string" ? Date.parse(e.time) : NaN;
    if (!Number.isNaN(time)) times.push(time);
  });
  if (!writes) {
    throw new InputError(`Cannot read audit log ${file}: it records no successful write`);
  }
  if (!ids.length) {
    throw new InputError(`Cannot read audit log ${file}: its writes carry no request id`);
  }
  if (!times.length) return { ids };
  const iso = (ms: number) => new Date(ms).toISOString();
  return { ids, first: iso(Math.min(...times)), last: iso(Math.max(...times)) };
}

/**
 * Reads the change-log entries of a selection, oldest first.
 *
 * @param transport the client
 * @param selection request ids, or a time window and user
 * @param options a stop signal
 * @returns the entries in the order NetBox made them
 * @throws {InputError} for a bad selection, a request id with no entry, or an empty window
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { readChanges } from "./changes.ts";
 * import type { Transport } from "../client/types.ts";
 * const entry = {
 *   id: 1, time: "2026-12-07T18:30:00Z", user_name: "admin", request_id: "4f1c0f6e-2b0a-4c55-9d4e-6b7f3f1d2a10",
 *   action: { value: "create" }, changed_object_type: "dcim.site", changed_object_id: 7,
 *   prechange_data: null, postchange_data: { name: "Lab" },
 * };
 * const transport = {
 *   strictFilters: false, concurrency: 1, pageSize: 100, memoryBudget: 1e6,
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: () => Promise.resolve({ count: 1, next: null, results: [entry] }),
 * } as unknown as Transport;
 * const [change] = await readChanges(transport, { requestIds: [entry.request_id] });
 * equal(change.action, "create");
 * ```
 */
export async function readChanges(
  transport: Transport,
  selection: RevertSelection,
  options: ReadChangesOptions = {},
): Promise<LoggedChange[]> {
  checkSelection(selection);
  const endpoint = createEndpoint(transport, "core/object-changes/");
  const filters: Filters = {};
  const ids = selection.requestIds ?? [];
  if (selection.since !== undefined) {
    filters.time_after = selection.since;
    if (selection.until !== undefined) filters.time_before = selection.until;
    filters.user_name = selection.user!;
  }
  if (selection.model !== undefined) filters.changed_object_type = selection.model;
  const rows: Record<string, unknown>[] = [];
  if (ids.length) {
    let open = [...ids];
    if (options.window && ids.length > 1) {
      const around = await endpoint.all({
        ...filters,
        time_after: options.window.since,
        time_before: options.window.until,
      }, { signal: options.signal });
      const wanted = new Set(ids);
      rows.push(...around.filter((r) => wanted.has(String(r.request_id))));
      open = ids.filter((id) => !rows.some((r) => r.request_id === id));
    }
    // NetBox's request_id filter takes one value (a second one is ignored): one listing per id.
    for (let i = 0; i < open.length; i += transport.concurrency) {
      const pages = await Promise.all(
        open.slice(i, i + transport.concurrency).map((id) =>
          endpoint.all({ ...filters, request_id: id }, { signal: options.signal })
        ),
      );
      rows.push(...pages.flat());
    }
  } else {
    rows.push(...await endpoint.all(filters, { signal: options.signal }));
  }
  const changes = rows.map(toChange).sort((a, b) => a.id - b.id);
  const missing = ids.filter((id) => !changes.some((c) => c.request_id === id));
  if (missing.length) {
    throw new InputError(
      `Cannot revert: NetBox's change log has no change with request id ${missing[0]}` +
        (missing.length > 1 ? ` (nor ${missing.length - 1} more)` : "") +
        (selection.model ? ` of model ${selection.model}` : ""),
    );
  }
  if (!changes.length) {
    throw new InputError(
      `Cannot revert: NetBox's change log has no change by ${selection.user} between ` +
        `${selection.since} and ${selection.until ?? "now"}` +
        (selection.model ? ` of model ${selection.model}` : ""),
    );
  }
  return changes;
}

function toChange(row: Record<string, unknown>): LoggedChange {
  const action = row.action as { value?: string } | string;
  return {
    id: row.id as number,
    time: String(row.time),
    user_name: String(row.user_name ?? ""),
    request_id: String(row.request_id),
    action: (typeof action === "string" ? action : action?.value) as LoggedChange["action"],
    model: String(row.changed_object_type),
    object_id: row.changed_object_id as number,
    prechange: (row.prechange_data ?? null) as Record<string, unknown> | null,
    postchange: (row.postchange_data ?? null) as Record<string, unknown> | null,
  };
}
