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

/** The request log of `--verbose` must show reads and no write; one error line says why. */
function assertRefusedBeforeWriting(result: RunResult): void {
  const at = describe(result);
  assert.equal(result.code, 3, at);
  const errors = result.stderr.split("\n").filter((l) => /^error\b/i.test(l));
  assert.equal(errors.length, 1, `expected one error line\n${at}`);
  assert.match(errors[0], /the token is read-only \(write disabled\)/, at);
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

// The example inventory holds 101 IP addresses: on NetBox 4.3 a read-only v1 token was once
// reported as 101 "unknown field" errors (exit 2) instead of one refusal.
netboxTest("bulk-import of IP addresses with read-only v1 and v2 tokens: one refusal", async () => {
  const nb = testEnv();
  const dir = await Deno.makeTempDir({ prefix: "nbtk-ro-" });
  const dns = `${crypto.randomUUID().slice(0, 8)}.nbtk-ro.example.invalid`;
  const tokens = [...new Set([nb.tokenRo, nb.tokenRoV1])];
  assert.equal(tokens.length >= 1 && tokens.every((t) => t !== ""), true, "no read-only tokens");
  try {
    const file = `${dir}/ips.yaml`;
    const lines = ["ip_addresses:"];
    for (let n = 1; n <= 101; n++) {
      lines.push(`  - address: 198.18.${Math.floor(n / 250)}.${n % 250 + 1}/16`);
      lines.push(`    dns_name: ip${n}.${dns}`);
    }
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    for (const token of tokens) {
      const result = await run(entryFor("bulk-import"), ["--verbose", file], {
        NETBOX_URL: nb.url,
        NETBOX_TOKEN: token,
      });
      assertRefusedBeforeWriting(result);
    }
    const ips = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?dns_name__iew=${dns}&limit=1`);
    assert.equal(ips.count, 0, "addresses were created with a read-only token");
  } finally {
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
