/**
 * audit-ips --observed against the real NetBox: a VRF of its own (audited with --vrf, so other
 * engineers' data never leaks in) holding one prefix, a VM interface with a MAC
 * address object and five addresses; an `ip neigh` file and a dnsmasq lease file plant exactly
 * one finding per network rule. Then --fix --apply, NetBox read back, and a clean re-audit.
 */

import assert from "node:assert/strict";
import type { TaskIO } from "../../lib/cli/io.ts";
import { createClient } from "../../lib/client/client.ts";
import { main } from "../../tasks/audit-ips.ts";
import { dropVrf } from "./_cleanup.ts";
import { netboxTest, uniqueName } from "./_netbox.ts";

const NETWORK_RULES = ["live-undocumented", "documented-unseen", "mac-mismatch", "status-mismatch"];

netboxTest(
  "audit-ips --observed: each network rule where planted; --fix --apply, then clean",
  async (env) => {
    const nb = createClient({ url: env.url, token: env.token, timeoutMs: 60_000 });
    const name = uniqueName("nbtk-net");
    const dir = await Deno.makeTempDir();
    const cleanup: (() => Promise<unknown>)[] = [];
    try {
      const vrf = await nb.ipam.vrfs.create({ name });
      cleanup.push(() => dropVrf(nb, vrf.id));
      const site = await nb.dcim.sites.create({ name, slug: name });
      cleanup.push(() => nb.dcim.sites.delete(site.id));
      const vm = await nb.virtualization.virtualMachines.create({ name, site: site.id });
      cleanup.push(() => nb.virtualization.virtualMachines.delete(vm.id));
      const iface = await nb.virtualization.interfaces.create({
        virtual_machine: vm.id,
        name: "eth0",
      });
      const mac = await nb.dcim.macAddresses.create({
        mac_address: "02:00:00:00:00:01",
        assigned_object_type: "virtualization.vminterface",
        assigned_object_id: iface.id,
      });
      cleanup.push(() => nb.dcim.macAddresses.delete(mac.id));
      await nb.ipam.prefixes.create({ prefix: "10.250.0.0/24", vrf: vrf.id });
      const onIface = {
        assigned_object_type: "virtualization.vminterface",
        assigned_object_id: iface.id,
      };
      const made = await nb.ipam.ipAddresses.create([
        { address: "10.250.0.1/24", vrf: vrf.id, status: "active", ...onIface }, // wrong MAC seen
        { address: "10.250.0.2/24", vrf: vrf.id, status: "reserved" }, // reserved but live
        { address: "10.250.0.3/24", vrf: vrf.id, status: "active" }, // unseen
        { address: "10.250.0.5/24", vrf: vrf.id, status: "active", ...onIface }, // all well
        { address: "10.250.0.6/24", vrf: vrf.id, status: "dhcp" }, // a lease, in no range
      ]);
      assert.equal(made.failed.length, 0);
      const ids = Object.fromEntries(made.succeeded.map((ip) => [String(ip.address), ip.id]));
      const neigh = `${dir}/neigh.txt`;
      await Deno.writeTextFile(
        neigh,
        [
          "10.250.0.1 dev eth0 lladdr 02:00:00:00:00:99 REACHABLE",
          "10.250.0.2 dev eth0 lladdr 02:00:00:00:00:02 STALE",
          "10.250.0.5 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE",
          "10.250.0.9 dev eth0 lladdr 02:00:00:00:00:09 REACHABLE",
          "10.250.0.3 dev eth0  FAILED",
        ].join("\n") + "\n",
      );
      const leases = `${dir}/dnsmasq.leases`;
      await Deno.writeTextFile(
        leases,
        "0 02:00:00:00:00:06 10.250.0.6 six *\n",
      );
      const tag = uniqueName("nbtk-found");
      const base = [
        "--vrf",
        name,
        "--observed",
        `vrf=${name}:${neigh}`,
        "--observed",
        `vrf=${name}:${leases}`,
        "--unseen-days",
        "0",
        "--format",
        "json",
        "--fail-on",
        "never",
      ];
      const audit = async (extra: string[] = []) => {
        const out: string[] = [];
        const err: string[] = [];
        const io: TaskIO = {
          stdout: (t) => void out.push(t),
          stderr: (t) => void err.push(t),
          env: (k) =>
            ({ NETBOX_URL: env.url, NETBOX_TOKEN: env.token } as Record<string, string>)[k],
          stderrIsTerminal: false,
          readTextFile: (p) => Deno.readTextFile(p),
          now: () => new Date(),
        };
        const code = await main([...base, ...extra], io);
        assert.equal(code, 0, err.join(""));
        return JSON.parse(out.join(""));
      };
      const network = (doc: { items: { rule: string; address: string }[] }) =>
        doc.items.filter((f) => NETWORK_RULES.includes(f.rule)).map((f) => `${f.rule} ${f.address}`)
          .sort();

      cleanup.push(async () => {
        const made = await nb.extras.tags.find({ slug: tag });
        if (made) await nb.extras.tags.delete(made.id);
      });
      // One run finds and fixes (its findings are those before the fix).
      const first = await audit(["--fix", "--apply", "--discovered-tag", tag]);
      assert.deepEqual(network(first), [
        "documented-unseen 10.250.0.3/24",
        "live-undocumented 10.250.0.9/24",
        "mac-mismatch 10.250.0.1/24",
        "status-mismatch 10.250.0.2/24",
        "status-mismatch 10.250.0.6/24",
      ]);
      const macFinding = first.items.find((f: { rule: string }) => f.rule === "mac-mismatch");
      assert.equal(macFinding.object_id, ids["10.250.0.1/24"]);
      assert.match(
        macFinding.message,
        /02:00:00:00:00:99 .* eth0 of nbtk-net-\w+ has 02:00:00:00:00:01/,
      );

      const fixed = first;
      assert.deepEqual(
        fixed.fixes.items.map((i: { rule: string; status: string }) => `${i.rule} ${i.status}`),
        ["live-undocumented applied", "documented-unseen applied"],
      );
      // Read back: the undocumented address exists in the VRF with the status and tag named; the
      // unseen one carries audit-unseen.
      const [created] = await nb.ipam.ipAddresses.all({ vrf_id: vrf.id, address: "10.250.0.9" });
      assert.equal(created.address, "10.250.0.9/24");
      assert.equal(created.status?.value, "active");
      assert.deepEqual(created.tags?.map((t) => t.slug), [tag]);
      const unseen = await nb.ipam.ipAddresses.get(ids["10.250.0.3/24"]);
      assert.deepEqual(unseen.tags?.map((t) => t.slug), ["audit-unseen"]);

      const again = await audit();
      assert.deepEqual(network(again), [
        "mac-mismatch 10.250.0.1/24",
        "status-mismatch 10.250.0.2/24",
        "status-mismatch 10.250.0.6/24",
      ]);
    } finally {
      for (const step of cleanup.reverse()) {
        await step().catch((err) =>
          console.error(`cleanup: ${(err as Error).message.slice(0, 200)}`)
        );
      }
      nb.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
