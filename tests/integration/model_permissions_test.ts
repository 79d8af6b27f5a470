/**
 * A write-enabled token whose user may only view stops every writing task before its first write
 * with one line naming the model and the NetBox permission it lacks, exit 3, on every NetBox
 * version of the matrix (4.3 included, where a token's own entry says nothing of its version).
 * NetBox tells what a token may write in its OPTIONS answer (`actions.POST` = add, `actions.PUT`
 * = change).
 */

import assert from "node:assert/strict";
import {
  createScratch,
  describe,
  EXAMPLE,
  readTaskEntries,
  runDeno,
  type RunResult,
  taskEntry,
} from "../_deno_tasks.ts";
import { seedInventory } from "../netbox/seed.ts";
import {
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  serverVersion,
  testEnv,
  uniqueName,
} from "./_netbox.ts";

const entries = await readTaskEntries();

/** Everything the tasks read; the user gets `view` on these and nothing else. */
const VIEWABLE = [
  "dcim.device",
  "dcim.interface",
  "dcim.site",
  "extras.tag",
  "ipam.ipaddress",
  "ipam.iprange",
  "ipam.prefix",
  "ipam.vrf",
  "tenancy.tenant",
  "virtualization.virtualmachine",
  "virtualization.vminterface",
];

/** A user allowed to view (plus `extra` actions on `extraTypes`) and a write-enabled token. */
async function restrictedToken(
  nb: NetBoxTestEnv,
  extra: { types: string[]; actions: string[] } | undefined = undefined,
): Promise<{ token: string; cleanup: () => Promise<void> }> {
  const { minor, major } = await serverVersion(nb);
  const name = uniqueName("nbtk-viewer");
  const user = await fetchOk(nb, "POST", "/api/users/users/", {
    username: name,
    password: `${crypto.randomUUID()}Aa1!`,
  });
  const perms = [
    await fetchOk(nb, "POST", "/api/users/permissions/", {
      name,
      object_types: VIEWABLE,
      actions: ["view"],
      users: [user.id],
    }),
  ];
  if (extra) {
    perms.push(
      await fetchOk(nb, "POST", "/api/users/permissions/", {
        name: `${name}-extra`,
        object_types: extra.types,
        actions: extra.actions,
        users: [user.id],
      }),
    );
  }
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(20)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  let token: string;
  if (major === 4 && minor < 5) {
    // NetBox 4.3: v1 tokens only; the key is the token.
    await fetchOk(nb, "POST", "/api/users/tokens/", {
      user: user.id,
      write_enabled: true,
      key: secret,
    });
    token = secret;
  } else {
    const created = await fetchOk(nb, "POST", "/api/users/tokens/", {
      user: user.id,
      write_enabled: true,
      token: secret,
    });
    assert.equal(created.version, 2, JSON.stringify(created));
    // 4.7 generates the secret itself and returns it once, in `token`.
    token = `nbt_${created.key}.${typeof created.token === "string" ? created.token : secret}`;
  }
  return {
    token,
    cleanup: async () => {
      for (const p of perms) await fetchOk(nb, "DELETE", `/api/users/permissions/${p.id}/`);
      await fetchOk(nb, "DELETE", `/api/users/users/${user.id}/`);
    },
  };
}

function run(task: string, args: string[], nb: NetBoxTestEnv, token: string): Promise<RunResult> {
  const entry = taskEntry(entries, task);
  return runDeno(
    ["run", ...entry.denoFlags, entry.script, ...entry.scriptArgs, "--verbose", ...args],
    { env: { NETBOX_URL: nb.url, NETBOX_TOKEN: token } },
  );
}

/** Exit 3, one error line naming the model and the permission, and no write in the request log. */
function assertRefused(result: RunResult, model: string, permission: string): void {
  const at = describe(result);
  assert.equal(result.code, 3, at);
  const errors = result.stderr.split("\n").filter((l) => /^error\b/i.test(l));
  assert.equal(errors.length, 1, at);
  assert.ok(errors[0].includes(model), `the error does not name ${model}\n${at}`);
  assert.ok(errors[0].includes(permission), `the error does not name ${permission}\n${at}`);
  assert.doesNotMatch(result.stderr, /\b(POST|PUT|PATCH|DELETE) \/api/, `a write was sent\n${at}`);
}

netboxTest("bulk-import stops before writing when the token may not add a model", async () => {
  const nb = testEnv();
  const { token, cleanup } = await restrictedToken(nb);
  const dir = await Deno.makeTempDir({ prefix: "nbtk-perm-" });
  const dns = `${uniqueName("nbtk-perm")}.example.invalid`;
  try {
    const file = `${dir}/ips.yaml`;
    await Deno.writeTextFile(
      file,
      `ip_addresses:\n  - address: 198.18.77.1/24\n    dns_name: ${dns}\n`,
    );
    const result = await run("bulk-import", [file], nb, token);
    assertRefused(result, "ipam.ip-addresses", "ipam.add_ipaddress");
    const ips = await fetchOk(nb, "GET", `/api/ipam/ip-addresses/?dns_name=${dns}`);
    assert.equal(ips.count, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await cleanup();
  }
});

netboxTest("find-free-ip --reserve stops before writing without ipam.add_ipaddress", async () => {
  const nb = testEnv();
  await seedInventory(nb.url, nb.token);
  const { token, cleanup } = await restrictedToken(nb);
  const dns = `${uniqueName("nbtk-perm")}.example.invalid`;
  try {
    const result = await run(
      "find-free-ip",
      ["--prefix", EXAMPLE.prefix, "--reserve", "--skip", "1", "--dns-name", dns],
      nb,
      token,
    );
    assertRefused(result, "ipam.ip-addresses", "ipam.add_ipaddress");
    const ips = await fetchOk(nb, "GET", `/api/ipam/ip-addresses/?dns_name=${dns}`);
    assert.equal(ips.count, 0);
  } finally {
    await cleanup();
  }
});

netboxTest(
  "assign-primary-ip stops before creating the IP when it may not change the VM",
  async () => {
    const nb = testEnv();
    const scratch = await createScratch(nb, "perm");
    // May add IP addresses, but not change virtual machines: the primary IP could not be set,
    // so nothing is written at all.
    const { token, cleanup } = await restrictedToken(nb, {
      types: ["ipam.ipaddress"],
      actions: ["add", "change"],
    });
    try {
      const result = await run(
        "assign-primary-ip",
        ["--vm", scratch.vm.name, "--interface", "eth0", "--address", scratch.address],
        nb,
        token,
      );
      assertRefused(
        result,
        "virtualization.virtual-machines",
        "virtualization.change_virtualmachine",
      );
      const ips = await fetchOk(
        nb,
        "GET",
        `/api/ipam/ip-addresses/?parent=${scratch.prefix.prefix}`,
      );
      assert.equal(ips.count, 0, "the IP was created although the primary could not be set");
      const vm = await fetchOk(nb, "GET", `/api/virtualization/virtual-machines/${scratch.vm.id}/`);
      assert.equal(vm.primary_ip4, null);
    } finally {
      await cleanup();
      await scratch.cleanup();
    }
  },
);
