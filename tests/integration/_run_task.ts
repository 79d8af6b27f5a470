/** Runs a task's `main()` in-process against the test NetBox, recording every request. */

import type { TaskIO } from "../../lib/cli/io.ts";
import { testEnv } from "./_netbox.ts";

/** What an in-process task run printed and sent. */
export interface TaskRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Every request sent, as `METHOD /path`, in order. */
  requests: string[];
}

/**
 * Calls `main(args, io)` with NETBOX_URL/NETBOX_TOKEN of the test NetBox (or `options.url`, e.g.
 * a fault proxy in front of it or a second NetBox, and `options.token`) and a fetch that records
 * each request.
 */
export async function runTaskMain(
  main: (args: string[], io: TaskIO) => Promise<number>,
  args: string[],
  options: { url?: string; token?: string } = {},
): Promise<TaskRun> {
  const env = testEnv();
  const out = { stdout: "", stderr: "" };
  const requests: string[] = [];
  const recording: typeof fetch = (input, init) => {
    const req = new Request(input, init);
    requests.push(`${req.method} ${new URL(req.url).pathname}`);
    return fetch(req);
  };
  const vars: Record<string, string> = {
    NETBOX_URL: options.url ?? env.url,
    NETBOX_TOKEN: options.token ?? env.token,
  };
  const io: TaskIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: (name) => vars[name],
    stderrIsTerminal: false,
    fetch: recording,
    readTextFile: (path) => Deno.readTextFile(path),
    now: () => new Date(),
  };
  const code = await main(args, io);
  return { code, ...out, requests };
}

/** The requests that write (anything but GET, HEAD and OPTIONS). */
export const writesOf = (requests: string[]): string[] =>
  requests.filter((r) => !/^(GET|HEAD|OPTIONS) /.test(r));

/** What a task run printed, with its writes (anything but GET, HEAD and OPTIONS). */
export interface WritesRun {
  code: number;
  stdout: string;
  stderr: string;
  writes: string[];
}

/** {@link runTaskMain}, keeping only the writes of the requests sent. */
export async function runTaskWrites(
  main: (args: string[], io: TaskIO) => Promise<number>,
  args: string[],
): Promise<WritesRun> {
  const r = await runTaskMain(main, args);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, writes: writesOf(r.requests) };
}
