/**
 * The shape check of a saved bulk-import plan (`--apply-plan FILE`): the first problem, as one
 * phrase naming where it is (`writes[3].id: expected a positive integer`).
 *
 * @module
 */

import { lookupModel } from "./models.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min = 0) => typeof v === "number" && Number.isInteger(v) && v >= min;
const isStr = (v: unknown) => typeof v === "string";

const ACTIONS = ["create", "update", "delete", "unchanged"];
const MODES = ["upsert", "create-only", "update-only"];

/** A shape problem at a path. */
class Bad {
  constructor(readonly where: string, readonly what: string) {}
}

function need(ok: boolean, where: string, what: string): void {
  if (!ok) throw new Bad(where, what);
}

function optional(o: Obj, key: string, ok: (v: unknown) => boolean, where: string, what: string) {
  if (o[key] !== undefined) need(ok(o[key]), `${where}.${key}`, what);
}

function checkRefs(
  refs: unknown,
  values: Obj,
  creates: Set<number>,
  where: string,
): void {
  if (refs === undefined) return;
  need(isObj(refs), where, "expected an object");
  for (const [field, r] of Object.entries(refs as Obj)) {
    const at = `${where}.${field}`;
    if (field.includes("/")) {
      // `custom_fields/rack`: a key of the mapping field `custom_fields`.
      const [base, sub] = field.split("/");
      const m = values[base];
      need(isObj(m) && sub in m, at, "does not match its field");
      const v = (m as Obj)[sub];
      const uids = Array.isArray(r) ? r : [r];
      need(
        !Array.isArray(r) || (Array.isArray(v) && v.length === r.length),
        at,
        "does not match its field",
      );
      for (const u of uids) need(u === null || creates.has(u as number), at, "names no create");
      continue;
    }
    if (Array.isArray(r)) {
      // `a_terminations.object_id`: one uid per item of the list field `a_terminations`.
      const list = values[field.split(".")[0]];
      need(Array.isArray(list) && list.length === r.length, at, "does not match its field");
      for (const u of r) need(u === null || creates.has(u as number), at, "names no create");
    } else need(creates.has(r as number) && field in values, at, "names no create");
  }
}

function checkWrite(w: unknown, at: string, creates: Set<number>): void {
  need(isObj(w), at, "expected an object");
  const o = w as Obj;
  need(ACTIONS.includes(o.action as string), `${at}.action`, `expected ${ACTIONS.join(", ")}`);
  need(isStr(o.model) && !!lookupModel(o.model as string), `${at}.model`, "unknown model");
  need(isStr(o.label), `${at}.label`, "expected text");
  if (o.action === "create") optional(o, "id", () => false, at, "a create has no id");
  else need(isInt(o.id, 1), `${at}.id`, "expected a positive integer");
  for (const key of ["etag", "key", "require_tag"]) optional(o, key, isStr, at, "expected text");
  optional(o, "reason", (v) => v === "absent" || v === "prune", at, "expected absent or prune");
  optional(
    o,
    "source",
    (v) => isObj(v) && isStr(v.file) && isInt(v.line) && isInt(v.column),
    at,
    "expected {file, line, column}",
  );
  optional(o, "input", isObj, at, "expected an object");
  need(isObj(o.body), `${at}.body`, "expected an object");
  optional(o, "deferred", isObj, at, "expected an object");
  optional(
    o,
    "changes",
    (v) => Array.isArray(v) && v.every((c) => isObj(c) && isStr(c.field)),
    at,
    "expected a list of {field, old, new}",
  );
  for (const key of ["deps", "deferred_deps"]) {
    optional(
      o,
      key,
      (v) => Array.isArray(v) && v.every((u) => creates.has(u as number)),
      at,
      "expected the uids of creates of this plan",
    );
  }
  optional(o, "blockers", Array.isArray, at, "expected a list");
  checkRefs(o.refs, o.body as Obj, creates, `${at}.refs`);
  checkRefs(o.deferred_refs, (o.deferred ?? {}) as Obj, creates, `${at}.deferred_refs`);
}

function check(doc: unknown, kind: string, format: number): void {
  need(isObj(doc), "", "expected a JSON object");
  const d = doc as Obj;
  if (d.kind !== kind) {
    throw new Bad("", `not a bulk-import plan (its "kind" is not "${kind}")`);
  }
  need(isInt(d.format_version, 1), "format_version", "expected a positive integer");
  if ((d.format_version as number) > format) {
    throw new Bad(
      "",
      `format version ${d.format_version} is newer than this toolkit reads (${format}); ` +
        "update the toolkit, or make the plan again with this one",
    );
  }
  need(isObj(d.netbox), "netbox", "expected {url, version, branch}");
  const nb = d.netbox as Obj;
  need(isStr(nb.url) && nb.url !== "", "netbox.url", "expected the NetBox URL");
  need(isStr(nb.version), "netbox.version", "expected the NetBox version");
  need(nb.branch === null || isStr(nb.branch), "netbox.branch", "expected a name or null");
  need(isObj(d.options), "options", "expected an object");
  const op = d.options as Obj;
  need(MODES.includes(op.mode as string), "options.mode", `expected ${MODES.join(", ")}`);
  need(
    isObj(op.match_on) && Object.values(op.match_on).every((v) => Array.isArray(v)),
    "options.match_on",
    "expected {model: [fields]}",
  );
  need(typeof op.create_missing_tags === "boolean", "options.create_missing_tags", "true/false");
  need(op.scope_tag === null || isStr(op.scope_tag), "options.scope_tag", "expected text or null");
  need(typeof op.prune === "boolean", "options.prune", "expected true or false");
  need(Array.isArray(d.writes), "writes", "expected a list");
  const writes = d.writes as unknown[];
  const uids = new Set<number>();
  const creates = new Set<number>();
  for (const [n, w] of writes.entries()) {
    need(isObj(w) && isInt(w.uid), `writes[${n}].uid`, "expected a whole number");
    const uid = (w as Obj).uid as number;
    need(!uids.has(uid), `writes[${n}].uid`, `${uid} appears twice`);
    uids.add(uid);
    if ((w as Obj).action === "create") creates.add(uid);
  }
  for (const [n, w] of writes.entries()) checkWrite(w, `writes[${n}]`, creates);
}

/**
 * The first problem of a saved plan document, or undefined when it has the shape of one.
 *
 * @param doc the parsed JSON
 * @param kind the expected `kind`
 * @param format the newest `format_version` read
 * @returns e.g. `writes[3].id: expected a positive integer`
 */
export function savedPlanProblem(doc: unknown, kind: string, format: number): string | undefined {
  try {
    check(doc, kind, format);
    return undefined;
  } catch (err) {
    if (!(err instanceof Bad)) throw err;
    return err.where ? `${err.where}: ${err.what}` : err.what;
  }
}
