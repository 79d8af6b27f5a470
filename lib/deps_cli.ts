/**
 * The tasks' flag parser, apart from `lib/deps.ts` so that the library (`mod.ts`) does not load
 * it: commander pulls in Node's compatibility layer (`child_process`, `events`, `fs`), about
 * 8 MB of resident memory in every process that imports it. A pinned inline `npm:` specifier,
 * like the others.
 *
 * @module
 */

export {
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
} from "npm:@commander-js/extra-typings@14.0.0";
