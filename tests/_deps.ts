/**
 * Test-only third-party modules, as pinned inline `npm:` specifiers. `lib/deps.ts` stays the
 * library's only dependency file (importing it loads every module it lists), so validators that
 * only tests need live here.
 *
 * - `ajv` validates SARIF logs against the official SARIF 2.1.0 schema, which
 *   `@microsoft/jest-sarif` ships (`lib/schemas/sarif-2.1.0-rtm.5.json`, JSON Schema draft-04);
 * - `fast-xml-parser` parses (and checks the well-formedness of) JUnit XML;
 * - `parse-prometheus-text-format` parses Prometheus exposition text.
 *
 * @module
 */

import _Ajv from "npm:ajv@8.20.0";
export { XMLParser, XMLValidator } from "npm:fast-xml-parser@5.12.1";
export { default as parsePrometheusTextFormat } from "npm:parse-prometheus-text-format@1.1.1";
export {
  default as sarifSchema,
} from "npm:@microsoft/jest-sarif@1.0.0-beta.0/lib/schemas/sarif-2.1.0-rtm.5.json" with {
  type: "json",
};

/** The Ajv class (the package's CommonJS default export). */
export const Ajv = _Ajv as unknown as typeof _Ajv.default;
