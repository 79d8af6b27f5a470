/**
 * Type fixture, never run: `tests/types_test.ts` runs `deno check` on it. The lines under
 * `// @ts-expect-error` must be compile errors (typo'd filter names and lookups, unknown fields on
 * create and update, wrong choice values); every other line must compile. Keep each expected
 * error on the single line right below its comment.
 *
 * @module
 */

import type { IPAddress, IPAddressStatus, WritableIPAddress } from "../../lib/client/models.ts";
import type { Endpoint, NetBoxClient, NetBoxObject } from "../../lib/client/types.ts";

/** Keeps values "used" for the linter. */
function use(..._values: unknown[]): void {}

/** What must compile. */
export async function correct(client: NetBoxClient): Promise<void> {
  const ips = client.ipam.ipAddresses;
  for await (const ip of ips.list({ vrf_id: 3, status: ["active", "reserved"], q: "web" })) {
    const address: string = ip.address;
    const status: IPAddressStatus | undefined = ip.status?.value;
    use(address, status, ip.vrf?.name, ip.tags?.map((t) => t.slug));
  }
  await ips.all({ dns_name__ic: "web", mask_length__gte: 24, limit: 5, ordering: "address" });
  await ips.count({ cf_owner: "ops", tag: ["a", "b"], vrf_id: null, status__n: "dhcp" });
  const one: IPAddress = await ips.get(1);
  const found: IPAddress | undefined = await ips.find({ address: "10.0.0.1/24" });
  const body: WritableIPAddress = { address: "10.0.0.1/24", status: "reserved", vrf: 3 };
  const created: IPAddress = await ips.create({ ...body, tags: [1, { slug: "web" }] });
  const many = await ips.create([{ address: "10.0.0.2/24", vrf: { name: "blue" } }]);
  const updated: IPAddress = await ips.update(1, { description: "x", role: "vip" });
  const bulk = await ips.update([{ id: 1, dns_name: "a.example.com" }, { id: 2 }]);
  use(one, found, created, many.succeeded satisfies IPAddress[], updated, bulk.failed);

  await client.dcim.devices.find({ name__ic: "sw", site: "hq", role: "leaf" });
  await client.dcim.interfaces.create({ device: 1, name: "eth0", type: "1000base-t" });
  await client.ipam.prefixes.all({ prefix: "10.0.0.0/8", mask_length__gte: 24 });
  const free = await client.ipam.prefixes.availableIps(7).create({ dns_name: "a" });
  use(free[0].address);

  // The typed endpoints still pass where the library wants the generic shapes.
  const asObject: NetBoxObject = one;
  const generic: Endpoint = client.dcim.devices;
  use(asObject, generic);

  // Anything else stays generic.
  const widgets = client.endpoint<NetBoxObject & { size: number }>("plugins/x/widgets/");
  const widget = await widgets.create({ anything: "goes" });
  use(widget.size, await widgets.all({ any_filter: 1 }));

  // Every app of NetBox's API is typed the same way.
  const circuit = await client.circuits.circuits.create({ cid: "C-1", provider: 1, type: 2 });
  await client.circuits.circuits.update(circuit.id, { status: "decommissioned" });
  use(circuit.cid, circuit.provider.name, circuit.status?.value);
  await client.vpn.tunnels.all({ name__ic: "ipsec", status: "active", group_id: 1 });
  await client.wireless.wirelessLans.find({ ssid: "guest" });
  for await (const job of client.core.jobs.list({ status: "failed" })) use(job.id);
  await client.users.tokens.count({ user: "admin" });
}

/** What must not compile: one error per `@ts-expect-error`. */
export async function typos(client: NetBoxClient, one: IPAddress): Promise<void> {
  // @ts-expect-error a typo'd filter name
  await client.ipam.prefixes.all({ stie: "x" });
  // @ts-expect-error a filter NetBox 4.x removed
  await client.dcim.devices.count({ device_role: "leaf" });
  // @ts-expect-error an unknown lookup
  await client.dcim.devices.all({ name__icc: "sw" });
  // @ts-expect-error a wrong choice value in a filter
  await client.ipam.ipAddresses.all({ status: "actve" });
  // @ts-expect-error an unknown field on create
  await client.ipam.ipAddresses.create({ address: "10.0.0.1/24", dns: "a" });
  // @ts-expect-error a wrong choice value on create
  await client.ipam.ipAddresses.create({ address: "10.0.0.1/24", status: "actve" });
  // @ts-expect-error a required field missing on create
  await client.ipam.ipAddresses.create({ status: "active" });
  // @ts-expect-error an unknown field in a bulk create
  await client.ipam.ipAddresses.create([{ address: "10.0.0.1/24" }, { adress: "x" }]);
  // @ts-expect-error an unknown field on update
  await client.dcim.sites.update(1, { nmae: "x" });
  // @ts-expect-error a wrong choice value on update
  await client.dcim.interfaces.update(1, { mode: "trunk" });
  // @ts-expect-error a relation is an id or a dict, not a name
  await client.ipam.ipAddresses.create({ address: "10.0.0.1/24", vrf: "blue" });
  // @ts-expect-error an unknown field on read
  use(one.adress);
  // @ts-expect-error a choice reads as { value, label }, not a string
  const status: string = one.status;
  use(status);
}

/** Typos on the other apps: one error per `@ts-expect-error`. */
export async function typosElsewhere(client: NetBoxClient): Promise<void> {
  // @ts-expect-error an unknown field on a circuit
  await client.circuits.circuits.create({ cid: "C-1", provider: 1, type: 2, comment: "x" });
  // @ts-expect-error a typo'd filter on VPN tunnels
  await client.vpn.tunnels.all({ stauts: "active" });
  // @ts-expect-error a wrong choice value in a tunnel filter
  await client.vpn.tunnels.count({ encapsulation: "ipsec" });
  // @ts-expect-error a typo'd lookup on wireless LANs
  await client.wireless.wirelessLans.all({ ssid__icontains: "guest" });
  // @ts-expect-error a read-only endpoint has nothing to create
  await client.core.jobs.create({ name: "x" });
  // @ts-expect-error an endpoint the tree does not have
  use(client.vpn.tunnel);
  // @ts-expect-error an app NetBox does not have
  use(client.ipma);
}
