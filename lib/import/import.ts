/**
 * Importing NetBox objects as two library calls: {@linkcode planImport} reads YAML/JSON/CSV
 * documents and compares them with NetBox (nothing written), {@linkcode applyImport} writes the
 * plan in dependency order with bulk requests. Together they are what `bulk-import` does.
 *
 * @module
 */

import { modelPermissions, permissionRefusal } from "../client/permissions.ts";
import { seconds } from "../base/duration.ts";
import { settle } from "../client/settle.ts";
import type { NetBoxClient } from "../client/types.ts";
import { applyPlan, type ApplyResult } from "./apply.ts";
import { checkDeleteLimit } from "./plan_checks.ts";
import { lookupModel } from "./models.ts";
import { escapeControls } from "../base/safe_text.ts";
import {
  formatFromPath,
  type ImportEntry,
  ImportInputError,
  type ImportProblem,
  type ImportSection,
  type InputFormat,
  parseImport,
} from "./parse.ts";
import {
  buildPlan,
  type FieldMeta,
  type ImportBackend,
  type ImportPlan,
  type PlanItem,
} from "./plan.ts";
import type { PlanOptions } from "./plan.ts";
import { type ImportReport, importReport } from "./report.ts";

/** One input document of an import. */
export interface ImportDocument {
  /** The document's text. */
  text: string;
  /** The name used in problem positions (`file:line:column`). @default {"<input>"} */
  file?: string;
  /** The format. @default by the extension of `file` */
  format?: InputFormat;
  /**
   * CSV only: the model of every row (`dcim.devices`).
   * @default from the file name (`01-dcim.sites.csv` → `dcim.sites`), when it names a model
   */
  model?: string;
}

/**
 * Parses import documents without asking NetBox anything.
 *
 * @param documents the documents
 * @returns their sections (one per top-level key, or per CSV file), with source positions
 * @throws {ImportInputError} listing every problem of every document (exit code 2)
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { readImportDocuments } from "./import.ts";
 * const sections = readImportDocuments([{ text: "sites:\n  - name: matrix\n    slug: matrix\n", format: "yaml" }]);
 * assert(sections[0].key === "sites" && sections[0].entries[0].loc.line === 2);
 * ```
 */
export function readImportDocuments(documents: readonly ImportDocument[]): ImportSection[] {
  const sections: ImportSection[] = [];
  const problems: ImportProblem[] = [];
  for (const doc of documents) {
    const file = doc.file ?? "<input>";
    const format = doc.format ?? formatFromPath(file);
    if (!format) {
      problems.push({
        loc: { file, line: 1, column: 1 },
        message: "unknown format; name the file .yaml/.json/.csv or give its format",
      });
      continue;
    }
    try {
      const model = doc.model ?? (format === "csv" ? modelFromFileName(file) : undefined);
      sections.push(...parseImport(doc.text, { file, format, model }));
    } catch (err) {
      if (err instanceof ImportInputError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length) throw new ImportInputError(problems);
  return sections;
}

/** `inventory/01-dcim.sites.csv` → `dcim.sites`; undefined when the name is no model. */
function modelFromFileName(file: string): string | undefined {
  const base = file.split("/").pop()!.replace(/\.[^.]+$/, "").replace(/^\d+[-_]/, "");
  return lookupModel(base) ? base : undefined;
}

/**
 * The planner's view of NetBox through a client: writable fields from OPTIONS, listings.
 *
 * @param client the client
 * @returns the backend {@linkcode planImport} uses
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { clientBackend } from "./import.ts";
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret" });
 * assert(typeof clientBackend(client).list === "function");
 * ```
 */
export function clientBackend(client: NetBoxClient): ImportBackend {
  return {
    async fields(path) {
      const perms = await modelPermissions(client, path);
      if (!perms) return undefined;
      // NetBox describes the writable fields only to a token that may add (POST) or change (PUT)
      // the model; without either, every field would look unknown.
      if (!perms.add && !perms.change) {
        throw permissionRefusal({ path, action: "add" }, client.tokenVersion);
      }
      return perms.fields as Record<string, FieldMeta>;
    },
    list: (path, filters, fields) => client.endpoint(path).all(filters, { fields }),
    count: (path, filters) => client.endpoint(path).count(filters),
  };
}

/**
 * Plans an import: resolves every reference, matches every entry with NetBox by its natural key
 * and decides create / update (with field diffs) / unchanged / delete / invalid. Reads only.
 *
 * An entry with `_state: absent` deletes the object it matches (nothing when none does: it is
 * absent already); its other fields are ignored. With `scopeTag`, every object created or updated
 * gets that tag, and only objects carrying it are deleted; with `prune` too, the objects carrying
 * it that no entry matches are deleted as well (`reason: "prune"`).
 *
 * @param client the client
 * @param documents the documents, or sections already read by {@linkcode readImportDocuments}
 * @param options mode (`upsert`, `create-only`, `update-only`), natural key overrides, tags,
 *   `scopeTag` and `prune`
 * @returns the plan; `plan.problems` lists invalid entries (file:line positions)
 * @throws {ImportInputError} when a document cannot be parsed (exit code 2)
 * @throws {InputError} when `prune` is set without `scopeTag` (exit code 2)
 *
 * @example Plan, look, then apply
 * ```ts ignore
 * import { applyImport, clientFromEnv, planImport } from "../../mod.ts";
 * const client = clientFromEnv();
 * const text = await Deno.readTextFile("inventory.yaml");
 * const plan = await planImport(client, [{ text, file: "inventory.yaml" }]);
 * for (const item of plan.items) console.log(item.action, item.model.key, item.label);
 * if (plan.problems.length === 0) console.log((await applyImport(client, plan)).summary);
 * ```
 */
export async function planImport(
  client: NetBoxClient,
  documents: readonly ImportDocument[] | readonly ImportSection[],
  options: PlanOptions = {},
): Promise<ImportPlan> {
  const sections = documents.every((d) => "entries" in d)
    ? documents as ImportSection[]
    : readImportDocuments(documents as ImportDocument[]);
  return await buildPlan(sections, clientBackend(client), options);
}

/** Options of {@linkcode applyImport}. */
export interface ApplyImportOptions {
  /** Objects per bulk request. @default {200} */
  chunkSize?: number;
  /** Write the valid entries of a plan that has invalid ones. @default {false} */
  skipInvalid?: boolean;
  /** Called after each bulk chunk with (items written, items to write). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Stops gracefully: no new bulk request after it fires, those in flight finish, and the
   * report lists the entries not sent (`not-sent`); a re-run completes them.
   */
  stop?: AbortSignal;
  /**
   * The most objects the plan may delete (`_state: absent` and prune): a plan with more is
   * refused before anything is written (`DeleteLimitError`, exit code 2).
   * @default {Infinity}
   */
  maxDeletes?: number;
  /**
   * Plan an update NetBox refused (the object changed since it was planned) again and write it
   * once more. `false` for a reviewed plan, which must write exactly what was reviewed: such an
   * update stays `failed` ("changed by someone else"). @default {true}
   */
  replanChanged?: boolean;
  /**
   * Outcomes decided before writing, by plan item uid (a saved plan's entries found stale): those
   * items are not sent, and what depends on them is not sent either.
   */
  refused?: ApplyResult;
}

/**
 * Writes a plan from {@linkcode planImport}: creates and updates in dependency order with bulk
 * requests (a chunk NetBox rejects is split so the good entries still land), then the deferred
 * fields (primary IPs), then the deletes in reverse dependency order (bulk DELETE per model; an
 * object that must carry the scope tag is read again just before and skipped if it no longer
 * does; a delete NetBox refuses because other objects depend on it is reported `blocked` with
 * them, and the others still go). Unchanged entries cost nothing.
 *
 * @param client the client
 * @param plan the plan
 * @param options chunk size, progress, whether to write a plan that has invalid entries
 * @returns the report: per entry what happened (`create`, `update`, `unchanged`, `failed`,
 *   `invalid`, with NetBox's messages) and the counts per model
 * @throws {ImportInputError} when the plan has invalid entries and `skipInvalid` is not set
 *   (nothing is written; exit code 2)
 * @throws {DeleteLimitError} when the plan deletes more than `maxDeletes` objects (nothing is
 *   written; exit code 2)
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { applyImport } from "./import.ts";
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret" });
 * const report = await applyImport(client, { items: [], problems: [] });
 * assert(report.summary.create === 0 && !report.summary.dry_run);
 * ```
 */
export async function applyImport(
  client: NetBoxClient,
  plan: ImportPlan,
  options: ApplyImportOptions = {},
): Promise<ImportReport> {
  if (plan.problems.length && !options.skipInvalid) throw new ImportInputError(plan.problems);
  checkDeleteLimit(plan, options.maxDeletes);
  /**
   * A fresh plan of `items`' entries. `firstPass`: as the first pass writes them, without their
   * second-pass fields (primary IPs), which are not written yet and may name objects still to be
   * created.
   */
  const planOf = async (items: PlanItem[], firstPass = false): Promise<ImportPlan> => {
    const original = new Map<ImportEntry, ImportEntry>();
    const sections = sectionsOf(items, (item) => {
      if (!firstPass) return item.entry;
      const data = { ...item.entry.data };
      for (const field of item.model.deferred ?? []) delete data[field];
      const entry = { ...item.entry, data };
      original.set(entry, item.entry);
      return entry;
    });
    const again = await buildPlan(sections, clientBackend(client), {
      ...plan.options,
      prune: false,
    });
    if (!firstPass) return again;
    return {
      ...again,
      items: again.items.map((i) => ({ ...i, entry: original.get(i.entry) ?? i.entry })),
    };
  };
  const outcome = await applyPlan(plan, client, {
    chunkSize: options.chunkSize,
    onProgress: options.onProgress,
    stop: options.stop,
    refused: options.refused,
    // A lost answer in a round is judged at once (a plan of those entries only), so what
    // depends on a write that landed still goes in this run.
    confirm: (items, result) =>
      reconcile(client, items, result, (some) => planOf(some, true), undefined, options.stop),
  });
  // The lost answers left, and refused updates, are judged on one fresh plan of the same input.
  let fresh: Promise<ImportPlan> | undefined;
  const replan = () => fresh ??= planOf(plan.items);
  await reconcile(client, plan.items, outcome, (some) => planOf(some), replan, options.stop);
  if (options.replanChanged !== false) await replanChanged(client, plan, outcome, options, replan);
  return importReport(plan, outcome);
}

/** Plan items' entries as sections again (one per model), for a re-plan. */
function sectionsOf(
  items: PlanItem[],
  entryOf: (item: PlanItem) => ImportEntry = (item) => item.entry,
): ImportSection[] {
  const sections = new Map<string, ImportSection>();
  for (const item of items) {
    if (item.reason === "prune") continue; // not an entry of the input
    const section = sections.get(item.model.key) ??
      sections.set(item.model.key, { key: item.model.key, loc: item.entry.loc, entries: [] })
        .get(item.model.key)!;
    section.entries.push(entryOf(item));
  }
  return [...sections.values()];
}

/**
 * Updates NetBox refused because someone changed the object after it was planned: plan those
 * entries again against what NetBox holds now and write them once more; a second change leaves
 * them failed ("changed by someone else", the task exits 3).
 */
async function replanChanged(
  client: NetBoxClient,
  plan: ImportPlan,
  outcome: ApplyResult,
  options: ApplyImportOptions,
  replan: () => Promise<ImportPlan>,
): Promise<void> {
  const changed = plan.items.filter((item) => outcome.get(item.uid)?.changed);
  if (!changed.length || options.stop?.aborted) return;
  const again = await replan();
  const now = new Map(again.items.map((item) => [item.entry, item]));
  const redo: PlanItem[] = [];
  for (const item of changed) {
    const fresh = now.get(item.entry);
    if (fresh?.action === "unchanged") {
      outcome.set(item.uid, {
        status: "unchanged",
        id: fresh.id,
        message: "changed by someone else to what the input says",
      });
    } else if (fresh?.action === "update") redo.push(fresh);
  }
  if (!redo.length) return;
  const second = await applyPlan({ items: redo, problems: [] }, client, {
    chunkSize: options.chunkSize,
    stop: options.stop,
  });
  const original = new Map(changed.map((item) => [item.entry, item.uid]));
  for (const item of redo) {
    const o = second.get(item.uid);
    if (!o) continue;
    outcome.set(original.get(item.entry)!, {
      ...o,
      message: o.changed
        ? "changed by someone else since it was read, twice: not written"
        : o.message ?? "written after reading the object again (someone changed it meanwhile)",
    });
  }
}

/**
 * Reads back the entries whose write NetBox may have made although its answer was lost (a
 * timeout, a reset, a gateway's 502/504): the same plan made again shows each as written
 * (unchanged now) or still to write. A write NetBox did not answer may still be running there and
 * land seconds later, so what is not there yet is read back again with pauses until it shows up
 * or the client's settle window has passed (`settle`; a stop cuts the wait short); still not
 * there, it is `unknown` — never "not written", since it may land after the run. NetBox
 * unreadable: `unknown` too.
 */
async function reconcile(
  client: NetBoxClient,
  items: PlanItem[],
  outcome: ApplyResult,
  planOf: (items: PlanItem[]) => Promise<ImportPlan>,
  first?: () => Promise<ImportPlan>,
  stop?: AbortSignal,
) {
  const doubtful = items.filter((item) => outcome.get(item.uid)?.ambiguous);
  if (!doubtful.length) return;
  const now = new Map<ImportEntry, PlanItem | undefined>();
  let unreadable = false;
  const judge = async (subset: PlanItem[], plan: () => Promise<ImportPlan>) => {
    let again: ImportPlan | undefined;
    try {
      again = await plan();
    } catch {
      unreadable = true;
    }
    const found = new Map(again?.items.map((item) => [item.entry, item]));
    for (const item of subset) now.set(item.entry, found.get(item.entry));
  };
  const missing = (item: PlanItem) => {
    const found = now.get(item.entry);
    return found !== undefined && found.action !== "unchanged" && found.action !== "invalid";
  };
  await judge(doubtful, first ?? (() => planOf(doubtful)));
  let waiting = unreadable ? [] : doubtful.filter(missing);
  let waitedMs = 0;
  if (waiting.length) {
    const r = await settle(
      client,
      async () => {
        await judge(waiting, () => planOf(waiting));
        if (unreadable) return 0;
        waiting = waiting.filter(missing);
        return waiting.length;
      },
      (left) => left === 0,
      { signal: stop },
    );
    waitedMs = r.waitedMs;
  }
  for (const item of doubtful) {
    const before = outcome.get(item.uid)!;
    const found = now.get(item.entry);
    if (!found || found.action === "invalid") {
      outcome.set(item.uid, {
        status: "unknown",
        id: before.id,
        message: `NetBox's answer was lost (${before.message}) and it could not be read back: ` +
          `check ${item.model.key} ${item.label}`,
      });
    } else if (found.action === "unchanged") {
      outcome.set(item.uid, {
        status: item.action === "create" ? "created" : "updated",
        id: found.id,
        message: `written (NetBox's answer was lost: ${before.message}; confirmed by reading back${
          waitedMs ? ` within ${seconds(waitedMs)}` : ""
        })`,
      });
    } else {
      outcome.set(item.uid, {
        status: "unknown",
        id: before.id,
        message: `NetBox did not answer (${before.message}) and may still be making the change: ` +
          `not there after reading back for ${seconds(waitedMs)}; check ${item.model.key} ` +
          `${item.label} (a re-run writes it or finds it written)`,
      });
    }
  }
}

/**
 * The entries of an applied import that did not go as planned (`failed`, `unknown`, `blocked`,
 * `skipped`), one line each: `file:line:column: model name: message` (a pruned object by its
 * key and id), control characters shown.
 *
 * @param report the report of {@linkcode applyImport}
 * @returns the lines, each ending in a line feed
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { importFailures } from "./import.ts";
 * assert(importFailures({ summary: {} as never, items: [] }) === "");
 * ```
 */
export function importFailures(report: ImportReport): string {
  return report.items.filter((item) =>
    ["failed", "unknown", "blocked", "skipped"].includes(item.action as string)
  ).map((item) => {
    const where = item.location ?? `${item.reason} (${item.key}, id ${item.id})`;
    return `${escapeControls(`${where}: ${item.model} ${item.name}: ${item.message}`)}\n`;
  }).join("");
}

/**
 * Whether an applied import needs attention: entries failed, invalid, in doubt or skipped.
 *
 * @param report the report of {@linkcode applyImport}
 * @returns true when some entry did not end as planned
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { importNeedsAttention } from "./import.ts";
 * assert(!importNeedsAttention({ summary: { failed: 0, invalid: 0 } as never, items: [] }));
 * ```
 */
export function importNeedsAttention(report: ImportReport): boolean {
  const s = report.summary;
  return !!(s.failed || s.invalid || s.unknown || s.skipped);
}
