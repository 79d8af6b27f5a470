/**
 * Undo: the writes of a run, found in NetBox's change log by the request ids its `--audit-log`
 * recorded (or by a time window and user), put back — created objects deleted, updated ones
 * patched back, deleted ones created again with their references and tags. Objects changed since
 * by someone else are refused unless forced; created objects others now refer to, unless
 * cascading. Nothing is written while any step is refused.
 *
 * The calls take a client from `@netbox-toolkit/netbox-toolkit` (`"."`).
 *
 * @example A request id that is not one is refused before anything is sent
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { checkSelection } from "./mod.ts";
 * try {
 *   checkSelection({ requestIds: ["not a request id"] });
 *   assert(false);
 * } catch (err) {
 *   assert((err as { exitCode: number }).exitCode === 2);
 * }
 * ```
 *
 * @module
 */

export { auditLogWrites, checkSelection, readChanges, requestIdsOfAuditLog } from "./changes.ts";
export type { LoggedChange, ReadChangesOptions, RevertSelection } from "./changes.ts";
export { planRevert, RevertRefusedError } from "./plan.ts";
export type {
  PlanRevertOptions,
  RevertFieldChange,
  RevertPlan,
  RevertSkip,
  RevertStep,
} from "./plan.ts";
export type { ObjectTypes } from "./_values.ts";
export { applyRevert } from "./apply.ts";
export type { ApplyRevertOptions, RevertItem, RevertResult } from "./apply.ts";
