/**
 * The third-party modules of the library, the only place besides `lib/deps_cli.ts` (the tasks'
 * flag parser) that imports one. Every specifier is a pinned inline `npm:` specifier so a task
 * runs from a URL with no local `deno.json`. None of these packages needs a Deno permission
 * beyond what the tasks already grant (see README, "Dependencies").
 *
 * @module
 */

export {
  dump as yamlStringify,
  getScalarValue as yamlScalarValue,
  load as yamlParse,
  parseEvents as yamlParseEvents,
  YAMLException,
} from "npm:js-yaml@5.5.0";
export { parse as csvParse } from "npm:csv-parse@6.2.0/sync";
export { stringify as csvStringify } from "npm:csv-stringify@6.9.0/sync";
export { Cron } from "npm:croner@9.0.0";
