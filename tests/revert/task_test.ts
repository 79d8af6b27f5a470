/** tasks/revert.ts through main(): bad input is one line, exit 2, and nothing is sent. */

import assert from "node:assert/strict";
import { main } from "../../tasks/revert.ts";
import type { TaskIO } from "../../lib/cli/io.ts";

async function run(args: string[], files: Record<string, string> = {}) {
  let stdout = "", stderr = "";
  const sent: string[] = [];
  const io: TaskIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: (name) => ({ NETBOX_URL: "http://127.0.0.1:9", NETBOX_TOKEN: "0123456789abcdef" })[name],
    stderrIsTerminal: false,
    fetch: (input) => {
      sent.push(String(input));
      return Promise.reject(new Error("nothing may be sent"));
    },
    readTextFile: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error("No such file")),
    now: () => new Date(),
  };
  const code = await main(args, io);
  return { code, stdout, stderr, sent };
}

Deno.test("revert: a malformed audit log, a missing user or a bad time is one line, exit 2, nothing sent", async () => {
  const cases: [string[], RegExp][] = [
    [["--from-audit-log", "run.log"], /^error: Cannot read audit log run\.log:2: not a JSON line/],
    [["--from-audit-log", "missing.log"], /^error: Cannot read missing\.log: No such file/],
    [["--since", "2026-12-07T18:00:00Z"], /^error: Cannot select changes: since needs user/],
    [
      ["--since", "today", "--user", "admin"],
      /^error: Cannot select changes: since "today" is not a time/,
    ],
    [[], /^error: Cannot select changes: give a request id, an audit log, or since/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args, {
      "run.log": '{"method":"POST","status":201,"requestId":"aaaaaaaa-1"}\n{oops\n',
    });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(r.sent, []);
    assert.equal(r.stdout, "");
  }
});
