/**
 * Least privilege, tested: every `deno.json` entry that runs a `tasks/*.ts` script is run as a
 * subprocess with exactly its flags (parsed from the file) against the real NetBox, then once per
 * grant with that grant taken away — the task must fail with Deno's permission message and exit
 * 2, never succeed silently or misbehave. The grant-by-grant runs are left out under
 * NETBOX_TEST_SECONDARY=1 (CI's second NetBox version): Deno's answer does not depend on NetBox's.
 */

import assert from "node:assert/strict";
import {
  cheapInvocation,
  type DenoTaskEntry,
  describe,
  type InvocationContext,
  isPermissionFailure,
  mapPool,
  parseTaskCommand,
  permissionRemovals,
  readTaskEntries,
  ROOT,
  runDeno,
  type RunResult,
} from "../_deno_tasks.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { seedInventory } from "../netbox/seed.ts";

Deno.test("parseTaskCommand() reads flags, script and arguments of a task entry", () => {
  const e = parseTaskCommand(
    "x",
    `deno run --no-prompt --config deno.json --allow-env="A,B" ./tasks/x-y.ts --z 'a b'`,
  );
  assert.deepEqual(e?.denoFlags, ["--no-prompt", "--config", "deno.json", "--allow-env=A,B"]);
  assert.deepEqual(e?.permissions, ["--allow-env=A,B"]);
  assert.equal(e?.script, "tasks/x-y.ts");
  assert.deepEqual(e?.scriptArgs, ["--z", "a b"]);
  assert.equal(parseTaskCommand("t", "deno test --allow-net"), undefined);
  assert.equal(parseTaskCommand("s", "deno run --allow-read scripts/bundle.ts"), undefined);
  assert.equal(parseTaskCommand("c", "deno run tasks/a.ts && deno run tasks/b.ts"), undefined);
});

Deno.test("permissionRemovals() takes away one grant or one listed name at a time", () => {
  assert.deepEqual(
    permissionRemovals(["--allow-net", "--allow-env=A,B", "--allow-read=/x"]).map((r) => [
      r.label,
      r.flags.join(" "),
    ]),
    [
      ["--allow-net", "--allow-env=A,B --allow-read=/x"],
      ["--allow-env: A", "--allow-net --allow-env=B --allow-read=/x"],
      ["--allow-env: B", "--allow-net --allow-env=A --allow-read=/x"],
      ["--allow-read=/x", "--allow-net --allow-env=A,B"],
    ],
  );
});

const EXPECTED_TASKS = ["audit-ips", "assign-primary-ip", "bulk-import", "find-free-ip"];
const entries = await readTaskEntries();

Deno.test("deno.json has an entry for every task script and each runs with least privilege", async () => {
  const scripts: string[] = [];
  for await (const f of Deno.readDir(`${ROOT}/tasks`)) {
    if (f.isFile && f.name.endsWith(".ts")) scripts.push(`tasks/${f.name}`);
  }
  for (const name of EXPECTED_TASKS) assert.ok(scripts.includes(`tasks/${name}.ts`), name);
  for (const script of scripts) {
    assert.ok(entries.some((e) => e.script === script), `no deno.json task runs ${script}`);
  }
  for (const entry of entries) {
    const at = `deno.json task "${entry.name}": ${entry.command}`;
    assert.ok(entry.denoFlags.includes("--no-prompt"), `${at}: no --no-prompt`);
    for (const flag of entry.denoFlags) {
      assert.ok(flag !== "-A" && flag !== "--allow-all", `${at}: grants everything`);
      assert.ok(!/^(-P|--permission-set)/.test(flag), `${at}: permission sets are experimental`);
    }
    assert.ok(entry.permissions.includes("--allow-net"), `${at}: no --allow-net`);
    const env = entry.permissions.find((f) => f.startsWith("--allow-env"));
    assert.ok(env?.startsWith("--allow-env="), `${at}: --allow-env must list the variables`);
  }
});

/** The two ways a task is run here: token in the environment + stdout, or token file + --output. */
interface Variant {
  label: string;
  ctx(dir: string, n: number): Promise<InvocationContext>;
  env(url: string, token: string): Record<string, string>;
}

function variants(token: string): Variant[] {
  return [
    {
      label: "NETBOX_TOKEN, stdout",
      ctx: (dir) => Promise.resolve({ dir }),
      env: (url, token) => ({ NETBOX_URL: url, NETBOX_TOKEN: token }),
    },
    {
      label: "--token-file, --output",
      async ctx(dir, n) {
        const tokenFile = `${dir}/token-${n}`;
        await Deno.writeTextFile(tokenFile, token + "\n");
        return { dir, tokenFile, output: `${dir}/out-${n}.json` };
      },
      env: (url) => ({ NETBOX_URL: url }),
    },
  ];
}

async function runEntry(
  entry: DenoTaskEntry,
  permissions: string[],
  variant: Variant,
  dir: string,
  n: number,
  nb: { url: string; token: string },
): Promise<{ result: RunResult; check: (r: RunResult) => Promise<void> }> {
  const ctx = await variant.ctx(dir, n);
  const invocation = await cheapInvocation(entry.script, ctx);
  const otherFlags = entry.denoFlags.filter((f) => !entry.permissions.includes(f));
  const result = await runDeno([
    "run",
    ...otherFlags,
    ...permissions,
    entry.script,
    ...entry.scriptArgs,
    ...invocation.args,
  ], { env: variant.env(nb.url, nb.token) });
  return { result, check: invocation.check };
}

for (const entry of entries) {
  netboxTest(`${entry.name} runs with exactly its deno.json permissions`, async () => {
    const nb = testEnv();
    await seedInventory(nb.url, nb.token);
    const dir = await Deno.makeTempDir({ prefix: "nbtk-perm-" });
    try {
      let n = 0;
      for (const variant of variants(nb.token)) {
        const { result, check } = await runEntry(entry, entry.permissions, variant, dir, n++, nb);
        await check(result);
        assert.ok(
          !(result.stdout + result.stderr).includes(nb.token),
          "the token leaked into the output",
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  // What a missing grant does is Deno's, whatever NetBox answers: checked against one server. CI
  // runs its other NetBox versions with NETBOX_TEST_SECONDARY=1, which leaves these out there (the
  // run with exactly the task's grants above still runs against every version).
  if (Deno.env.get("NETBOX_TEST_SECONDARY") === "1") continue;
  netboxTest(`${entry.name} fails with Deno's permission message without each grant`, async () => {
    const nb = testEnv();
    await seedInventory(nb.url, nb.token);
    const dir = await Deno.makeTempDir({ prefix: "nbtk-perm-" });
    try {
      const removals = permissionRemovals(entry.permissions);
      assert.ok(removals.length > 0, `${entry.name} has no permission flags`);
      const runs = removals.flatMap((removal) =>
        variants(nb.token).map((variant) => ({ removal, variant }))
      );
      const results = await mapPool(runs, 4, async ({ removal, variant }, i) => ({
        removal,
        variant,
        ...(await runEntry(entry, removal.flags, variant, dir, i, nb)),
      }));
      const problems: string[] = [];
      for (const removal of removals) {
        const mine = results.filter((r) => r.removal === removal);
        let failedProperly = 0;
        for (const { variant, result, check } of mine) {
          if (isPermissionFailure(result)) {
            failedProperly++;
            continue;
          }
          if (result.code === 0) {
            // Succeeding without the grant is acceptable for this variant only if the result is right.
            try {
              await check(result);
              continue;
            } catch (err) {
              problems.push(`without ${removal.label} (${variant.label}): wrong result: ${err}`);
              continue;
            }
          }
          problems.push(
            `without ${removal.label} (${variant.label}): not Deno's permission error with exit 2\n${
              describe(result)
            }`,
          );
        }
        if (failedProperly === 0 && mine.every((r) => r.result.code === 0)) {
          problems.push(
            `without ${removal.label}: the task still works — the grant is not needed (least privilege) or the invocation does not exercise it`,
          );
        }
      }
      assert.deepEqual(problems, [], problems.join("\n\n"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
