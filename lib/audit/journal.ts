/**
 * Notify in NetBox itself: each finding becomes a journal entry on its object
 * (`/api/extras/journal-entries/`, kind `danger` for errors, `warning` for warnings, `info`
 * otherwise), idempotently: the entry's comments start with a marker naming the finding's
 * stable key, and an object that already has an entry with that marker gets no second one.
 *
 * @module
 */

import { mayHaveActed } from "../client/errors.ts";
import { seconds } from "../base/duration.ts";
import { settle } from "../client/settle.ts";
import type { Endpoint, NetBoxClient, NetBoxObject } from "../client/types.ts";
import type { Finding } from "./model.ts";
import { atLeast, type Severity } from "./rules.ts";

/** What happened for one finding. */
export interface JournalOutcome {
  /** The finding's stable key. */
  key: string;
  /** The object's type. */
  object_type: string;
  /** The object's id. */
  object_id: number;
  /**
   * `created`, `exists` (an entry with the marker was there), `planned` (dry run: would be
   * created), `failed`, or `unknown` (NetBox did not answer and the entry was not there after
   * reading back for the client's settle window: it may still land).
   */
  status: "created" | "exists" | "planned" | "failed" | "unknown";
  /** The journal entry's id (created or found). */
  id?: number;
  /** Why it failed. */
  message?: string;
}

/** Options of {@linkcode journalFindings}. */
export interface JournalOptions {
  /** Only findings at or above this severity. @default {"error"} */
  minSeverity?: Severity;
  /** Read only: report what would be written (`planned`), write nothing. @default {false} */
  dryRun?: boolean;
  /** Aborts the requests. */
  signal?: AbortSignal;
}

const KIND: Record<Severity, string> = { error: "danger", warning: "warning", info: "info" };
const PATH = "extras/journal-entries/";

/**
 * The marker that starts a finding's journal entry (and makes writing it idempotent).
 *
 * @param f The finding.
 * @returns `[netbox-toolkit audit-ips rule:object_type:object_id]`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { journalMarker } from "./journal.ts";
 * assert(journalMarker({ rule: "duplicate-address", object_type: "ipam.ipaddress", object_id: 7 }) ===
 *   "[netbox-toolkit audit-ips duplicate-address:ipam.ipaddress:7]");
 * ```
 */
export function journalMarker(f: { rule: string; object_type: string; object_id: number }): string {
  return `[netbox-toolkit audit-ips ${f.rule}:${f.object_type}:${f.object_id}]`;
}

/**
 * Writes one journal entry per finding (at or above `minSeverity`) on the finding's object,
 * unless the object already has an entry with the finding's marker. Pass the findings to
 * notify about — typically the new ones of a state comparison.
 *
 * @param client The client (write-enabled token for the creates).
 * @param findings The findings.
 * @param options Minimum severity and signal.
 * @returns One outcome per finding notified about.
 *
 * @example An entry that exists already is not written again
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { journalFindings } from "./journal.ts";
 * const posts: unknown[] = [];
 * const fetch = async (input: string | URL | Request, init?: RequestInit) => {
 *   const req = new Request(input, init);
 *   const url = new URL(req.url);
 *   if (url.pathname === "/api/status/") return Response.json({ "netbox-version": "4.7.3" });
 *   if (req.method === "POST") {
 *     posts.push(await req.json());
 *     return Response.json([{ id: 99 }], { status: 201 });
 *   }
 *   const results = [{ id: 5, assigned_object_type: "ipam.ipaddress", assigned_object_id: 7,
 *     comments: "[netbox-toolkit audit-ips duplicate-address:ipam.ipaddress:7] error: …" }];
 *   return Response.json({ count: 1, next: null, results });
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const finding = (id: number) => ({ rule: "duplicate-address", severity: "error" as const,
 *   object_type: "ipam.ipaddress", object_id: id, address: "10.0.0.5/24", vrf: null, url: null,
 *   message: "10.0.0.5/24 is recorded 2 times", related: [] });
 * const outcomes = await journalFindings(client, [finding(7), finding(8)]);
 * assert(outcomes[0].status === "exists" && outcomes[0].id === 5);
 * assert(outcomes[1].status === "created" && posts.length === 1);
 * client.close();
 * ```
 */
export async function journalFindings(
  client: Pick<NetBoxClient, "endpoint" | "settleMs" | "clock">,
  findings: readonly Finding[],
  options: JournalOptions = {},
): Promise<JournalOutcome[]> {
  const min = options.minSeverity ?? "error";
  const todo = dedupe(findings.filter((f) => atLeast(f.severity, min)));
  if (!todo.length) return [];
  const ep = client.endpoint(PATH);
  const existing = await markedEntries(ep, todo, options.signal);
  const outcomes: JournalOutcome[] = [];
  const create: { f: Finding; outcome: JournalOutcome }[] = [];
  for (const f of todo) {
    const key = `${f.rule}:${f.object_type}:${f.object_id}`;
    const outcome: JournalOutcome = {
      key,
      object_type: f.object_type,
      object_id: f.object_id,
      status: "exists",
    };
    outcomes.push(outcome);
    const found = existing.get(key);
    if (found !== undefined) outcome.id = found;
    else create.push({ f, outcome });
  }
  if (options.dryRun) {
    for (const { outcome } of create) outcome.status = "planned";
  } else if (create.length) {
    const result = await ep.create(
      create.map(({ f }) => ({
        assigned_object_type: f.object_type,
        assigned_object_id: f.object_id,
        kind: KIND[f.severity] ?? "info",
        comments: `${journalMarker(f)} ${f.severity}: ${f.message}`,
      })),
      { signal: options.signal },
    );
    const lost: { f: Finding; outcome: JournalOutcome }[] = [];
    for (const item of result.items) {
      const { outcome } = create[item.index];
      if (item.ok) {
        outcome.status = "created";
        outcome.id = item.value.id;
      } else {
        outcome.status = "failed";
        outcome.message = Object.entries(item.messages).map(([k, v]) => `${k}: ${v.join(" ")}`)
          .join("; ") || item.error.message;
        if (mayHaveActed(item.error)) lost.push(create[item.index]);
      }
    }
    await readBackLost(client, ep, lost, options.signal);
  }
  return outcomes;
}

/**
 * Entries whose answer was lost (NetBox may have made them, or may still make them): looked up by
 * their marker until all are there or the client's settle window has passed. There: `created`;
 * not there: `unknown` (it may still land; a re-run finds it by its marker or writes it).
 */
async function readBackLost(
  client: Pick<NetBoxClient, "settleMs" | "clock">,
  ep: Endpoint,
  lost: { f: Finding; outcome: JournalOutcome }[],
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!lost.length) return;
  let found: Map<string, number> | undefined;
  let waitedMs = 0;
  try {
    const r = await settle(
      client,
      () => markedEntries(ep, lost.map((l) => l.f), signal),
      (m) => lost.every((l) => m.has(l.outcome.key)),
    );
    found = r.value;
    waitedMs = r.waitedMs;
  } catch {
    found = undefined;
  }
  for (const { outcome } of lost) {
    const id = found?.get(outcome.key);
    if (id !== undefined) {
      outcome.status = "created";
      outcome.id = id;
      outcome.message = `NetBox's answer was lost (${outcome.message}); confirmed by reading back`;
    } else {
      outcome.status = "unknown";
      outcome.message = found
        ? `NetBox did not answer (${outcome.message}) and may still be writing it: not there ` +
          `after reading back for ${seconds(waitedMs)}`
        : `NetBox's answer was lost (${outcome.message}) and it could not be read back`;
    }
  }
}

/** The journal entries carrying this toolkit's marker on the findings' objects, by marker key. */
async function markedEntries(
  ep: Endpoint,
  findings: readonly Finding[],
  signal: AbortSignal | undefined,
): Promise<Map<string, number>> {
  const existing = new Map<string, number>();
  for (const type of [...new Set(findings.map((f) => f.object_type))]) {
    const ids = [
      ...new Set(findings.filter((f) => f.object_type === type).map((f) => f.object_id)),
    ];
    for (let i = 0; i < ids.length; i += 100) {
      const rows: NetBoxObject[] = await ep.all(
        { assigned_object_type: type, assigned_object_id: ids.slice(i, i + 100) },
        { fields: ["id", "assigned_object_type", "assigned_object_id", "comments"], signal },
      );
      for (const row of rows) {
        const comments = String(row["comments"] ?? "");
        const m = comments.match(/^\[netbox-toolkit audit-ips ([^\]\s]+)\]/);
        if (m && !existing.has(m[1])) existing.set(m[1], row.id);
      }
    }
  }
  return existing;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}:${f.object_type}:${f.object_id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
