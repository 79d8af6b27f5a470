/**
 * Interrupts: Ctrl-C (SIGINT) or SIGTERM in the middle of a bulk-import run as the deno.json task
 * runs it. The task sends no new write, lets the ones in flight finish, keeps the audit log
 * complete, reports what was done and what was not, and exits 130 (143 for TERM). NetBox is
 * counted afterwards, not the report: what the report calls done is exactly what NetBox holds, a
 * re-run completes the rest with no duplicate, and the run after that writes nothing.
 */

import assert from "node:assert/strict";
import { childEnv, readTaskEntries, ROOT, taskEntry } from "../_deno_tasks.ts";
import { startFaultProxy } from "../_fault_proxy.ts";
import { fetchOk, netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";

const entry = taskEntry(await readTaskEntries(), "bulk-import");

interface Run {
  code: number;
  report: { summary: Record<string, number>; items: { action: string; id: number | null }[] };
  stderr: string;
  auditIds: number[];
}

/** Runs bulk-import; with `signal`, sends it once NetBox holds one of the sites. */
async function runImport(
  env: NetBoxTestEnv,
  file: string,
  slugPrefix: string,
  signal?: Deno.Signal,
): Promise<Run> {
  const log = `${file}.audit.jsonl`;
  await Deno.remove(log).catch(() => {});
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...entry.denoFlags,
      entry.script,
      file,
      "--format",
      "json",
      "--chunk-size",
      "5",
      "--concurrency",
      "1",
      "--audit-log",
      log,
    ],
    cwd: ROOT,
    env: childEnv({ NETBOX_URL: env.url, NETBOX_TOKEN: env.token }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  if (signal) {
    for (let i = 0; i < 600; i++) {
      if (await countSites(env, slugPrefix) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill(signal);
  }
  const out = await output;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const text = await Deno.readTextFile(log).catch(() => "");
  const auditIds = text.trim().split("\n").filter(Boolean)
    .flatMap((line) => (JSON.parse(line) as { ids: number[] }).ids);
  let report: Run["report"];
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new Error(
      `no JSON report (exit ${out.code})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
    );
  }
  return { code: out.code, report, stderr, auditIds };
}

async function sitesOf(
  env: NetBoxTestEnv,
  slugPrefix: string,
): Promise<{ id: number; slug: string }[]> {
  const page = await fetchOk(
    env,
    "GET",
    `/api/dcim/sites/?slug__isw=${slugPrefix}&limit=1000&brief=1`,
  );
  return page.results;
}

async function countSites(env: NetBoxTestEnv, slugPrefix: string): Promise<number> {
  const page = await fetchOk(
    env,
    "GET",
    `/api/dcim/sites/?slug__isw=${slugPrefix}&limit=1&brief=1`,
  );
  return page.count;
}

async function interruptedImport(env: NetBoxTestEnv, signal: Deno.Signal, exitCode: number) {
  const prefix = uniqueName("intr").toLowerCase();
  const n = 150;
  const dir = await Deno.makeTempDir({ prefix: "nbtk-intr-" });
  const file = `${dir}/sites.yaml`;
  await Deno.writeTextFile(
    file,
    "sites:\n" +
      Array.from({ length: n }, (_, i) => {
        const slug = `${prefix}-${String(i).padStart(4, "0")}`;
        return `  - {name: ${slug}, slug: ${slug}, status: planned}\n`;
      }).join(""),
  );
  try {
    const first = await runImport(env, file, prefix, signal);
    const at = `--- stderr\n${first.stderr}`;
    assert.equal(first.code, exitCode, at);
    assert.match(first.stderr, new RegExp(`interrupted \\(${signal}\\)`), at);
    assert.match(first.stderr, /run the same command again to finish/, at);
    const created = first.report.items.filter((i) => i.action === "create");
    const notSent = first.report.items.filter((i) => i.action === "not-sent");
    assert.ok(created.length > 0 && notSent.length > 0, at);
    assert.equal(created.length + notSent.length, n, at);
    assert.equal(first.report.summary.not_sent, notSent.length);
    // What the report calls done is exactly what NetBox holds, and what the audit log names.
    const held = await sitesOf(env, prefix);
    assert.deepEqual(
      held.map((s) => s.id).sort((a, b) => a - b),
      created.map((i) => i.id!).sort((a, b) => a - b),
    );
    assert.deepEqual(
      [...first.auditIds].sort((a, b) => a - b),
      held.map((s) => s.id).sort((a, b) => a - b),
    );

    const second = await runImport(env, file, prefix);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.report.summary.create, notSent.length);
    assert.equal(second.report.summary.unchanged, created.length);
    const all = await sitesOf(env, prefix);
    assert.equal(all.length, n);
    assert.equal(new Set(all.map((s) => s.slug)).size, n);

    const third = await runImport(env, file, prefix);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.report.summary.unchanged, n);
    assert.deepEqual(third.auditIds, []);
  } finally {
    const left = await sitesOf(env, prefix);
    if (left.length) {
      await fetchOk(env, "DELETE", "/api/dcim/sites/", left.map((s) => ({ id: s.id })));
    }
    await Deno.remove(dir, { recursive: true });
  }
}

netboxTest(
  "bulk-import stopped by Ctrl-C finishes the writes in flight, exits 130, and a re-run converges",
  async (env) => {
    await interruptedImport(env, "SIGINT", 130);
  },
);

netboxTest("bulk-import stopped by SIGTERM exits 143 with the same guarantees", async (env) => {
  await interruptedImport(env, "SIGTERM", 143);
});

netboxTest(
  "assign-primary-ip --file stopped by Ctrl-C finishes the row in flight, exits 130, and a re-run converges",
  async (env) => {
    const name = uniqueName("intr-as").toLowerCase();
    const rows = 20;
    const dir = await Deno.makeTempDir({ prefix: "nbtk-intr-as-" });
    const file = `${dir}/rows.yaml`;
    const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name, enforce_unique: false });
    const type = await fetchOk(env, "POST", "/api/virtualization/cluster-types/", {
      name,
      slug: name,
    });
    const cluster = await fetchOk(env, "POST", "/api/virtualization/clusters/", {
      name,
      type: type.id,
    });
    const vms: { id: number; name: string }[] = await fetchOk(
      env,
      "POST",
      "/api/virtualization/virtual-machines/",
      Array.from({ length: rows }, (_, i) => ({ name: `${name}-${i}`, cluster: cluster.id })),
    );
    await fetchOk(
      env,
      "POST",
      "/api/virtualization/interfaces/",
      vms.map((vm) => ({ virtual_machine: vm.id, name: "eth0" })),
    );
    const address = (i: number) => `10.80.0.${i + 1}/24`;
    await Deno.writeTextFile(
      file,
      "rows:\n" +
        vms.map((vm, i) =>
          `  - {vm: ${vm.name}, interface: eth0, address: ${address(i)}, vrf: ${name}}\n`
        )
          .join(""),
    );
    const held = async () =>
      (await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=100`)).results as {
        id: number;
        address: string;
      }[];
    const entryAs = taskEntry(await readTaskEntries(), "assign-primary-ip");
    const run = async (signal?: Deno.Signal) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...entryAs.denoFlags,
          entryAs.script,
          "--file",
          file,
          "--format",
          "json",
          "--concurrency",
          "1",
        ],
        cwd: ROOT,
        env: childEnv({ NETBOX_URL: env.url, NETBOX_TOKEN: env.token }),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      if (signal) {
        for (let i = 0; i < 600 && (await held()).length === 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        child.kill(signal);
      }
      const out = await output;
      const dec = new TextDecoder();
      return {
        code: out.code,
        stderr: dec.decode(out.stderr),
        doc: JSON.parse(dec.decode(out.stdout)) as {
          items: {
            target: string;
            error: string | null;
            ip_id: number | null;
            actions: string[];
          }[];
        },
      };
    };
    try {
      const first = await run("SIGINT");
      assert.equal(first.code, 130, first.stderr);
      const done = first.doc.items.filter((i) => i.error === null);
      const notSent = first.doc.items.filter((i) =>
        /stopped before it was started/.test(i.error ?? "")
      );
      assert.ok(done.length > 0 && notSent.length > 0, first.stderr);
      assert.equal(done.length + notSent.length, rows, first.stderr);
      // NetBox holds exactly the done rows' addresses, each its VM's primary.
      const ips = await held();
      assert.deepEqual(
        ips.map((ip) => ip.id).sort((a, b) => a - b),
        done.map((i) => i.ip_id!).sort((a, b) => a - b),
      );
      for (const [i, vm] of vms.entries()) {
        const v = await fetchOk(env, "GET", `/api/virtualization/virtual-machines/${vm.id}/`);
        const ip = ips.find((x) => x.address === address(i));
        assert.equal(v.primary_ip4?.id ?? null, ip?.id ?? null, vm.name);
      }
      const second = await run();
      assert.equal(second.code, 0, second.stderr);
      assert.equal((await held()).length, rows);
      const third = await run();
      assert.equal(third.code, 0, third.stderr);
      assert.ok(third.doc.items.every((i) => i.actions.join() === "unchanged"));
    } finally {
      for (const vm of vms) {
        await fetchOk(env, "PATCH", `/api/virtualization/virtual-machines/${vm.id}/`, {
          primary_ip4: null,
        })
          .catch(() => {});
      }
      const ips = await held();
      if (ips.length) {
        await fetchOk(env, "DELETE", "/api/ipam/ip-addresses/", ips.map((ip) => ({ id: ip.id })));
      }
      await fetchOk(
        env,
        "DELETE",
        "/api/virtualization/virtual-machines/",
        vms.map((vm) => ({ id: vm.id })),
      );
      await fetchOk(env, "DELETE", `/api/virtualization/clusters/${cluster.id}/`);
      await fetchOk(env, "DELETE", `/api/virtualization/cluster-types/${type.id}/`);
      await fetchOk(env, "DELETE", `/api/ipam/vrfs/${vrf.id}/`);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

netboxTest(
  "find-free-ip --reserve interrupted while its reservation is in flight reports it, exits 130, and a re-run finds it",
  async (env) => {
    const name = uniqueName("intr-rs").toLowerCase();
    const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name, enforce_unique: true });
    const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
      prefix: "10.81.0.0/28",
      vrf: vrf.id,
      status: "active",
    });
    const entryFf = taskEntry(await readTaskEntries(), "find-free-ip");
    const held = async () =>
      (await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=100`)).results as {
        id: number;
        address: string;
      }[];
    let child: Deno.ChildProcess | undefined;
    // The proxy holds the reservation's answer for a while: the interrupt arrives while it is in
    // flight (NetBox has it), as a Ctrl-C during a slow request would.
    const proxy = startFaultProxy({
      target: env.url,
      rate: 1,
      seed: 1,
      kinds: ["lost-timeout"],
      methods: ["POST"],
      holdMs: 1500,
      onFault: () => setTimeout(() => child?.kill("SIGINT"), 200),
    });
    const run = async (url: string) => {
      child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...entryFf.denoFlags,
          entryFf.script,
          "--prefix",
          prefix.prefix,
          "--vrf",
          name,
          "--reserve",
          "--count",
          "3",
          "--dns-name",
          `${name}-{n}.example`,
          "--timeout",
          "20",
          "--format",
          "json",
        ],
        cwd: ROOT,
        env: childEnv({ NETBOX_URL: url, NETBOX_TOKEN: env.token }),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = await child.output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    try {
      const first = await run(proxy.url);
      assert.equal(first.code, 130, first.stderr);
      assert.match(first.stderr, /interrupted \(SIGINT\)/);
      const doc = JSON.parse(first.stdout) as { items: { id: number }[] };
      const ips = await held();
      assert.equal(ips.length, 3);
      assert.deepEqual(
        doc.items.map((i) => i.id).sort((a, b) => a - b),
        ips.map((ip) => ip.id).sort((a, b) => a - b),
      );
      const second = await run(env.url);
      assert.equal(second.code, 0, second.stderr);
      const again = JSON.parse(second.stdout) as { items: { id: number }[] };
      assert.deepEqual(
        again.items.map((i) => i.id).sort((a, b) => a - b),
        ips.map((ip) => ip.id).sort((a, b) => a - b),
      );
      assert.equal((await held()).length, 3);
    } finally {
      await proxy.close();
      const ips = await held();
      if (ips.length) {
        await fetchOk(env, "DELETE", "/api/ipam/ip-addresses/", ips.map((ip) => ({ id: ip.id })));
      }
      await fetchOk(env, "DELETE", `/api/ipam/prefixes/${prefix.id}/`);
      await fetchOk(env, "DELETE", `/api/ipam/vrfs/${vrf.id}/`);
    }
  },
);
