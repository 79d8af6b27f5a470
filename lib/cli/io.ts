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
  /**
   * Subscribes to Ctrl-C (SIGINT) and SIGTERM; returns the unsubscribe. Injected IO in tests may
   * leave it out (no signal handling).
   */
  onInterrupt?(handler: (signal: "SIGINT" | "SIGTERM") => void): () => void;
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
    onInterrupt: (handler) => {
      const subscribed: [Deno.Signal, () => void][] = [];
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        const listener = () => handler(signal);
        try {
          Deno.addSignalListener(signal, listener);
          subscribed.push([signal, listener]);
        } catch {
          // SIGTERM cannot be listened to on Windows: Ctrl-C still is.
        }
      }
      return () => {
        for (const [signal, listener] of subscribed) Deno.removeSignalListener(signal, listener);
      };
    },
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}
