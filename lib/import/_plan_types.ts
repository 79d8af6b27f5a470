/**
 * The types of an import plan: the public ones ({@linkcode ImportPlan}, {@linkcode PlanItem}, …,
 * re-exported by `plan.ts`) and the planner's working state, which every phase module
 * (`_plan_input.ts`, `_plan_fetch.ts`, `_plan_match.ts`, `_plan_resolve.ts`, `_plan_deletes.ts`,
 * `_plan_order.ts`) reads and extends.
 *
 * @module
 */

import type { Filters, NetBoxObject } from "../client/types.ts";
import type { ImportEntry, ImportProblem, SourceLoc } from "./parse.ts";
import type { ModelDef } from "./models.ts";
import type { FieldMeta } from "./_values.ts";

/** What the planner needs from NetBox: field metadata and listings. */
export interface ImportBackend {
  /** The writable fields of a list endpoint (`actions.POST` of its OPTIONS); undefined if the endpoint does not exist. */
  fields(path: string): Promise<Record<string, FieldMeta> | undefined>;
  /** Every object matching the filters, with only `fields` when given. */
  list(path: string, filters: Filters, fields?: string[]): Promise<NetBoxObject[]>;
  /**
   * How many objects the endpoint holds. Lets a big import into a much bigger table look its
   * objects up by key instead of listing the table; without it, above 1,000 keys the whole
   * table is listed.
   */
  count?(path: string, filters: Filters): Promise<number>;
}

/** Options of {@linkcode buildPlan}. */
export interface PlanOptions {
  /** `upsert` creates and updates; `create-only` leaves existing objects alone; `update-only` refuses new ones. @default {"upsert"} */
  mode?: "upsert" | "create-only" | "update-only";
  /** Natural key overrides per model key (`--match-on dcim.devices=name`). */
  matchOn?: Record<string, string[]>;
  /** Create tags that do not exist instead of reporting them. @default {false} */
  createMissingTags?: boolean;
  /**
   * The tag (slug or name) that marks what this import manages: every object it creates or
   * updates (of models with tags) gets it added to its tags, and the tag is created if missing.
   * With it, deletes (`_state: absent`, `prune`) only ever touch objects that carry it.
   */
  scopeTag?: string;
  /**
   * Also delete the objects that carry `scopeTag` but that no entry of the input matches, across
   * every model of the model table (and the other endpoints of the input), in reverse dependency
   * order. Needs `scopeTag` and the whole input set; skipped (see `pruneSkipped`) when any entry
   * is invalid. @default {false}
   */
  prune?: boolean;
}

/** A reference to an object created earlier in the same import. */
export class NewRef {
  /** @param uid The planned item. @param label Its name, for messages. */
  constructor(readonly uid: number, readonly label: string) {}
  /** Plain text for JSON output. */
  toJSON(): string {
    return `new:${this.label}`;
  }
}

/** One changed field of an update. */
export interface Change {
  /** The field's name. */
  field: string;
  /** Its value in NetBox, as text. */
  old: string;
  /** Its value in the input, as text. */
  new: string;
}

/** What will happen to one entry. */
export interface PlanItem {
  /** The item's number in this plan. */
  uid: number;
  /** The NetBox model the entry is of. */
  model: ModelDef;
  /** The entry as read, with its source positions. */
  entry: ImportEntry;
  /** A readable name (`foxtrot`, `192.168.3.5/24`). */
  label: string;
  /**
   * `create`, `update` (see `changes`), `unchanged`, `delete` (see `reason`), or `invalid` (see
   * `problems`).
   */
  action: "create" | "update" | "unchanged" | "delete" | "invalid";
  /**
   * Delete: why. `absent`: the entry says `_state: absent`; `prune`: the object carries the
   * scope tag and no entry of the input matches it (such an item has no input position:
   * `entry.loc.line` is 0).
   */
  reason?: "absent" | "prune";
  /** Delete: the object's natural key as text, e.g. `name=foxtrot, site=matrix`. */
  key?: string;
  /** Delete: the tag (slug) the object must still carry when it is deleted (`scopeTag`). */
  requireTag?: string;
  /**
   * Delete: objects NetBox would delete along with it (the addresses on a device's interfaces,
   * the children of a region…) that this import does not delete: as planned, the delete will be
   * refused (`blocked`) unless they are gone by then.
   */
  blockers?: { model?: string; name: string; id: number }[];
  /** The existing object's ETag as read (update): the write happens only if it still holds. */
  etag?: string;
  /** The existing object's id (update/unchanged). */
  id?: number;
  /** Create: every field; update: the changed fields. May hold {@linkcode NewRef}s. */
  body: Record<string, unknown>;
  /** Fields written in a second pass (primary IPs), only when they change. */
  deferred: Record<string, unknown>;
  /** Update: each changed field with its old and new value. */
  changes: Change[];
  /** Why the entry is invalid. */
  problems: ImportProblem[];
  /** Items created in this import that `body` needs first. */
  deps: Set<number>;
  /** Items created in this import that `deferred` needs first. */
  deferredDeps: Set<number>;
}

/** The whole plan: items in write order. */
export interface ImportPlan {
  /** Every entry, in write (dependency) order. */
  items: PlanItem[];
  /** Every problem (also attached to the items), in input order. */
  problems: ImportProblem[];
  /** The options the plan was made with (a re-plan uses the same). */
  options?: PlanOptions;
  /** Why `prune` was asked for but nothing is pruned (the input has invalid entries). */
  pruneSkipped?: string;
}

/** An object of NetBox (its id) or one this import creates (`new#<uid>`). */
export type Identity = number | `new#${number}`;

/** One field of an entry, read: a value, a reference, references, or a generic (type + id) reference. */
export type FieldSpec =
  | { kind: "value"; value: unknown; meta?: FieldMeta }
  | { kind: "ref"; target: ModelDef; spec: unknown; loc: SourceLoc }
  | {
    kind: "refs";
    target: ModelDef;
    specs: { spec: unknown; loc: SourceLoc }[];
    /** Keep the existing object's items and add these (the scope tag on an entry without tags). */
    add?: boolean;
  }
  | {
    kind: "generic";
    /** The field a change is shown as (`scope`, `assigned_object`). */
    name: string;
    typeField: string;
    idField: string;
    target: ModelDef;
    spec: unknown;
    loc: SourceLoc;
  }
  | {
    kind: "custom";
    /** The rule module's handler: how the field is fetched, keyed and written. */
    handler: CustomFieldHandler;
    /** The value as given. */
    raw: unknown;
    loc: SourceLoc;
  };

/**
 * A field the planner leaves to a rule module (`_rule_*.ts`): a cable's ends, a front port's
 * rear port on NetBox 4.6+. The phases call it instead of treating the field themselves.
 */
export interface CustomFieldHandler {
  /** The API fields to read of existing objects for it (the input field may not exist in NetBox). */
  fetchFields: string[];
  /** The references the value makes, so their targets are fetched: `[model, spec]`. */
  refs(raw: unknown): [ModelDef, unknown][];
  /** The natural-key text of an item's value; undefined, with a problem added, if unresolvable. */
  key?(s: PlanState, item: Work, field: string): string | undefined;
  /** The natural-key text of an existing object for this field. */
  objKey?(obj: NetBoxObject, field: string): string;
  /** Puts the desired value in the body of a create, or the changes of an update. */
  apply(s: PlanState, item: Work, field: string): void;
}

/** A plan item while the planner works on it. */
export interface Work extends PlanItem {
  state: "present" | "absent";
  specs: Map<string, FieldSpec>;
  match: string[];
  identity?: Identity;
  existing?: NetBoxObject;
  resolved: Map<string, Identity | Identity[] | null>;
}

/** What the phases of the planner share: the items, NetBox's metadata and objects, indexes. */
export interface PlanState {
  readonly backend: ImportBackend;
  readonly options: PlanOptions;
  /** Every item, indexed by uid. */
  readonly items: Work[];
  /** Problems not of one item (unknown models and endpoints). */
  readonly problems: ImportProblem[];
  /** The writable fields per model key (undefined: no such endpoint). */
  readonly meta: Map<string, Record<string, FieldMeta> | undefined>;
  /** The existing objects fetched per model key. */
  readonly existing: Map<string, NetBoxObject[]>;
  readonly byId: Map<string, Map<number, NetBoxObject>>;
  /** The input's items per model key. */
  readonly byModel: Map<string, Work[]>;
  /** Candidates by `model field` and value (see `lookup`). */
  readonly index: Map<string, Map<string, (Work | NetBoxObject)[]>>;
  /** Tags this import creates, by slug. */
  readonly newTags: Map<string, Work>;
  /** Existing objects by model, key fields and key (see `existingWithKey`). */
  readonly existingIndex: Map<string, Map<string, NetBoxObject[]>>;
  /** The next item's uid. */
  nextUid: number;
  /** Why `prune` prunes nothing. */
  pruneSkipped?: string;
}
