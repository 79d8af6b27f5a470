/**
 * Reviewed plans: a bulk-import plan saved as one JSON document, reviewed (in a pull request),
 * then applied exactly — what Terraform does with `plan -out` and `apply plan`.
 *
 * {@linkcode savePlan} records the NetBox the plan was made for (URL and version, never the
 * token), the import's options, and every write: creates (with the input entry and the body),
 * updates (the changed fields and the object's ETag as read), deletes (natural key, why, ETag).
 * {@linkcode applySavedPlan} writes exactly those writes, never planning anything again: it
 * refuses a plan made for another NetBox, and each object changed since the plan was made (an
 * update is sent with `If-Match` on NetBox 4.6+, after a `last_updated` check before; a delete
 * goes only if `last_updated` still matches just before it; a create only if nothing with its
 * natural key exists now). Those are reported `failed` with `changed`; the rest still goes.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import { etagOf } from "../client/etag.ts";
import type { NetBoxClient, NetBoxObject } from "../client/types.ts";
import type { ApplyResult } from "./apply.ts";
import { checkDeleteLimit } from "./plan_checks.ts";
import { applyImport, clientBackend } from "./import.ts";
import { buildPlan, type ImportPlan, NewRef, type PlanItem, type PlanOptions } from "./plan.ts";
import type { ImportReport } from "./report.ts";
import { lookupModel } from "./models.ts";
import { savedPlanProblem } from "./_saved_plan_check.ts";

/** The `kind` of a saved plan document. */
export const SAVED_PLAN_KIND = "netbox-toolkit/bulk-import-plan" as const;

/** The version of the document format this module writes and reads. */
export const SAVED_PLAN_FORMAT = 1;

/** One write of a saved plan. */
export interface SavedWrite {
  /** The item's number in the plan (what `deps` and `refs` name). */
  uid: number;
  /** `unchanged`: the object itself is as the input says; only `deferred` fields are written. */
  action: "create" | "update" | "delete" | "unchanged";
  /** The model (`dcim.devices`). */
  model: string;
  /** A readable name. */
  label: string;
  /** The object's id (update, delete, unchanged). */
  id?: number;
  /** The object's ETag as read when planning (`W/"<last_updated in UTC>"`). */
  etag?: string;
  /** Delete: the object's natural key as text. */
  key?: string;
  /** Delete: `absent` (`_state: absent`) or `prune`. */
  reason?: "absent" | "prune";
  /** Delete: the scope tag the object must still carry. */
  require_tag?: string;
  /** Where the entry is in the input. */
  source?: { file: string; line: number; column: number };
  /** The entry as written in the input. */
  input?: Record<string, unknown>;
  /** Create: every field; update: the changed fields (objects created earlier as `new:<label>`). */
  body: Record<string, unknown>;
  /** Update: each changed field with its old and new value. */
  changes?: { field: string; old: string; new: string }[];
  /** Fields written in a second pass (primary IPs). */
  deferred?: Record<string, unknown>;
  /** Fields of `body` naming objects created earlier: the create's uid (one per list item). */
  refs?: Record<string, number | (number | null)[]>;
  /** The same for `deferred`. */
  deferred_refs?: Record<string, number | (number | null)[]>;
  /** Creates `body` needs first. */
  deps?: number[];
  /** Creates `deferred` needs first. */
  deferred_deps?: number[];
  /** Delete: objects NetBox would delete along with it, as planned. */
  blockers?: { model?: string; name: string; id: number }[];
}

/** A saved plan, as {@linkcode savePlan} makes it and `--plan-out` writes it. */
export interface SavedPlan {
  /** Always `netbox-toolkit/bulk-import-plan` ({@linkcode SAVED_PLAN_KIND}). */
  kind: "netbox-toolkit/bulk-import-plan";
  /** Always {@linkcode SAVED_PLAN_FORMAT}. */
  format_version: number;
  /** When the plan was made (ISO 8601). */
  created_at: string;
  /** The NetBox it was made for: base URL, version, NetBox Branching branch (or null). */
  netbox: { url: string; version: string; branch: string | null };
  /** The import's options. */
  options: {
    mode: "upsert" | "create-only" | "update-only";
    match_on: Record<string, string[]>;
    create_missing_tags: boolean;
    scope_tag: string | null;
    prune: boolean;
  };
  /** The input files the plan was made from. */
  inputs: string[];
  /** How many creates, updates and deletes. */
  summary: { create: number; update: number; delete: number };
  /** Every write, in write (dependency) order; deletes are made last, in reverse order. */
  writes: SavedWrite[];
}

/**
 * A file that is not a saved plan this toolkit reads (not JSON, wrong shape, unknown model, a
 * newer format): nothing was sent (exit code 2).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { SavedPlanError } from "./saved_plan.ts";
 * const err = new SavedPlanError("plan.json", "not JSON");
 * assert(err.exitCode === 2 && err.message === "Cannot read plan plan.json: not JSON");
 * ```
 */
export class SavedPlanError extends InputError {
  /** Creates the error. */
  constructor(file: string, reason: string) {
    super(`Cannot read plan ${file}: ${reason}`);
  }
}

/** Options of {@linkcode savePlan}. */
export interface SavePlanOptions {
  /** The input files, recorded in the plan. @default {[]} */
  inputs?: string[];
  /** The time recorded as `created_at`. @default {new Date()} */
  now?: Date;
}

type Refs = Record<string, number | (number | null)[]>;

/** `body` as JSON (objects created earlier as `new:<label>`) and where its new-object refs are. */
function encode(values: Record<string, unknown>): { values: Record<string, unknown>; refs: Refs } {
  const refs: Refs = {};
  for (const [k, v] of Object.entries(values)) {
    if (v instanceof NewRef) refs[k] = v.uid;
    else if (Array.isArray(v) && v.some((x) => x instanceof NewRef)) {
      refs[k] = v.map((x) => x instanceof NewRef ? x.uid : null);
    } else if (Array.isArray(v)) {
      // Mappings holding new objects (a cable's `a_terminations[].object_id`, a front port's
      // `rear_ports[].rear_port`): the uid per item under `field.key`.
      const keys = new Set(
        v.flatMap((x) =>
          typeof x === "object" && x !== null
            ? Object.keys(x).filter((sub) => x[sub] instanceof NewRef)
            : []
        ),
      );
      for (const sub of keys) {
        refs[`${k}.${sub}`] = v.map((x) => x?.[sub] instanceof NewRef ? x[sub].uid : null);
      }
    } else if (typeof v === "object" && v !== null) {
      // A mapping holding new objects (object custom field values): the uid under `field/key`.
      for (const [sub, x] of Object.entries(v)) {
        if (x instanceof NewRef) refs[`${k}/${sub}`] = x.uid;
        else if (Array.isArray(x) && x.some((y) => y instanceof NewRef)) {
          refs[`${k}/${sub}`] = x.map((y) => y instanceof NewRef ? y.uid : null);
        }
      }
    }
  }
  return { values: JSON.parse(JSON.stringify(values)), refs };
}

function decode(
  values: Record<string, unknown>,
  refs: Refs | undefined,
  labels: Map<number, string>,
): Record<string, unknown> {
  const out = { ...values };
  const ref = (uid: number) => new NewRef(uid, labels.get(uid) ?? `#${uid}`);
  for (const [k, r] of Object.entries(refs ?? {})) {
    if (k.includes("/")) {
      const [base, sub] = k.split("/");
      const m = { ...(out[base] as Record<string, unknown>) };
      m[sub] = typeof r === "number"
        ? ref(r)
        : (m[sub] as unknown[]).map((v, i) => r[i] === null ? v : ref(r[i] as number));
      out[base] = m;
      continue;
    }
    const [base, sub] = k.split(".");
    if (typeof r === "number") out[k] = ref(r);
    else if (sub) {
      out[base] = (out[base] as Record<string, unknown>[]).map((v, i) =>
        r[i] === null ? v : { ...v, [sub]: ref(r[i] as number) }
      );
    } else out[k] = (out[k] as unknown[]).map((v, i) => r[i] === null ? v : ref(r[i] as number));
  }
  return out;
}

/** `id` → `last_updated` ETag of objects of one model, read now (100 ids a request). */
async function etagsOf(
  client: NetBoxClient,
  path: string,
  ids: number[],
): Promise<Map<number, string | undefined>> {
  const out = new Map<number, string | undefined>();
  for (let n = 0; n < ids.length; n += 100) {
    const some = ids.slice(n, n + 100);
    const found = await client.endpoint(path).all({ id: some }, { fields: ["id", "last_updated"] });
    for (const o of found) out.set(o.id, etagOf(o as NetBoxObject));
  }
  return out;
}

/** The items of a plan that write and have no ETag from planning (deletes, primary IPs only). */
function needEtag(item: PlanItem): boolean {
  return item.id !== undefined && item.etag === undefined &&
    (item.action === "delete" || isDeferredOnly(item));
}

function isDeferredOnly(item: PlanItem): boolean {
  return (item.action === "unchanged" ||
    (item.action === "update" && !Object.keys(item.body).length)) &&
    Object.keys(item.deferred).length > 0;
}

/**
 * Saves a plan for review: the document `--plan-out` writes. Reads NetBox's version and, for the
 * deletes (and objects whose only change is a primary IP), their `last_updated`; writes nothing.
 *
 * @param client the client the plan was made with
 * @param plan the plan from `planImport`
 * @param options the input files, the time
 * @returns the document (`JSON.stringify` it); invalid entries are not in it
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { savePlan } from "./saved_plan.ts";
 * const fetch = () => Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const saved = await savePlan(client, { items: [], problems: [] });
 * assert(saved.netbox.url === "https://nb.example" && saved.netbox.version === "4.7.3");
 * assert(!JSON.stringify(saved).includes("secret"));
 * ```
 */
export async function savePlan(
  client: NetBoxClient,
  plan: ImportPlan,
  options: SavePlanOptions = {},
): Promise<SavedPlan> {
  const { inputs = [], now = new Date() } = options;
  const status = await client.status();
  const items = plan.items.filter((i) =>
    i.action === "create" || i.action === "update" || i.action === "delete" ||
    (i.action === "unchanged" && Object.keys(i.deferred).length > 0)
  );
  const read = new Map<string, Map<number, string | undefined>>();
  for (const path of new Set(items.filter(needEtag).map((i) => i.model.path))) {
    const ids = items.filter((i) => needEtag(i) && i.model.path === path).map((i) => i.id!);
    read.set(path, await etagsOf(client, path, ids));
  }
  const writes = items.map((item): SavedWrite => {
    const body = encode(item.body);
    const deferred = encode(item.deferred);
    const etag = item.etag ?? read.get(item.model.path)?.get(item.id!);
    const loc = item.entry.loc;
    return {
      uid: item.uid,
      action: item.action as SavedWrite["action"],
      model: item.model.key,
      label: item.label,
      ...(item.id !== undefined ? { id: item.id } : {}),
      ...(etag !== undefined ? { etag } : {}),
      ...(item.key !== undefined ? { key: item.key } : {}),
      ...(item.reason !== undefined ? { reason: item.reason } : {}),
      ...(item.requireTag !== undefined ? { require_tag: item.requireTag } : {}),
      ...(item.reason === "prune"
        ? {}
        : { source: { ...loc }, input: JSON.parse(JSON.stringify(item.entry.data)) }),
      body: body.values,
      ...(Object.keys(body.refs).length ? { refs: body.refs } : {}),
      ...(item.changes.length ? { changes: item.changes } : {}),
      ...(Object.keys(item.deferred).length ? { deferred: deferred.values } : {}),
      ...(Object.keys(deferred.refs).length ? { deferred_refs: deferred.refs } : {}),
      ...(item.deps.size ? { deps: [...item.deps] } : {}),
      ...(item.deferredDeps.size ? { deferred_deps: [...item.deferredDeps] } : {}),
      ...(item.blockers?.length ? { blockers: item.blockers } : {}),
    };
  });
  const o = plan.options ?? {};
  return {
    kind: SAVED_PLAN_KIND,
    format_version: SAVED_PLAN_FORMAT,
    created_at: now.toISOString(),
    netbox: { url: client.baseUrl, version: status.version, branch: client.branchName ?? null },
    options: {
      mode: o.mode ?? "upsert",
      match_on: o.matchOn ?? {},
      create_missing_tags: !!o.createMissingTags,
      scope_tag: o.scopeTag ?? null,
      prune: !!o.prune,
    },
    inputs,
    summary: {
      create: writes.filter((w) => w.action === "create").length,
      update: writes.filter((w) => w.action === "update" || w.action === "unchanged").length,
      delete: writes.filter((w) => w.action === "delete").length,
    },
    writes,
  };
}

/**
 * Reads a saved plan, checking its shape.
 *
 * @param text the document
 * @param file its name, for the message
 * @returns the plan
 * @throws {SavedPlanError} when it is not JSON or not a saved plan this toolkit reads, naming
 *   the first problem (exit code 2)
 *
 * @example
 * ```ts
 * import { ok as assert, throws } from "node:assert/strict";
 * import { parseSavedPlan, SavedPlanError } from "./saved_plan.ts";
 * throws(() => parseSavedPlan("{", "plan.json"), SavedPlanError);
 * throws(() => parseSavedPlan('{"kind": "x"}', "plan.json"), /not a bulk-import plan/);
 * ```
 */
export function parseSavedPlan(text: string, file = "<plan>"): SavedPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SavedPlanError(file, `not JSON (${(err as Error).message})`);
  }
  const problem = savedPlanProblem(doc, SAVED_PLAN_KIND, SAVED_PLAN_FORMAT);
  if (problem) throw new SavedPlanError(file, problem);
  return doc as SavedPlan;
}

/**
 * The import plan a saved plan describes, as {@linkcode applyImport} writes it.
 *
 * @param saved the saved plan (from {@linkcode parseSavedPlan})
 * @returns the plan: its writes only, with their uids, ETags and dependencies
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseSavedPlan, planOfSaved } from "./saved_plan.ts";
 * const saved = parseSavedPlan(JSON.stringify({
 *   kind: "netbox-toolkit/bulk-import-plan", format_version: 1, created_at: "",
 *   netbox: { url: "https://nb.example", version: "4.7.3", branch: null },
 *   options: { mode: "upsert", match_on: {}, create_missing_tags: false, scope_tag: null, prune: false },
 *   inputs: [], summary: { create: 0, update: 0, delete: 1 },
 *   writes: [{ uid: 1, action: "delete", model: "dcim.sites", label: "a", id: 7, body: {} }],
 * }));
 * assert(planOfSaved(saved).items[0].model.path === "dcim/sites/");
 * ```
 */
export function planOfSaved(saved: SavedPlan): ImportPlan {
  const labels = new Map(saved.writes.map((w) => [w.uid, w.label]));
  const items = saved.writes.map((w): PlanItem => ({
    uid: w.uid,
    model: modelOf(w.model),
    entry: {
      loc: w.source ?? { file: "", line: 0, column: 0 },
      data: w.input ?? {},
      locs: {},
    },
    label: w.label,
    action: w.action,
    ...(w.reason !== undefined ? { reason: w.reason } : {}),
    ...(w.key !== undefined ? { key: w.key } : {}),
    ...(w.require_tag !== undefined ? { requireTag: w.require_tag } : {}),
    ...(w.blockers ? { blockers: w.blockers } : {}),
    ...(w.etag !== undefined ? { etag: w.etag } : {}),
    ...(w.id !== undefined ? { id: w.id } : {}),
    body: decode(w.body, w.refs, labels),
    deferred: decode(w.deferred ?? {}, w.deferred_refs, labels),
    changes: w.changes ?? [],
    problems: [],
    deps: new Set(w.deps ?? []),
    deferredDeps: new Set(w.deferred_deps ?? []),
  }));
  return { items, problems: [], options: optionsOf(saved) };
}

function modelOf(key: string) {
  const m = lookupModel(key);
  if (!m) throw new RangeError(`Cannot use saved plan: unknown model "${key}"`);
  return m;
}

function optionsOf(saved: SavedPlan): PlanOptions {
  const o = saved.options;
  return {
    mode: o.mode,
    matchOn: o.match_on,
    createMissingTags: o.create_missing_tags,
    ...(o.scope_tag !== null ? { scopeTag: o.scope_tag } : {}),
    ...(o.prune ? { prune: true } : {}),
  };
}

/**
 * A saved plan was made for another NetBox (URL, version or branch): nothing was written
 * (exit code 2).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { PlanTargetError } from "./saved_plan.ts";
 * assert(new PlanTargetError("Cannot apply plan.json: made for another NetBox").exitCode === 2);
 * ```
 */
export class PlanTargetError extends InputError {}

/**
 * A NetBox base URL as compared: scheme, host (lower case, without the default port) and path,
 * without a trailing slash or `/api`.
 *
 * @param url e.g. `HTTPS://NetBox.example:443/api/`
 * @returns e.g. `https://netbox.example`
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { normalizeNetBoxUrl } from "./saved_plan.ts";
 * assert(normalizeNetBoxUrl("HTTPS://NetBox.example:443/api/") === "https://netbox.example");
 * assert(normalizeNetBoxUrl("http://nb:8080/netbox/") === "http://nb:8080/netbox");
 * ```
 */
export function normalizeNetBoxUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return url.trim();
  }
  const path = u.pathname.replace(/\/+$/, "").replace(/\/api$/i, "");
  return `${u.protocol}//${u.host}${path}`;
}

/**
 * Refuses a saved plan made for another NetBox than the client's: another URL (compared
 * normalized), another version, or another NetBox Branching branch.
 *
 * @param client the client that would apply it
 * @param saved the saved plan
 * @param file the plan's name, for the message
 * @throws {PlanTargetError} naming both (exit code 2); nothing is written
 *
 * @example Another URL is refused before anything is asked
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { checkPlanTarget, parseSavedPlan } from "./saved_plan.ts";
 * const plan = parseSavedPlan(JSON.stringify({
 *   kind: "netbox-toolkit/bulk-import-plan", format_version: 1,
 *   netbox: { url: "https://nb.example", version: "4.7.3", branch: null },
 *   options: { mode: "upsert", match_on: {}, create_missing_tags: false, scope_tag: null, prune: false },
 *   writes: [],
 * }));
 * const client = createClient({ url: "https://other.example", token: "nbt_abcdefghijkl.secret" });
 * await rejects(checkPlanTarget(client, plan, "plan.json"), /made for the NetBox at https:\/\/nb\.example/);
 * ```
 */
export async function checkPlanTarget(
  client: NetBoxClient,
  saved: SavedPlan,
  file = "the plan",
): Promise<void> {
  const again = "; make a new plan against this NetBox (--dry-run --plan-out)";
  const want = normalizeNetBoxUrl(saved.netbox.url);
  const have = normalizeNetBoxUrl(client.baseUrl);
  if (want !== have) {
    throw new PlanTargetError(
      `Cannot apply ${file}: it was made for the NetBox at ${want}, not ${have}${again}`,
    );
  }
  const branch = client.branchName ?? null;
  if (branch !== saved.netbox.branch) {
    const name = (b: string | null) => b === null ? "main (no --branch)" : `branch ${b}`;
    throw new PlanTargetError(
      `Cannot apply ${file}: it was made for ${name(saved.netbox.branch)}, not ${name(branch)}`,
    );
  }
  const version = (await client.status()).version;
  if (version !== saved.netbox.version) {
    throw new PlanTargetError(
      `Cannot apply ${file}: it was made for NetBox ${saved.netbox.version}, and ${have} runs ` +
        `${version} now${again}`,
    );
  }
}

/**
 * A saved plan as a plan to show (a dry run of `--apply-plan`), once it is known to be for this
 * NetBox.
 *
 * @param client the client
 * @param saved the saved plan
 * @param file its name, for messages
 * @returns its writes as a plan
 * @throws {PlanTargetError} when the plan was made for another NetBox, branch or version
 *
 * @example
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { parseSavedPlan, reviewSavedPlan } from "./saved_plan.ts";
 * const plan = parseSavedPlan(JSON.stringify({
 *   kind: "netbox-toolkit/bulk-import-plan", format_version: 1,
 *   netbox: { url: "https://nb.example", version: "4.7.3", branch: null },
 *   options: { mode: "upsert", match_on: {}, create_missing_tags: false, scope_tag: null, prune: false },
 *   writes: [],
 * }));
 * const client = createClient({ url: "https://other.example", token: "nbt_abcdefghijkl.secret" });
 * await rejects(reviewSavedPlan(client, plan, "plan.json"), /made for the NetBox at/);
 * ```
 */
export async function reviewSavedPlan(
  client: NetBoxClient,
  saved: SavedPlan,
  file = "the plan",
): Promise<ImportPlan> {
  await checkPlanTarget(client, saved, file);
  return planOfSaved(saved);
}

/** Options of {@linkcode applySavedPlan}. */
export interface ApplySavedPlanOptions {
  /** Objects per bulk request. @default {200} */
  chunkSize?: number;
  /** The most objects the plan may delete, else `DeleteLimitError`. @default {Infinity} */
  maxDeletes?: number;
  /** Called after each bulk chunk with (items written, items to write). */
  onProgress?: (done: number, total: number) => void;
  /** Stops gracefully (see `applyImport`). */
  stop?: AbortSignal;
  /** The plan's name in messages. @default {"the plan"} */
  file?: string;
}

/**
 * Applies a saved plan: exactly its writes, each only if its object is as it was when the plan
 * was made. Refuses the whole plan when it was made for another NetBox, or deletes more than
 * `maxDeletes`; an object changed since is reported `failed` with `changed` (and what depends
 * on it is not sent), the rest still goes. Nothing is planned again.
 *
 * @param client the client (the NetBox the plan was made for)
 * @param saved the saved plan (from {@linkcode parseSavedPlan})
 * @param options chunk size, delete limit, progress, stop
 * @returns the report, as `applyImport` gives it
 * @throws {PlanTargetError} when the plan was made for another NetBox (exit code 2)
 * @throws {DeleteLimitError} when it deletes more than `maxDeletes` objects (exit code 2)
 *
 * @example After review: apply the saved plan
 * ```ts ignore
 * import { applySavedPlan, clientFromEnv, parseSavedPlan } from "../../mod.ts";
 * const client = clientFromEnv();
 * const saved = parseSavedPlan(await Deno.readTextFile("plan.json"), "plan.json");
 * const report = await applySavedPlan(client, saved, { maxDeletes: 10 });
 * if (report.summary.changed) console.error("some objects changed since the review: plan again");
 * ```
 */
export async function applySavedPlan(
  client: NetBoxClient,
  saved: SavedPlan,
  options: ApplySavedPlanOptions = {},
): Promise<ImportReport> {
  await checkPlanTarget(client, saved, options.file);
  const plan = planOfSaved(saved);
  checkDeleteLimit(plan, options.maxDeletes);
  const refused: ApplyResult = new Map();
  await refuseStaleCreates(client, plan, refused);
  await refuseStaleDeferred(client, plan, refused);
  return await applyImport(client, plan, {
    chunkSize: options.chunkSize,
    onProgress: options.onProgress,
    stop: options.stop,
    maxDeletes: options.maxDeletes,
    skipInvalid: true,
    // Exactly what was reviewed: an update whose object changed stays refused.
    replanChanged: false,
    refused,
  });
}

/** Creates whose natural key exists now (or that cannot be planned any more) are refused. */
async function refuseStaleCreates(
  client: NetBoxClient,
  plan: ImportPlan,
  refused: ApplyResult,
): Promise<void> {
  const creates = plan.items.filter((i) => i.action === "create");
  if (!creates.length) return;
  const sections = new Map<
    string,
    { key: string; loc: PlanItem["entry"]["loc"]; entries: PlanItem["entry"][] }
  >();
  for (const item of creates) {
    const s = sections.get(item.model.key) ??
      sections.set(item.model.key, { key: item.model.key, loc: item.entry.loc, entries: [] })
        .get(item.model.key)!;
    s.entries.push(item.entry);
  }
  const now = await buildPlan([...sections.values()], clientBackend(client), {
    ...plan.options,
    prune: false,
  });
  const fresh = new Map(now.items.map((i) => [i.entry, i]));
  for (const item of creates) {
    const f = fresh.get(item.entry);
    if (f?.action === "create") continue;
    refused.set(item.uid, {
      status: "failed",
      changed: true,
      ...(f?.id !== undefined ? { id: f.id } : {}),
      message: f && f.action !== "invalid"
        ? `not created: ${item.model.key} ${item.label} exists now (made by someone else ` +
          "since the plan was made)"
        : `not created: it cannot be planned any more (${
          f?.problems.map((p) => p.message).join("; ") || "not found in a new plan"
        })`,
    });
  }
}

/** Objects whose only change is a second-pass field (primary IP): refused when changed since. */
async function refuseStaleDeferred(
  client: NetBoxClient,
  plan: ImportPlan,
  refused: ApplyResult,
): Promise<void> {
  const items = plan.items.filter((i) => isDeferredOnly(i) && i.id !== undefined && i.etag);
  for (const path of new Set(items.map((i) => i.model.path))) {
    const some = items.filter((i) => i.model.path === path);
    const now = await etagsOf(client, path, some.map((i) => i.id!));
    for (const item of some) {
      if (!now.has(item.id!)) {
        refused.set(item.uid, {
          status: "failed",
          id: item.id,
          message: `not written: object ${item.id} no longer exists`,
        });
      } else if (now.get(item.id!) !== item.etag) {
        refused.set(item.uid, {
          status: "failed",
          id: item.id,
          changed: true,
          message: "not written: changed by someone else since the plan was made",
        });
      }
    }
  }
}
