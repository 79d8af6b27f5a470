/**
 * The inventory task on the real NetBox: a handful of hosts it creates (a device with an IPv4
 * primary, a device without a primary IP, a VM with an IPv6 primary) in a site, region, role,
 * platform, tag, tenant and cluster of their own; checks hosts, groups, `ansible_host`,
 * interfaces and that every model was listed once (pages, not hosts).
 */
import assert from "node:assert/strict";
import { main } from "../../tasks/inventory.ts";
import {
  type Body,
  deleteIds,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  uniqueName,
} from "./_netbox.ts";
import { runTaskMain } from "./_run_task.ts";

const byte = () => 2 + Math.floor(Math.random() * 250);

async function seed(env: NetBoxTestEnv, made: [string, number][]) {
  const post = async (path: string, body: Body): Promise<Body> => {
    const o = await fetchOk(env, "POST", `/api/${path}/`, body);
    made.push([path, o.id]);
    return o;
  };
  const n = uniqueName("nbtk-inv");
  const named = (suffix: string) => ({ name: `${n}-${suffix}`, slug: `${n}-${suffix}` });
  const tag = await post("extras/tags", named("tag"));
  const tenant = await post("tenancy/tenants", named("tenant"));
  const region = await post("dcim/regions", named("region"));
  const site = await post("dcim/sites", { ...named("site"), region: region.id });
  const role = await post("dcim/device-roles", { ...named("role"), vm_role: true });
  const platform = await post("dcim/platforms", named("platform"));
  const maker = await post("dcim/manufacturers", named("maker"));
  const type = await post("dcim/device-types", {
    manufacturer: maker.id,
    model: `${n}-type`,
    slug: `${n}-type`,
  });
  const ctype = await post("virtualization/cluster-types", named("ctype"));
  const cluster = await post("virtualization/clusters", { name: `${n}-cluster`, type: ctype.id });
  const device = (name: string, more: Body = {}) =>
    post("dcim/devices", {
      name: `${n}-${name}`,
      device_type: type.id,
      role: role.id,
      site: site.id,
      tags: [tag.id],
      ...more,
    });
  const d1 = await device("d1", { platform: platform.id, tenant: tenant.id });
  await device("d2");
  const vm = await post("virtualization/virtual-machines", {
    name: `${n}-vm`,
    cluster: cluster.id,
    site: site.id,
    role: role.id,
    tags: [tag.id],
  });
  const eth = await post("dcim/interfaces", { device: d1.id, name: "eth0", type: "virtual" });
  const veth = await post("virtualization/interfaces", { virtual_machine: vm.id, name: "eth0" });
  const v4 = `10.${byte()}.${byte()}.${byte()}`;
  const v6 = `fd00:${byte().toString(16)}:${byte().toString(16)}::${byte().toString(16)}`;
  const ip4 = await post("ipam/ip-addresses", {
    address: `${v4}/24`,
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth.id,
  });
  const ip6 = await post("ipam/ip-addresses", {
    address: `${v6}/64`,
    assigned_object_type: "virtualization.vminterface",
    assigned_object_id: veth.id,
  });
  await fetchOk(env, "PATCH", `/api/dcim/devices/${d1.id}/`, { primary_ip4: ip4.id });
  await fetchOk(env, "PATCH", `/api/virtualization/virtual-machines/${vm.id}/`, {
    primary_ip6: ip6.id,
  });
  // NetBox 4.3 and later: a service's host is its parent object.
  await post("ipam/services", {
    parent_object_type: "dcim.device",
    parent_object_id: d1.id,
    name: "ssh",
    protocol: "tcp",
    ports: [22],
  });
  await post("virtualization/virtual-disks", { virtual_machine: vm.id, name: "root", size: 10 });
  return { n, v4, v6: ip6.address.split("/")[0] as string };
}

netboxTest(
  "inventory: hosts, nb_inventory's groups and ansible_host from the real NetBox, in one listing per model",
  async (env) => {
    const made: [string, number][] = [];
    try {
      const { n, v4, v6 } = await seed(env, made);
      const run = await runTaskMain(main, [
        "--filter",
        `tag=${n}-tag`,
        "--group-by",
        "site,role,platform,tag,tenant,cluster,region",
        "--interfaces",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const doc = JSON.parse(run.stdout);
      const d1 = `${n}-d1`, vm = `${n}-vm`;
      assert.deepEqual(Object.keys(doc._meta.hostvars), [d1, vm]);
      assert.match(run.stderr, new RegExp(`device ${n}-d2 has no primary IP: left out`));
      assert.deepEqual(doc[`site_${n}-site`], { hosts: [d1, vm] });
      assert.deepEqual(doc[`region_${n}-region`], { children: [`site_${n}-site`] });
      assert.deepEqual(doc[`role_${n}-role`], { hosts: [d1, vm] });
      assert.deepEqual(doc[`tag_${n}-tag`], { hosts: [d1, vm] });
      assert.deepEqual(doc[`platform_${n}-platform`], { hosts: [d1] });
      assert.deepEqual(doc[`tenant_${n}-tenant`], { hosts: [d1] });
      assert.deepEqual(doc[`cluster_${n}-cluster`], { hosts: [vm] });
      assert.ok(doc.all.children.includes(`region_${n}-region`));
      const vars = doc._meta.hostvars;
      assert.equal(vars[d1].ansible_host, v4);
      assert.equal(vars[vm].ansible_host, v6);
      assert.deepEqual(vars[d1].regions, [`${n}-region`]);
      assert.equal(vars[vm].cluster_type, `${n}-ctype`);
      assert.deepEqual(
        vars[d1].interfaces.map((i: Body) => [i.name, i.ip_addresses.map((a: Body) => a.address)]),
        [["eth0", [`${v4}/24`]]],
      );
      assert.equal(vars[vm].interfaces[0].ip_addresses[0].address.split("/")[0], v6);
      // One listing per model (each fits a page here), never a request per host.
      const gets = run.requests.filter((r) => r.startsWith("GET "));
      assert.ok(!gets.some((r) => /\/\d+\/$/.test(r)), gets.join("\n"));
      assert.equal(gets.filter((r) => r === "GET /api/dcim/devices/").length, 1);
      assert.equal(gets.filter((r) => r === "GET /api/dcim/interfaces/").length, 1);
      assert.ok(gets.length <= 14, gets.join("\n"));

      // nb_inventory's services, virtual disks and plurals: true variables
      const extra = await runTaskMain(main, [
        "--filter",
        `tag=${n}-tag`,
        "--services",
        "--virtual-disks",
        "--plurals",
      ]);
      assert.equal(extra.code, 0, extra.stderr);
      const xv = JSON.parse(extra.stdout)._meta.hostvars;
      assert.deepEqual(xv[d1].services.map((s: Body) => [s.name, s.ports]), [["ssh", [22]]]);
      assert.deepEqual(xv[vm].services, []);
      assert.deepEqual(xv[vm].virtual_disks.map((d: Body) => [d.name, d.size]), [["root", 10]]);
      assert.deepEqual(xv[d1].virtual_disks, []);
      assert.deepEqual(xv[d1].sites, [`${n}-site`]);
      assert.deepEqual(xv[d1].device_roles, [`${n}-role`]);
      assert.deepEqual(xv[d1].platforms, [`${n}-platform`]);
      assert.equal(xv[d1].site, undefined);

      // --host and --include-no-ip
      const host = await runTaskMain(main, ["--host", vm, "--filter", `tag=${n}-tag`]);
      assert.equal(JSON.parse(host.stdout).ansible_host, v6);
      const all = await runTaskMain(main, [
        "--filter",
        `tag=${n}-tag`,
        "--include-no-ip",
        "--devices",
      ]);
      assert.deepEqual(Object.keys(JSON.parse(all.stdout)._meta.hostvars), [d1, `${n}-d2`]);
    } finally {
      for (const [path, id] of made.reverse()) {
        if (path.endsWith("interfaces")) continue; // deleted with their device / VM
        await deleteIds(env, path, [id]);
      }
    }
  },
);
