/**
 * The toolkit's version: printed by every task's `--version` and sent in the User-Agent.
 *
 * @module
 */

/**
 * Version of the toolkit (kept equal to `version` in deno.json by a test).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { TOOLKIT_VERSION } from "./version.ts";
 * assert(/^\d+\.\d+\.\d+$/.test(TOOLKIT_VERSION));
 * ```
 */
export const TOOLKIT_VERSION = "0.1.0";
