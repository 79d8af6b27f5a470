/**
 * What a task touches outside itself (stdout, stderr, environment, files, clock), injected in
 * tests.
 *
 * @module
 */

/** What a task touches outside itself; injected in tests. */
export interface TaskIO {
  /** Writes result text to standard output. */
  stdout(text: string): void;
  /** Writes logs, warnings and progress to standard error. */
  stderr(text: string): void;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Whether standard error is a terminal (progress bars, colours). */
  stderrIsTerminal: boolean;
  /** The fetch used by the client. */
  fetch?: typeof fetch;
  /** Reads a text file; `-` reads standard input. */
  readTextFile(path: string): Promise<string>;
  /** The current time. */
  now(): Date;
}

const encoder = new TextEncoder();

/**
 * The real IO: `Deno.stdout`, `Deno.stderr`, `Deno.env`, files.
 *
 * @returns the process's IO
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { defaultIO } from "./io.ts";
 * const io = defaultIO();
 * assert(typeof io.stdout === "function");
 * ```
 */
export function defaultIO(): TaskIO {
  return {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    env: (name) => Deno.env.get(name),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    readTextFile: async (path) => {
      if (path !== "-") return await Deno.readTextFile(path);
      return await new Response(Deno.stdin.readable).text();
    },
    now: () => new Date(),
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}
