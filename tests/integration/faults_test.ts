/**
 * Exactly-once writes under faults: bulk-import through a fault-injecting proxy in front of the
 * real NetBox (429/503 before NetBox sees a request; a gateway's 502, a broken body or an answer
 * slower than the timeout after NetBox has acted), at several fault rates and seeds. NetBox is
 * counted afterwards, not what the tool says: no address exists twice, every entry the report
 * calls created is there with the reported id and every entry it calls failed is not, re-runs
 * converge, and the run after that writes nothing.
 *
 * The addresses live in a VRF that does not enforce uniqueness, so a blindly repeated POST would
 * show up as a duplicate.
 */

import assert from "node:assert/strict";
import { main } from "../../tasks/bulk-import.ts";
import { main as assignMain } from "../../tasks/assign-primary-ip.ts";
import { main as findFreeMain } from "../../tasks/find-free-ip.ts";
import { type FaultKind, startFaultProxy } from "../_fault_proxy.ts";
import { fetchOk, netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";
import { runTaskMain, writesOf } from "./_run_task.ts";

const N = 24;
/**
 * The tasks' request timeout (seconds) and how long the proxy holds an answer to make it late. The
 * timeout leaves room for a slow answer of a busy NetBox (a late answer must come from the proxy,
 * not from the server), and the hold exceeds it.
 */
const TIMEOUT = "5";
const HOLD_MS = 6000;
/**
 * How long a write whose answer was lost is looked for (s). These faults lose answers of writes
 * NetBox made at once, or never saw: a short window keeps the runs quick (late writes, which need
 * the full window, are late_writes_test.ts's).
 */
const SETTLE = "2";
/** The client flags of every faulted run: timeout, settle window, two requests in flight. */
const CLIENT_FLAGS = ["--concurrency", "2", "--timeout", TIMEOUT, "--settle", SETTLE];

interface Report {
  summary: Record<string, number>;
  items: {
    model: string;
    name: string;
    action: string;
    id: number | null;
    message: string | null;
  }[];
}

/**
 * An inventory of a VRF that does not enforce uniqueness (a blindly repeated POST shows up as a
 * duplicate) and addresses in it, each given as the fields of its YAML entry.
 */
function vrfInventory(vrf: string, addresses: string[]): string {
  return `vrfs:\n  - {name: ${vrf}, enforce_unique: false}\nip_addresses:\n` +
    addresses.map((fields) => `  - {${fields}, vrf: ${vrf}}\n`).join("");
}

/** A proxy whose only fault is the answer to the first POST to `path`: made, then lost (502). */
function losingFirstPost(env: NetBoxTestEnv, path: string) {
  let lost = 0;
  return startFaultProxy({
    target: env.url,
    rate: 0,
    seed: 0,
    script: (method, p) => method === "POST" && p === path && lost++ === 0 ? "lost-502" : undefined,
  });
}

async function importVia(url: string, file: string) {
  const run = await runTaskMain(
    main,
    [file, "--format", "json", "--chunk-size", "2", ...CLIENT_FLAGS],
    { url },
  );
  let report: Report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    throw new Error(`no report (exit ${run.code})\n${run.stderr}`);
  }
  return { code: run.code, report, stderr: run.stderr };
}

async function addressesIn(env: NetBoxTestEnv, vrfName: string) {
  const vrfs = await fetchOk(env, "GET", `/api/ipam/vrfs/?name=${vrfName}`);
  if (!vrfs.count) return { vrfId: undefined, ips: [] as { id: number; address: string }[] };
  const vrfId: number = vrfs.results[0].id;
  const page = await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrfId}&limit=1000`);
  return { vrfId, ips: page.results as { id: number; address: string }[] };
}

/** The report agrees with NetBox: created entries are there (same id), failed ones are not. */
async function assertTruthful(env: NetBoxTestEnv, vrfName: string, report: Report, at: string) {
  const { ips } = await addressesIn(env, vrfName);
  const counts = new Map<string, number>();
  for (const ip of ips) counts.set(ip.address, (counts.get(ip.address) ?? 0) + 1);
  const dupes = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(dupes, [], `duplicate addresses in NetBox\n${at}`);
  const byAddress = new Map(ips.map((ip) => [ip.address, ip.id]));
  for (const item of report.items.filter((i) => i.model === "ipam.ip-addresses")) {
    if (item.action === "create" || item.action === "unchanged") {
      assert.equal(byAddress.get(item.name), item.id ?? undefined, `${item.name}\n${at}`);
    } else if (item.action === "failed") {
      assert.ok(!byAddress.has(item.name), `${item.name} reported failed but exists\n${at}`);
    }
  }
}

async function faultRun(env: NetBoxTestEnv, rate: number, seed: number) {
  const vrf = uniqueName("faults");
  const dir = await Deno.makeTempDir({ prefix: "nbtk-faults-" });
  const file = `${dir}/inventory.yaml`;
  await Deno.writeTextFile(
    file,
    vrfInventory(
      vrf,
      Array.from(
        { length: N },
        (_, i) => `address: 10.77.${seed}.${i + 1}/24, dns_name: h${i}.faults.example`,
      ),
    ),
  );
  const totals: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  try {
    let done = false;
    for (let run = 0; run < 6 && !done; run++) {
      const proxy = startFaultProxy({
        target: env.url,
        rate,
        seed: seed * 100 + run,
        holdMs: HOLD_MS,
      });
      let result;
      try {
        result = await importVia(proxy.url, file);
      } finally {
        await proxy.close();
      }
      for (const [k, v] of Object.entries(proxy.counts)) totals[k] = (totals[k] ?? 0) + v;
      for (const item of result.report.items) {
        outcomes[item.action] = (outcomes[item.action] ?? 0) + 1;
      }
      const at = `rate ${rate} seed ${seed} run ${run}: ${JSON.stringify(proxy.counts)}\n` +
        result.stderr;
      await assertTruthful(env, vrf, result.report, at);
      const s = result.report.summary;
      done = result.code === 0 && !s.failed && !s.unknown;
    }
    assert.ok(done, `no convergence within 6 runs at rate ${rate}`);
    const { ips } = await addressesIn(env, vrf);
    assert.equal(ips.length, N);
    // The run after convergence, straight to NetBox, writes nothing.
    const last = await runTaskMain(main, [file, "--format", "json"]);
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(writesOf(last.requests), []);
    const faults = (Object.keys(totals) as (FaultKind | "passed")[])
      .filter((k) => k !== "passed").reduce((n, k) => n + totals[k], 0);
    assert.ok(faults > 0, "the proxy injected no fault");
    console.log(
      `faults rate=${rate} seed=${seed}: ${JSON.stringify(totals)} outcomes ${
        JSON.stringify(outcomes)
      }`,
    );
  } finally {
    const { vrfId, ips } = await addressesIn(env, vrf);
    if (ips.length) {
      await fetchOk(env, "DELETE", "/api/ipam/ip-addresses/", ips.map((ip) => ({ id: ip.id })));
    }
    if (vrfId) await fetchOk(env, "DELETE", `/api/ipam/vrfs/${vrfId}/`);
    await Deno.remove(dir, { recursive: true });
  }
}

for (const [rate, seed] of [[0.3, 1], [0.3, 2], [0.6, 3], [0.6, 4]]) {
  netboxTest(
    `bulk-import through a fault proxy (rate ${rate}, seed ${seed}): no duplicate, a truthful report, convergence`,
    (env) => faultRun(env, rate, seed),
  );
}

netboxTest(
  "bulk-import: a create whose answer is lost is read back at once, and what depends on it goes in the same run",
  async (env) => {
    const vrf = uniqueName("faults-lost");
    const dir = await Deno.makeTempDir({ prefix: "nbtk-faults-" });
    const file = `${dir}/inventory.yaml`;
    await Deno.writeTextFile(
      file,
      vrfInventory(vrf, [1, 2, 3].map((i) => `address: 10.78.0.${i}/24`)),
    );
    // NetBox creates the VRF, the gateway loses its answer (502); everything else passes.
    const proxy = losingFirstPost(env, "/api/ipam/vrfs/");
    try {
      const { code, report, stderr } = await importVia(proxy.url, file);
      assert.equal(proxy.counts["lost-502"], 1);
      const vrfItem = report.items.find((i) => i.model === "ipam.vrfs")!;
      assert.equal(vrfItem.action, "create", JSON.stringify(vrfItem));
      assert.match(vrfItem.message ?? "", /answer was lost.*confirmed by reading back/);
      const ips = report.items.filter((i) => i.model === "ipam.ip-addresses");
      assert.deepEqual(ips.map((i) => i.action), ["create", "create", "create"], stderr);
      assert.equal(code, 0, stderr);
      // NetBox holds one VRF of that name, with the reported id, and the three addresses in it.
      const vrfs = await fetchOk(env, "GET", `/api/ipam/vrfs/?name=${vrf}`);
      assert.equal(vrfs.count, 1);
      assert.equal(vrfs.results[0].id, vrfItem.id);
      await assertTruthful(env, vrf, report, stderr);
      assert.equal((await addressesIn(env, vrf)).ips.length, 3);
    } finally {
      await proxy.close();
      const { vrfId, ips } = await addressesIn(env, vrf);
      if (ips.length) {
        await fetchOk(env, "DELETE", "/api/ipam/ip-addresses/", ips.map((ip) => ({ id: ip.id })));
      }
      if (vrfId) await fetchOk(env, "DELETE", `/api/ipam/vrfs/${vrfId}/`);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

netboxTest(
  "bulk-import: a device whose create answer is lost is confirmed before its primary IP is set, all in one run",
  async (env) => {
    const n = uniqueName("faults-dev");
    const dir = await Deno.makeTempDir({ prefix: "nbtk-faults-" });
    const file = `${dir}/inventory.yaml`;
    await Deno.writeTextFile(
      file,
      [
        `sites: [{name: ${n}, slug: ${n}}]`,
        `manufacturers: [{name: ${n}, slug: ${n}}]`,
        `device_types: [{model: ${n}, slug: ${n}, manufacturer: ${n}}]`,
        `device_roles: [{name: ${n}, slug: ${n}}]`,
        `vrfs: [{name: ${n}, enforce_unique: false}]`,
        `devices: [{name: ${n}, site: ${n}, role: ${n}, device_type: ${n}, primary_ip4: 10.79.0.5/24}]`,
        `interfaces: [{device: ${n}, name: eth0, type: 1000base-t}]`,
        `ip_addresses: [{address: 10.79.0.5/24, vrf: ${n}, interface: {device: ${n}, name: eth0}}]`,
        "",
      ].join("\n"),
    );
    // NetBox creates the device, the gateway loses its answer; the primary IP is set later.
    const proxy = losingFirstPost(env, "/api/dcim/devices/");
    try {
      const { code, report, stderr } = await importVia(proxy.url, file);
      assert.equal(proxy.counts["lost-502"], 1);
      const device = report.items.find((i) => i.model === "dcim.devices")!;
      assert.equal(device.action, "create", JSON.stringify(device));
      assert.match(device.message ?? "", /confirmed by reading back/);
      assert.deepEqual(report.items.filter((i) => i.action !== "create"), [], stderr);
      assert.equal(code, 0, stderr);
      const devices = await fetchOk(env, "GET", `/api/dcim/devices/?name=${n}`);
      assert.equal(devices.count, 1);
      assert.equal(devices.results[0].id, device.id);
      assert.equal(devices.results[0].primary_ip4?.address, "10.79.0.5/24");
    } finally {
      await proxy.close();
      const one = async (path: string, query: string) =>
        (await fetchOk(env, "GET", `/api/${path}/?${query}`)).results[0]?.id as number | undefined;
      const del = async (path: string, id: number | undefined) => {
        if (id !== undefined) await fetchOk(env, "DELETE", `/api/${path}/${id}/`).catch(() => {});
      };
      const dev = await one("dcim/devices", `name=${n}`);
      if (dev !== undefined) {
        await fetchOk(env, "PATCH", `/api/dcim/devices/${dev}/`, { primary_ip4: null });
      }
      const { vrfId, ips } = await addressesIn(env, n);
      for (const ip of ips) await del("ipam/ip-addresses", ip.id);
      await del("dcim/devices", dev);
      await del("dcim/device-types", await one("dcim/device-types", `slug=${n}`));
      await del("dcim/manufacturers", await one("dcim/manufacturers", `slug=${n}`));
      await del("dcim/device-roles", await one("dcim/device-roles", `slug=${n}`));
      await del("dcim/sites", await one("dcim/sites", `slug=${n}`));
      await del("ipam/vrfs", vrfId);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/**
 * assign-primary-ip --file through the fault proxy: a row reported done has its address (once)
 * on its VM's eth0 and as the VM's primary_ip4; a row reported failed does not have it as primary;
 * re-runs converge and the run after that writes nothing.
 */
async function assignFaultRun(env: NetBoxTestEnv, rate: number, seed: number) {
  const name = uniqueName("faults-as");
  const made: [string, number][] = [];
  const make = async (path: string, body: Record<string, unknown>) => {
    const obj = await fetchOk(env, "POST", `/api/${path}/`, body);
    made.push([path, obj.id]);
    return obj;
  };
  const dir = await Deno.makeTempDir({ prefix: "nbtk-faults-as-" });
  const file = `${dir}/rows.yaml`;
  const rows = 6;
  try {
    const vrf = await make("ipam/vrfs", { name, enforce_unique: false });
    const type = await make("virtualization/cluster-types", { name, slug: name });
    const cluster = await make("virtualization/clusters", { name, type: type.id });
    const vms: { id: number; name: string; eth0: number }[] = [];
    for (let i = 0; i < rows; i++) {
      const vm = await make("virtualization/virtual-machines", {
        name: `${name}-vm${i}`,
        cluster: cluster.id,
      });
      const eth0 = await fetchOk(env, "POST", "/api/virtualization/interfaces/", {
        virtual_machine: vm.id,
        name: "eth0",
      });
      vms.push({ id: vm.id, name: vm.name, eth0: eth0.id });
    }
    const address = (i: number) => `10.78.${seed}.${i + 1}/24`;
    await Deno.writeTextFile(
      file,
      "rows:\n" +
        vms.map((vm, i) =>
          `  - {vm: ${vm.name}, interface: eth0, address: ${address(i)}, vrf: ${name}}\n`
        ).join(""),
    );
    const totals: Record<string, number> = {};
    let done = false;
    for (let run = 0; run < 6 && !done; run++) {
      const proxy = startFaultProxy({
        target: env.url,
        rate,
        seed: seed * 100 + run,
        holdMs: HOLD_MS,
      });
      let out: { code: number; stdout: string; stderr: string };
      try {
        out = await runTaskMain(
          assignMain,
          ["--file", file, "--format", "json", ...CLIENT_FLAGS],
          { url: proxy.url },
        );
      } finally {
        await proxy.close();
      }
      const code = out.code;
      for (const [k, v] of Object.entries(proxy.counts)) totals[k] = (totals[k] ?? 0) + v;
      const at = `assign rate ${rate} seed ${seed} run ${run}: ${JSON.stringify(proxy.counts)}\n` +
        out.stderr;
      const report = JSON.parse(out.stdout) as {
        items: {
          line: number;
          outcome: "done" | "failed" | "unknown";
          error: string | null;
          ip_id: number | null;
        }[];
      };
      const ips = (await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=100`))
        .results as { id: number; address: string; assigned_object_id: number | null }[];
      const seen = new Map<string, number>();
      for (const ip of ips) seen.set(ip.address, (seen.get(ip.address) ?? 0) + 1);
      assert.deepEqual([...seen].filter(([, n]) => n > 1), [], `duplicates\n${at}`);
      for (const [i, item] of report.items.entries()) {
        const vm = await fetchOk(env, "GET", `/api/virtualization/virtual-machines/${vms[i].id}/`);
        const ip = ips.find((x) => x.address === address(i));
        if (item.error === null) {
          assert.equal(ip?.assigned_object_id, vms[i].eth0, `row ${i}\n${at}`);
          assert.equal(vm.primary_ip4?.id, ip?.id, `row ${i}\n${at}`);
          assert.equal(item.ip_id, ip?.id, `row ${i}\n${at}`);
        } else if (item.outcome === "failed") {
          assert.ok(!ip || vm.primary_ip4?.id !== ip.id, `row ${i} failed but is done\n${at}`);
        } else {
          // Unknown: the answer was lost and NetBox may still be making the change.
          assert.equal(item.outcome, "unknown", `row ${i}\n${at}`);
          assert.match(item.error ?? "", /Cannot tell whether/, `row ${i}\n${at}`);
        }
      }
      done = code === 0;
    }
    assert.ok(done, `no convergence within 6 runs at rate ${rate}`);
    const last = await runTaskMain(assignMain, ["--file", file, "--format", "json"]);
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(writesOf(last.requests), []);
    console.log(`assign faults rate=${rate} seed=${seed}: ${JSON.stringify(totals)}`);
  } finally {
    const vrfId = made.find(([path]) => path === "ipam/vrfs")?.[1];
    for (const [path, id] of [...made].reverse()) {
      if (path === "virtualization/virtual-machines") {
        await fetchOk(env, "PATCH", `/api/${path}/${id}/`, { primary_ip4: null }).catch(() => {});
      }
    }
    if (vrfId !== undefined) {
      const ips = await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrfId}&limit=100`);
      if (ips.results.length) {
        await fetchOk(
          env,
          "DELETE",
          "/api/ipam/ip-addresses/",
          ips.results.map((r: { id: number }) => ({ id: r.id })),
        );
      }
    }
    for (const [path, id] of made.reverse()) {
      await fetchOk(env, "DELETE", `/api/${path}/${id}/`).catch(() => {});
    }
    await Deno.remove(dir, { recursive: true });
  }
}

for (const [rate, seed] of [[0.3, 5], [0.6, 6]]) {
  netboxTest(
    `assign-primary-ip --file through a fault proxy (rate ${rate}, seed ${seed}): no duplicate, a truthful report, convergence`,
    (env) => assignFaultRun(env, rate, seed),
  );
}

/**
 * find-free-ip --reserve through the fault proxy: a reservation is made exactly once. When the
 * task says it reserved addresses, NetBox holds exactly those (once each); when it fails, NetBox
 * holds none; "unknown" (exit 1) only when it cannot tell.
 */
async function reserveFaultRun(env: NetBoxTestEnv, rate: number, seeds: number[]) {
  const name = uniqueName("faults-rs");
  const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name, enforce_unique: false });
  const outcomes: Record<string, number> = {};
  const totals: Record<string, number> = {};
  try {
    for (const seed of seeds) {
      const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
        prefix: `10.79.${seed}.0/28`,
        vrf: vrf.id,
        status: "active",
      });
      const proxy = startFaultProxy({ target: env.url, rate, seed, holdMs: HOLD_MS });
      let out: { code: number; stdout: string; stderr: string };
      try {
        out = await runTaskMain(
          findFreeMain,
          [
            "--prefix",
            prefix.prefix,
            "--vrf",
            name,
            "--reserve",
            "--count",
            "3",
            "--format",
            "json",
            "--timeout",
            TIMEOUT,
            "--settle",
            SETTLE,
          ],
          { url: proxy.url },
        );
      } finally {
        await proxy.close();
      }
      const code = out.code;
      for (const [k, v] of Object.entries(proxy.counts)) totals[k] = (totals[k] ?? 0) + v;
      const at =
        `reserve rate ${rate} seed ${seed}: exit ${code} ${JSON.stringify(proxy.counts)}\n` +
        out.stderr;
      const held = (await fetchOk(
        env,
        "GET",
        `/api/ipam/ip-addresses/?parent=${prefix.prefix}&vrf_id=${vrf.id}&limit=100`,
      )).results as { id: number; address: string }[];
      assert.equal(new Set(held.map((ip) => ip.address)).size, held.length, `duplicates\n${at}`);
      if (code === 0) {
        const doc = JSON.parse(out.stdout) as { items: { address: string; id: number }[] };
        outcomes.reserved = (outcomes.reserved ?? 0) + 1;
        assert.deepEqual(
          doc.items.map((i) => i.id).sort((a, b) => a - b),
          held.map((ip) => ip.id).sort((a, b) => a - b),
          at,
        );
        assert.equal(held.length, 3, at);
      } else if (code === 1) {
        outcomes.unknown = (outcomes.unknown ?? 0) + 1;
        assert.match(out.stderr, /Cannot tell whether/, at);
      } else {
        outcomes.failed = (outcomes.failed ?? 0) + 1;
        assert.deepEqual(held, [], `reported failed, but NetBox holds addresses\n${at}`);
      }
      if (held.length) {
        await fetchOk(env, "DELETE", "/api/ipam/ip-addresses/", held.map((ip) => ({ id: ip.id })));
      }
      await fetchOk(env, "DELETE", `/api/ipam/prefixes/${prefix.id}/`);
    }
    const faults = Object.entries(totals).filter(([k]) => k !== "passed")
      .reduce((n, [, v]) => n + v, 0);
    assert.ok(faults > 0, "the proxy injected no fault");
    console.log(
      `reserve faults rate=${rate}: ${JSON.stringify(totals)} outcomes ${JSON.stringify(outcomes)}`,
    );
  } finally {
    await fetchOk(env, "DELETE", `/api/ipam/vrfs/${vrf.id}/`).catch(() => {});
  }
}

netboxTest(
  "find-free-ip --reserve through a fault proxy (rate 0.7, 8 seeds): exactly once, a truthful exit code",
  (env) => reserveFaultRun(env, 0.7, [11, 12, 13, 14, 15, 16, 17, 18]),
);
