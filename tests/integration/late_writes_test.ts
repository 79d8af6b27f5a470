/**
 * Late writes on the real NetBox: a proxy holds writes past the client's timeout and then sends
 * them on, so NetBox acts seconds after the client gave up (a gateway's 504 while the worker goes
 * on and commits). Every writing task is run through it; NetBox is read back afterwards and
 * compared with the report item by item, addresses are counted (no duplicate), and the same
 * command run again writes nothing.
 *
 * Addresses live in VRFs that do not enforce uniqueness, so a write sent twice would show up.
 */

import assert from "node:assert/strict";
import { main as importMain } from "../../tasks/bulk-import.ts";
import { main as assignMain } from "../../tasks/assign-primary-ip.ts";
import { main as findFreeMain } from "../../tasks/find-free-ip.ts";
import { main as auditMain } from "../../tasks/audit-ips.ts";
import { type FaultKind, startFaultProxy } from "../_fault_proxy.ts";
import { fetchOk, netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";
import { runTaskMain, writesOf } from "./_run_task.ts";

/** The client's timeout (s) and how late the proxy delivers a held write (ms): after it. */
const TIMEOUT = "3";
const LATE_MS = 6000;

/** A proxy that delivers late the first `times` requests matching `method` and `path`. */
function lateProxy(
  env: NetBoxTestEnv,
  rules: { method: string; path: RegExp; times?: number; kind?: FaultKind }[],
  holdMs?: number,
  lateMs = LATE_MS,
) {
  const seen = rules.map(() => 0);
  return startFaultProxy({
    target: env.url,
    rate: 0,
    seed: 0,
    lateMs,
    holdMs,
    script: (method, path) => {
      const i = rules.findIndex((r) => r.method === method && r.path.test(path));
      if (i < 0) return undefined;
      const n = seen[i]++;
      const plan = rules[i];
      if (plan.kind && n === 1) return plan.kind; // a second kind for the second request
      return n < (plan.times ?? 1) ? "deliver-late" : undefined;
    },
  });
}

/** A VRF that does not enforce uniqueness, deleted with what is in it afterwards. */
async function withVrf(env: NetBoxTestEnv, prefix: string, fn: (vrf: Vrf) => Promise<void>) {
  const name = uniqueName(prefix);
  const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name, enforce_unique: false });
  const addresses = async () =>
    (await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=1000`))
      .results as Address[];
  try {
    await fn({ id: vrf.id, name, addresses });
  } finally {
    const left = await addresses();
    if (left.length) {
      await fetchOk(env, "DELETE", "/api/ipam/ip-addresses/", left.map((ip) => ({ id: ip.id })));
    }
    const prefixes = await fetchOk(env, "GET", `/api/ipam/prefixes/?vrf_id=${vrf.id}`);
    for (const p of prefixes.results) await fetchOk(env, "DELETE", `/api/ipam/prefixes/${p.id}/`);
    await fetchOk(env, "DELETE", `/api/ipam/vrfs/${vrf.id}/`);
  }
}

interface Vrf {
  id: number;
  name: string;
  addresses: () => Promise<Address[]>;
}

interface Address {
  id: number;
  address: string;
  dns_name: string;
  comments: string;
  assigned_object_id: number | null;
}

function assertNoDuplicates(ips: Address[], at: string) {
  const counts = new Map<string, number>();
  for (const ip of ips) counts.set(ip.address, (counts.get(ip.address) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, n]) => n > 1), [], `duplicate addresses\n${at}`);
}

interface ImportItem {
  model: string;
  name: string;
  action: string;
  id: number | null;
  message: string | null;
}

netboxTest(
  "bulk-import: writes NetBox makes after the client's timeout are found by reading back in the settle window: created, no duplicate, exit 0",
  async (env) => {
    await withVrf(env, "late-import", async (vrf) => {
      const file = await inventory(vrf, "10.81.1", 6);
      const proxy = lateProxy(env, [{ method: "POST", path: /\/api\/ipam\/ip-addresses\/$/ }]);
      const run = await importThrough(proxy, file, []);
      const items = await assertImportTruthful(vrf, run, 6);
      assert.equal(run.code, 0, run.at);
      assert.deepEqual(items.map((i) => i.action), Array(6).fill("create"), run.at);
      assert.match(items[0].message ?? "", /confirmed by reading back within \d/, run.at);
      await assertRerunWritesNothing(file);
    });
  },
);

netboxTest(
  "bulk-import: with a settle window shorter than the delay the writes are unknown (exit 1), never 'not written'; they land, a re-run writes nothing",
  async (env) => {
    await withVrf(env, "late-import", async (vrf) => {
      const file = await inventory(vrf, "10.81.2", 4);
      // The write is held until the task has exited (not for a fixed time that a loaded NetBox
      // could outlast while the settle window reads): NetBox then certainly made it too late.
      const proxy = lateProxy(
        env,
        [{ method: "POST", path: /\/api\/ipam\/ip-addresses\/$/ }],
        undefined,
        10 * 60_000,
      );
      const run = await importThrough(proxy, file, ["--settle", "1"]);
      const items = await assertImportTruthful(vrf, run, 4);
      assert.equal(run.code, 1, run.at);
      assert.deepEqual(items.map((i) => i.action), Array(4).fill("unknown"), run.at);
      assert.match(
        items[0].message ?? "",
        /may still be making the change.*after reading back for 1 s/,
        run.at,
      );
      await assertRerunWritesNothing(file);
    });
  },
);

async function inventory(vrf: Vrf, net: string, count: number): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "nbtk-late-", suffix: ".yaml" });
  await Deno.writeTextFile(
    file,
    "ip_addresses:\n" +
      Array.from(
        { length: count },
        (_, i) => `  - {address: ${net}.${i + 1}/24, vrf: ${vrf.name}}\n`,
      )
        .join(""),
  );
  return file;
}

async function importThrough(proxy: ReturnType<typeof lateProxy>, file: string, extra: string[]) {
  try {
    const run = await runTaskMain(
      importMain,
      [file, "--format", "json", "--timeout", TIMEOUT, ...extra],
      { url: proxy.url },
    );
    return { ...run, at: `exit ${run.code}\n${run.stderr}` };
  } finally {
    proxy.releaseLate(); // a write still held lands now, after the task
    await proxy.close(); // waits until the held write has reached NetBox
    assert.equal(proxy.counts["deliver-late"], 1);
  }
}

/**
 * NetBox afterwards (the late write has landed): every address once, `count` of them, and each
 * item the report calls created is there with its id; nothing is called "not written".
 */
async function assertImportTruthful(
  vrf: Vrf,
  run: { stdout: string; at: string },
  count: number,
): Promise<ImportItem[]> {
  const items = (JSON.parse(run.stdout).items as ImportItem[])
    .filter((i) => i.model === "ipam.ip-addresses");
  const ips = await vrf.addresses();
  assertNoDuplicates(ips, run.at);
  const byAddress = new Map(ips.map((ip) => [ip.address, ip.id]));
  for (const item of items) {
    if (item.action === "create") assert.equal(byAddress.get(item.name), item.id, run.at);
    assert.doesNotMatch(item.message ?? "", /not written/, run.at);
  }
  assert.equal(ips.length, count, run.at);
  return items;
}

async function assertRerunWritesNothing(file: string) {
  try {
    const again = await runTaskMain(importMain, [file, "--format", "json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(writesOf(again.requests), []);
  } finally {
    await Deno.remove(file);
  }
}

netboxTest(
  "find-free-ip --reserve: a reservation NetBox makes after the client's timeout is found, not sent again (3 addresses, each name once)",
  async (env) => {
    await withVrf(env, "late-reserve", async (vrf) => {
      const prefix = "10.81.3.0/28";
      await fetchOk(env, "POST", "/api/ipam/prefixes/", { prefix, vrf: vrf.id, status: "active" });
      const args = [
        "--prefix",
        prefix,
        "--vrf",
        vrf.name,
        "--reserve",
        "--count",
        "3",
        "--dns-name",
        "late{n}.example.net",
        "--format",
        "json",
        "--timeout",
        TIMEOUT,
      ];
      const proxy = lateProxy(env, [{ method: "POST", path: /available-ips\/$/ }]);
      let run;
      try {
        run = await runTaskMain(findFreeMain, args, { url: proxy.url });
      } finally {
        await proxy.close();
      }
      const at = `exit ${run.code} ${JSON.stringify(proxy.counts)}\n${run.stderr}`;
      assert.equal(proxy.counts["deliver-late"], 1, at);
      assert.equal(run.code, 0, at);
      const reported = JSON.parse(run.stdout).items as { id: number; dns_name: string }[];
      const ips = await vrf.addresses();
      assertNoDuplicates(ips, at);
      assert.deepEqual(
        ips.map((ip) => ip.dns_name).sort(),
        ["late1.example.net", "late2.example.net", "late3.example.net"],
        at,
      );
      assert.deepEqual(reported.map((i) => i.id).sort(), ips.map((ip) => ip.id).sort(), at);
      // Again: the same three come back, nothing is written.
      const again = await runTaskMain(findFreeMain, args);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(writesOf(again.requests), []);
      assert.equal((await vrf.addresses()).length, 3);
    });
  },
);

netboxTest(
  "find-free-ip --reserve: when the window proved absence and the resend went out, a late first request that lands after all is removed again (its own marker and ids)",
  async (env) => {
    await withVrf(env, "late-reserve2", async (vrf) => {
      const prefix = "10.81.4.0/28";
      await fetchOk(env, "POST", "/api/ipam/prefixes/", { prefix, vrf: vrf.id, status: "active" });
      // The first request reaches NetBox 6 s late; the window (1 s after a 4 s timeout) ends
      // before that, so the reservation is sent again; NetBox answers the second one only after
      // the first has landed (its answer held 3 s, within the timeout).
      const proxy = lateProxy(
        env,
        [{ method: "POST", path: /available-ips\/$/, kind: "lost-timeout" }],
        3000,
      );
      let run;
      try {
        run = await runTaskMain(
          findFreeMain,
          [
            ...["--prefix", prefix, "--vrf", vrf.name, "--reserve", "--count", "2"],
            ...["--format", "json", "--timeout", "4", "--settle", "1"],
          ],
          { url: proxy.url },
        );
      } finally {
        await proxy.close();
      }
      const at = `exit ${run.code} ${JSON.stringify(proxy.counts)}\n${run.stderr}`;
      assert.equal(proxy.counts["deliver-late"], 1, at);
      assert.equal(proxy.counts["lost-timeout"], 1, at);
      assert.equal(run.code, 0, at);
      assert.match(run.stderr, /landed late and made 2 more addresses .*deleted them again/, at);
      const reported = (JSON.parse(run.stdout).items as { id: number }[]).map((i) => i.id).sort();
      const ips = await vrf.addresses();
      assert.deepEqual(ips.map((ip) => ip.id).sort(), reported, at);
    });
  },
);

netboxTest(
  "assign-primary-ip: an address create and a primary-IP PATCH that NetBox makes late are waited for, done once",
  async (env) => {
    await withVrf(env, "late-assign", async (vrf) => {
      const made: [string, number][] = [];
      const make = async (path: string, body: Record<string, unknown>) => {
        const obj = await fetchOk(env, "POST", `/api/${path}/`, body);
        made.push([path, obj.id]);
        return obj;
      };
      try {
        const type = await make("virtualization/cluster-types", { name: vrf.name, slug: vrf.name });
        const cluster = await make("virtualization/clusters", { name: vrf.name, type: type.id });
        const vm = await make("virtualization/virtual-machines", {
          name: vrf.name,
          cluster: cluster.id,
        });
        const eth0 = await fetchOk(env, "POST", "/api/virtualization/interfaces/", {
          virtual_machine: vm.id,
          name: "eth0",
        });
        const args = [
          ...["--vm", vrf.name, "--interface", "eth0", "--address", "10.81.5.10/24"],
          ...["--vrf", vrf.name, "--format", "json", "--timeout", TIMEOUT],
        ];
        const proxy = lateProxy(env, [
          { method: "POST", path: /\/api\/ipam\/ip-addresses\/$/ },
          { method: "PATCH", path: /\/api\/virtualization\/virtual-machines\// },
        ]);
        let run;
        try {
          run = await runTaskMain(assignMain, args, { url: proxy.url });
        } finally {
          await proxy.close();
        }
        const at = `exit ${run.code} ${JSON.stringify(proxy.counts)}\n${run.stderr}`;
        assert.equal(proxy.counts["deliver-late"], 2, at);
        assert.equal(run.code, 0, at);
        const ips = await vrf.addresses();
        assert.equal(ips.length, 1, at);
        assert.equal(ips[0].assigned_object_id, eth0.id, at);
        const now = await fetchOk(env, "GET", `/api/virtualization/virtual-machines/${vm.id}/`);
        assert.equal(now.primary_ip4?.id, ips[0].id, at);
        const [item] = JSON.parse(run.stdout).items as { outcome: string; ip_id: number }[];
        assert.equal(item.outcome, "done", at);
        assert.equal(item.ip_id, ips[0].id, at);
        const again = await runTaskMain(assignMain, args);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(writesOf(again.requests), []);
      } finally {
        await fetchOk(env, "PATCH", `/api/virtualization/virtual-machines/${made[2]?.[1]}/`, {
          primary_ip4: null,
        }).catch(() => {});
        for (const ip of await vrf.addresses()) {
          await fetchOk(env, "DELETE", `/api/ipam/ip-addresses/${ip.id}/`).catch(() => {});
        }
        for (const [path, id] of made.reverse()) {
          await fetchOk(env, "DELETE", `/api/${path}/${id}/`).catch(() => {});
        }
      }
    });
  },
);

netboxTest(
  "audit-ips --fix --apply: a fix NetBox makes after the client's timeout is read back as applied, exit 0",
  async (env) => {
    await withVrf(env, "late-audit", async (vrf) => {
      await fetchOk(env, "POST", "/api/ipam/prefixes/", {
        prefix: "10.81.6.0/24",
        vrf: vrf.id,
        status: "active",
      });
      const ip = await fetchOk(env, "POST", "/api/ipam/ip-addresses/", {
        address: "10.81.6.50/16",
        vrf: vrf.id,
        status: "reserved",
      });
      const proxy = lateProxy(env, [{ method: "PATCH", path: /\/api\/ipam\/ip-addresses\/$/ }]);
      let run;
      try {
        run = await runTaskMain(
          auditMain,
          ["--vrf", vrf.name, "--fix", "--apply", "--format", "json", "--timeout", TIMEOUT],
          { url: proxy.url },
        );
      } finally {
        await proxy.close();
      }
      const at = `exit ${run.code} ${JSON.stringify(proxy.counts)}\n${run.stderr}`;
      assert.equal(proxy.counts["deliver-late"], 1, at);
      const fixes = JSON.parse(run.stdout).fixes.items as { object_id: number; status: string }[];
      assert.deepEqual(fixes.map((f) => [f.object_id, f.status]), [[ip.id, "applied"]], at);
      assert.equal(run.code, 0, at);
      const now = await fetchOk(env, "GET", `/api/ipam/ip-addresses/${ip.id}/`);
      assert.equal(now.address, "10.81.6.50/24");
    });
  },
);
