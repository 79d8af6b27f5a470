/** The small NetBox of the inventory tests (lib and task). */
import type { Obj } from "../_fake_netbox.ts";
import { FakeNetBox } from "../_fake_netbox.ts";

const ref = (id: number, slug: string, extra: Obj | Record<string, unknown> = {}) => ({
  id,
  slug,
  name: slug,
  ...extra,
});
export const status = { value: "active", label: "Active" };
const ip = (id: number, address: string) => ({
  id,
  address,
  family: address.includes(":") ? 6 : 4,
});

/** A small NetBox: two sites (one in a nested region, a site group, nested locations), a rack,
 * a cluster, three devices (one without an address, one a virtual-chassis member) and a VM. */
export function fixture(extraDevices = 0): FakeNetBox {
  const nb = new FakeNetBox();
  nb.load("dcim/regions", [
    { id: 1, slug: "world", parent: null },
    { id: 2, slug: "eu", parent: { id: 1, slug: "world" } },
  ]);
  nb.load("dcim/site-groups", [{ id: 3, slug: "edge", parent: null }]);
  nb.load("dcim/sites", [
    { id: 10, slug: "matrix", region: { id: 2 }, group: { id: 3 } },
    { id: 11, slug: "zion", region: null, group: null },
  ]);
  nb.load("dcim/locations", [
    { id: 20, slug: "floor1", parent: null, site: { id: 10 } },
    { id: 21, slug: "room1", parent: { id: 20 }, site: { id: 10 } },
  ]);
  nb.load("dcim/racks", [{ id: 30, name: "R 1", role: { id: 31, slug: "network" } }]);
  nb.load("virtualization/clusters", [
    { id: 40, name: "kvm one", type: { id: 41, slug: "kvm" }, group: { id: 42, slug: "lab" } },
  ]);
  const device = (id: number, name: string, more: Obj | Record<string, unknown>) => ({
    id,
    name,
    status,
    site: ref(11, "zion"),
    tenant: null,
    role: ref(50, "access"),
    platform: null,
    device_type: ref(60, "sw48", { manufacturer: ref(61, "acme") }),
    rack: null,
    location: null,
    cluster: null,
    primary_ip4: null,
    primary_ip6: null,
    oob_ip: null,
    tags: [],
    custom_fields: { owner: null },
    serial: "",
    asset_tag: null,
    local_context_data: null,
    virtual_chassis: null,
    config_context: { ntp: "10.0.0.1" },
    description: "desc " + name,
    ...more,
  });
  nb.load("dcim/devices", [
    device(100, "core1", {
      site: ref(10, "matrix"),
      location: ref(21, "room1"),
      rack: { id: 30, name: "R 1" },
      role: ref(51, "core"),
      platform: ref(52, "eos"),
      tenant: ref(53, "acme-corp"),
      tags: [ref(54, "prod"), ref(55, "bgp")],
      primary_ip4: ip(1000, "192.0.2.1/24"),
      primary_ip6: ip(1001, "2001:db8::1/64"),
      custom_fields: { owner: "net", unset: null },
      virtual_chassis: { id: 70, name: "vc", master: { id: 100 } },
    }),
    device(101, "core1-member", {
      site: ref(10, "matrix"),
      role: ref(51, "core"),
      primary_ip4: ip(1002, "192.0.2.2/24"),
      virtual_chassis: { id: 70, name: "vc", master: { id: 100 } },
    }),
    device(102, "noip", {}),
    ...Array.from(
      { length: extraDevices },
      (_, i) =>
        device(200 + i, `extra${i}`, { primary_ip4: ip(3000 + i, `198.51.100.${i + 1}/24`) }),
    ),
  ]);
  nb.load("virtualization/virtual-machines", [{
    id: 300,
    name: "vm1",
    status,
    site: ref(10, "matrix"),
    tenant: null,
    role: ref(51, "core"),
    platform: null,
    cluster: { id: 40, name: "kvm one" },
    device: null,
    primary_ip4: null,
    primary_ip6: ip(1003, "2001:db8::10/64"),
    tags: [],
    custom_fields: {},
    serial: "",
    local_context_data: { a: 1 },
    disk: 10,
    memory: 2048,
    vcpus: null,
    config_context: {},
  }]);
  nb.load("dcim/interfaces", [
    { id: 500, name: "eth0", device: { id: 100 }, tags: [ref(54, "prod")] },
    { id: 501, name: "eth1", device: { id: 101 }, tags: [] },
  ]);
  nb.load("virtualization/interfaces", [{
    id: 500,
    name: "veth0",
    virtual_machine: { id: 300 },
    tags: [],
  }]);
  nb.load("ipam/ip-addresses", [
    {
      id: 1000,
      address: "192.0.2.1/24",
      dns_name: "core1.example.net",
      assigned_object_type: "dcim.interface",
      assigned_object_id: 500,
      assigned_object: { id: 500, device: { id: 100 } },
    },
    {
      id: 1003,
      address: "2001:db8::10/64",
      dns_name: "",
      assigned_object_type: "virtualization.vminterface",
      assigned_object_id: 500,
      assigned_object: { id: 500, virtual_machine: { id: 300 } },
    },
  ]);
  return nb;
}
