/**
 * A read-only token (NETBOX_TEST_TOKEN_RO) is enough for the reading tasks, and every writing
 * task given one stops before its first write with exit 3 and a message saying the token is
 * read-only. Each task runs with exactly its `deno.json` permissions.
 */

import assert from "node:assert/strict";
import {
  cheapInvocation,
  createScratch,
  type DenoTaskEntry,
  describe,
  EXAMPLE,
  netboxOk,
  readTaskEntries,
  runDeno,
  type RunResult,
  taskEntry,
} from "../_deno_tasks.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { seedInventory } from "../netbox/seed.ts";

const entries = await readTaskEntries();
const entryFor = (task: string): DenoTaskEntry => taskEntry(entries, task);

function run(entry: DenoTaskEntry, args: string[], env: Record<string, string>) {
  return runDeno(["run", ...entry.denoFlags, entry.script, ...entry.scriptArgs, ...args], { env });
}

/** The request log of `--verbose` must show reads and no write. */
function assertRefusedBeforeWriting(result: RunResult): void {
  const at = describe(result);
  assert.equal(result.code, 3, at);
  assert.match(result.stderr, /read-only/i, at);
  assert.match(result.stderr, /\bGET\b/, `--verbose logged no request\n${at}`);
  assert.doesNotMatch(result.stderr, /\b(POST|PUT|PATCH|DELETE)\b/, `a write was sent\n${at}`);
  assert.equal(result.stdout.trim(), "", at);
}

for (const task of ["audit-ips", "find-free-ip"]) {
  netboxTest(`${task} works with a read-only token`, async () => {
    const nb = testEnv();
    await seedInventory(nb.url, nb.token);
    const dir = await Deno.makeTempDir({ prefix: "nbtk-ro-" });
    try {
      const invocation = await cheapInvocation(`tasks/${task}.ts`, { dir });
      const result = await run(entryFor(task), invocation.args, {
        NETBOX_URL: nb.url,
        NETBOX_TOKEN: nb.tokenRo,
      });
      await invocation.check(result);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

netboxTest("bulk-import with a read-only token stops before its first write", async () => {
  const nb = testEnv();
  const dir = await Deno.makeTempDir({ prefix: "nbtk-ro-" });
  const slug = `nbtk-ro-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = `${dir}/tags.yaml`;
    await Deno.writeTextFile(file, `tags:\n  - name: ${slug}\n    slug: ${slug}\n`);
    const result = await run(entryFor("bulk-import"), ["--verbose", file], {
      NETBOX_URL: nb.url,
      NETBOX_TOKEN: nb.tokenRo,
    });
    assertRefusedBeforeWriting(result);
    const tags = await netboxOk(nb, "GET", `/api/extras/tags/?slug=${slug}`);
    assert.equal(tags.count, 0, "the tag was created with a read-only token");
  } finally {
    const tags = await netboxOk(nb, "GET", `/api/extras/tags/?slug=${slug}`);
    for (const t of tags.results) await netboxOk(nb, "DELETE", `/api/extras/tags/${t.id}/`);
    await Deno.remove(dir, { recursive: true });
  }
});

netboxTest(
  "find-free-ip --reserve with a read-only token stops before its first write",
  async () => {
    const nb = testEnv();
    await seedInventory(nb.url, nb.token);
    const dns = `nbtk-ro-${crypto.randomUUID().slice(0, 8)}.example.invalid`;
    const result = await run(
      entryFor("find-free-ip"),
      ["--verbose", "--prefix", EXAMPLE.prefix, "--reserve", "--dns-name", dns],
      { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.tokenRo },
    );
    assertRefusedBeforeWriting(result);
    const ips = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?dns_name=${dns}`);
    assert.equal(ips.count, 0, "an address was reserved with a read-only token");
  },
);

netboxTest("assign-primary-ip with a read-only token stops before its first write", async () => {
  const nb = testEnv();
  const scratch = await createScratch(nb, "ro");
  try {
    const result = await run(
      entryFor("assign-primary-ip"),
      ["--verbose", "--vm", scratch.vm.name, "--interface", "eth0", "--address", scratch.address],
      { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.tokenRo },
    );
    assertRefusedBeforeWriting(result);
    const vm = await netboxOk(nb, "GET", `/api/virtualization/virtual-machines/${scratch.vm.id}/`);
    assert.equal(vm.primary_ip4, null, "primary_ip4 was set with a read-only token");
    const ips = await netboxOk(
      nb,
      "GET",
      `/api/ipam/ip-addresses/?parent=${scratch.prefix.prefix}`,
    );
    assert.equal(ips.count, 0, "an address was created with a read-only token");
  } finally {
    await scratch.cleanup();
  }
});
