/**
 * NetBox objects in documents, both directions: YAML/JSON/CSV documents planned against NetBox
 * (natural keys, dependency order, field diffs) and applied idempotently; plans saved, reviewed
 * and applied exactly; the delete brake; and NetBox exported back to the documents the import
 * reads.
 *
 * The calls take a client from `@netbox-toolkit/netbox-toolkit` (`"."`). Bad documents throw
 * {@linkcode ImportInputError} with file:line positions; nothing is written then.
 *
 * @example Documents read without NetBox; a document in no known format is refused
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { ImportInputError, readImportDocuments } from "./mod.ts";
 *
 * const [sites] = readImportDocuments([{ text: "sites:\n  - { name: Lab, slug: lab }\n", format: "yaml" }]);
 * assert(sites.entries.length === 1);
 * try {
 *   readImportDocuments([{ text: "Lab", file: "sites.txt" }]);
 *   assert(false);
 * } catch (err) {
 *   assert(err instanceof ImportInputError && err.kind === "input");
 * }
 * ```
 *
 * @module
 */

export { applyImport, planImport, readImportDocuments } from "./import.ts";
export type { ApplyImportOptions, ImportDocument } from "./import.ts";
export { ImportInputError } from "./parse.ts";
export type { ImportEntry, ImportProblem, ImportSection, InputFormat, SourceLoc } from "./parse.ts";
export type { Change, ImportPlan, PlanItem, PlanOptions } from "./plan.ts";
export type { ImportReport, ModelCounts } from "./report.ts";
export type { ModelDef } from "./models.ts";
export type { ApplyResult, Blocker, ItemOutcome } from "./apply.ts";
export { checkDeleteLimit, DeleteLimitError, plannedDeletes } from "./plan_checks.ts";
export type { PlannedDelete } from "./plan_checks.ts";
export {
  applySavedPlan,
  checkPlanTarget,
  parseSavedPlan,
  planOfSaved,
  PlanTargetError,
  SavedPlanError,
  savePlan,
} from "./saved_plan.ts";
export type {
  ApplySavedPlanOptions,
  SavedPlan,
  SavedWrite,
  SavePlanOptions,
} from "./saved_plan.ts";
export { exportDocuments, ExportFilterError, ExportScopeError, renderExport } from "./export.ts";
export type {
  ExportFormat,
  ExportOptions,
  ExportResult,
  ExportScope,
  ExportSection,
  ExportWarning,
} from "./export.ts";
