/** runTask(): what reaches standard error is safe to show on a terminal; --help says so. */
import assert from "node:assert/strict";
import { runTask, type TaskContext, type TaskSpec } from "../../lib/cli/task.ts";
import type { TaskIO } from "../../lib/cli/io.ts";
import { NetBoxHttpError } from "../../lib/client/errors.ts";

const EVIL = "sw1\x1b[2J\x1b]0;pwned\x07\u202e";
const SHOWN = "sw1\\x1b[2J\\x1b]0;pwned\\x07\\u202e";

function fakeIO(terminal = false) {
  const out = { stdout: "", stderr: "" };
  const io: TaskIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: () => undefined,
    stderrIsTerminal: terminal,
    readTextFile: () => Promise.resolve(""),
    now: () => new Date("2026-01-01T00:00:00Z"),
  };
  return { io, out };
}

const spec = (extra: Partial<TaskSpec> = {}): TaskSpec => ({
  name: "t",
  description: "test task",
  configure: (cmd) => cmd,
  ...extra,
});

async function run(
  handler: (ctx: TaskContext) => Promise<number>,
  args: string[] = [],
  terminal = false,
) {
  const { io, out } = fakeIO(terminal);
  const code = await runTask(spec(), args, io, (ctx) => handler(ctx));
  return { code, ...out };
}

Deno.test("runTask(): warnings and info lines show NetBox's control characters, line feeds too", async () => {
  const r = await run((ctx) => {
    ctx.warn(`device ${EVIL} has no primary IP\nerror: forged line`);
    ctx.info(`checked ${EVIL}`);
    return Promise.resolve(0);
  });
  assert.equal(r.code, 0);
  assert.equal(
    r.stderr,
    `warning: device ${SHOWN} has no primary IP\\x0aerror: forged line\n` +
      `checked ${SHOWN}\n`,
  );
});

Deno.test("runTask(): text a task writes to stderr itself keeps its lines, shows the rest", async () => {
  const r = await run((ctx) => {
    ctx.io.stderr(`a.yaml:3: ${EVIL}\nb.yaml:4: tab\there\r\n`);
    return Promise.resolve(0);
  });
  assert.equal(r.stderr, `a.yaml:3: ${SHOWN}\nb.yaml:4: tab\\x09here\\x0d\n`);
});

Deno.test("runTask(): an error message carrying NetBox text is one visible line", async () => {
  const r = await run(() => {
    throw new NetBoxHttpError(`Cannot create device: name: ${EVIL}\nforged`, {
      status: 400,
      method: "POST",
      path: "/api/dcim/devices/",
      body: null,
      messages: {},
    });
  });
  assert.equal(r.code, 3);
  assert.equal(r.stderr, `error: Cannot create device: name: ${SHOWN}\\x0aforged\n`);
});

Deno.test("runTask(): the progress bar still draws with \\r and ESC[K on a terminal", async () => {
  const r = await run(
    (ctx) => {
      const bar = ctx.progress("importing", 1);
      bar.tick();
      bar.done();
      return Promise.resolve(0);
    },
    [],
    true,
  );
  assert.ok(r.stderr.startsWith("\rimporting ["), JSON.stringify(r.stderr));
  assert.ok(r.stderr.endsWith("\r\x1b[K"), JSON.stringify(r.stderr));
});

Deno.test("runTask(): stdout (the result) is not altered by the stderr guard", async () => {
  const r = await run((ctx) => {
    ctx.io.stdout(`{"name":"${EVIL}"}\n`);
    return Promise.resolve(0);
  });
  assert.equal(r.stdout, `{"name":"${EVIL}"}\n`);
});

Deno.test("--help of a task with CSV output explains the formula guard and file modes", async () => {
  const { io, out } = fakeIO();
  assert.equal(await runTask(spec({ writes: true }), ["--help"], io, () => Promise.resolve(0)), 0);
  const help = out.stdout.replace(/\s+/g, " ");
  assert.ok(
    help.includes(
      "csv: a cell starting with = + - @ tab or CR gets a leading ' so spreadsheets show it as " +
        "text, never as a formula (negative numbers too)",
    ),
    help,
  );
  assert.ok(
    help.includes(
      "--output <path> write the result to a file (atomically) instead of stdout; a " +
        "new file gets mode 0600, an existing one keeps its mode",
    ),
    help,
  );
  assert.ok(
    help.includes(
      "(method, path, status, ids); a new file gets mode 0600, an existing one " +
        "keeps its mode",
    ),
    help,
  );
  assert.ok(help.includes("warns when the file is open to group or others (chmod 600 it)"), help);
});

Deno.test("--help of a task without CSV output does not mention the formula guard", async () => {
  const { io, out } = fakeIO();
  await runTask(spec({ formats: ["table", "json"] }), ["--help"], io, () => Promise.resolve(0));
  assert.ok(out.stdout.includes("output format: table, json"));
  assert.ok(!out.stdout.includes("formula"));
});

Deno.test("runTask(): --memory sets the client's memory budget in MB; a bad value is exit 2, nothing sent", async () => {
  let sent = 0;
  const env: Record<string, string> = {
    NETBOX_URL: "http://127.0.0.1:1",
    NETBOX_TOKEN: "x".repeat(40),
  };
  const withEnv = () => {
    const { io, out } = fakeIO();
    io.env = (name) => env[name];
    io.fetch = () => {
      sent++;
      return Promise.reject(new TypeError("fetch failed"));
    };
    return { io, out };
  };
  let budget: number | undefined;
  const ok = withEnv();
  const code = await runTask(spec(), ["--memory", "1.5"], ok.io, (ctx) => {
    budget = ctx.client().memoryBudget;
    return Promise.resolve(0);
  });
  assert.equal(code, 0);
  assert.equal(budget, 1.5 * 1024 * 1024);
  for (const bad of ["0", "-2", "lots", ""]) {
    const r = withEnv();
    const c = await runTask(spec(), ["--memory", bad], r.io, () => Promise.resolve(0));
    assert.equal(c, 2, bad);
    assert.match(r.out.stderr, /--memory: expected a number of MB > 0/);
  }
  assert.equal(sent, 0);
});
