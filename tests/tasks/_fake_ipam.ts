/**
 * A small in-memory NetBox for the unit tests of find-free-ip and assign-primary-ip, served as
 * an injected `fetch`. It knows just enough IPAM/DCIM/virtualization to exercise the tasks:
 * list filters the tasks use, create/update/delete, available-ips (GET capped at
 * `maxPageSize`, POST all-or-nothing with 409), primary-IP rules, and a read-only token.
 * Free addresses are found by plain enumeration here, independent of lib/ipam/free_ips.ts.
 */

import { formatIp, hostOf, parseCidr } from "../../lib/ipam/ip.ts";

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any> & { id: number };

/** Options of {@linkcode fakeIpam}. */
export interface FakeIpamOptions {
  /** The server's MAX_PAGE_SIZE (caps available-ips). @default {1000} */
  maxPageSize?: number;
  /** The token may not write. @default {false} */
  readOnly?: boolean;
  /** Model permissions the token's user lacks, by list path: `{ "ipam/ip-addresses": ["add"] }`. */
  deny?: Record<string, ("add" | "change")[]>;
}

const PATHS: Record<string, string> = {
  "ipam/prefixes": "prefix",
  "ipam/ip-ranges": "range",
  "ipam/ip-addresses": "ip",
  "ipam/vrfs": "vrf",
  "extras/tags": "tag",
  "tenancy/tenants": "tenant",
  "dcim/sites": "site",
  "dcim/devices": "device",
  "dcim/interfaces": "interface",
  "virtualization/clusters": "cluster",
  "virtualization/virtual-machines": "vm",
  "virtualization/interfaces": "vminterface",
};

/** One write the fake received: method + path (as in `requests`) and the JSON body sent. */
export interface SentWrite {
  request: string;
  body: unknown;
}

/** The fields of a stored IP address that the tasks write, with references as ids. */
export interface StoredIp {
  id: number;
  address: string;
  vrf: number | null;
  status: string;
  dns_name: string;
  description: string;
  tags: number[];
  assigned_object_type: string | null;
  assigned_object_id: number | null;
}

/** The primary/OOB designations of a device or VM, as IP ids. */
export interface StoredPrimaries {
  primary_ip4: number | null;
  primary_ip6: number | null;
  oob_ip: number | null;
}

/** The fake: its tables, the requests it saw, and the fetch to inject. */
export class FakeIpam {
  readonly tables: Record<string, Obj[]> = {};
  readonly requests: string[] = [];
  /** Every write (not GET/OPTIONS) with its parsed body, in order. */
  readonly sent: SentWrite[] = [];
  #nextId = 1;
  constructor(readonly options: FakeIpamOptions = {}) {
    for (const kind of Object.values(PATHS)) this.tables[kind] = [];
  }

  /** Writes seen (method + path), in order. */
  writes(): string[] {
    return this.requests.filter((r) => !r.startsWith("GET ") && !r.startsWith("OPTIONS "));
  }

  /** The IP address table as stored, reduced to the fields the tasks write, by id. */
  ips(): StoredIp[] {
    return [...this.tables.ip].sort((a, b) => a.id - b.id).map((ip) => ({
      id: ip.id,
      address: ip.address,
      vrf: ip.vrf?.id ?? null,
      status: ip.status?.value ?? ip.status,
      dns_name: ip.dns_name,
      description: ip.description,
      tags: (ip.tags ?? []).map((t: { id: number }) => t.id),
      assigned_object_type: ip.assigned_object_type,
      assigned_object_id: ip.assigned_object_id,
    }));
  }

  /** One stored IP address (see {@linkcode ips}); throws when there is no such id. */
  ip(id: number): StoredIp {
    const found = this.ips().find((ip) => ip.id === id);
    if (!found) throw new Error(`no ip ${id}`);
    return found;
  }

  /** The stored primary_ip4/6 and oob_ip of a device or VM, as ids. */
  primaries(kind: "device" | "vm", id: number): StoredPrimaries {
    const o = this.get(kind, id);
    if (!o) throw new Error(`no ${kind} ${id}`);
    return {
      primary_ip4: o.primary_ip4?.id ?? null,
      primary_ip6: o.primary_ip6?.id ?? null,
      oob_ip: o.oob_ip?.id ?? null,
    };
  }

  /** Adds an object; returns it. */
  add(kind: string, fields: Record<string, unknown>): Obj {
    const id = this.#nextId++;
    const path = Object.entries(PATHS).find(([, k]) => k === kind)![0];
    const obj: Obj = { id, url: `http://127.0.0.1:1/api/${path}/${id}/`, ...fields };
    this.#normalise(kind, obj);
    this.tables[kind].push(obj);
    return obj;
  }

  get(kind: string, id: number): Obj | undefined {
    return this.tables[kind].find((o) => o.id === id);
  }

  #brief(kind: string, id: number | null | undefined): Obj | null {
    if (id === null || id === undefined) return null;
    const o = this.get(kind, id);
    if (!o) throw new Error(`no ${kind} ${id}`);
    return { id: o.id, name: o.name, address: o.address, slug: o.slug, url: o.url };
  }

  #normalise(kind: string, o: Obj): void {
    const ref = (k: string, field: string) => {
      const v = o[field];
      if (typeof v === "number") o[field] = this.#brief(k, v);
      else if (v === undefined) o[field] = null;
    };
    if (kind === "ip") {
      ref("vrf", "vrf");
      if (typeof o.status === "string") o.status = { value: o.status, label: o.status };
      o.status ??= { value: "active", label: "Active" };
      o.dns_name ??= "";
      o.description ??= "";
      o.tags = (o.tags ?? []).map((t: number | Obj) =>
        this.#brief("tag", typeof t === "number" ? t : t.id)
      );
      o.assigned_object_type ??= null;
      o.assigned_object_id ??= null;
      o.assigned_object = null;
      if (o.assigned_object_id !== null) {
        const iface = this.get(
          o.assigned_object_type === "dcim.interface" ? "interface" : "vminterface",
          o.assigned_object_id,
        )!;
        o.assigned_object = {
          id: iface.id,
          name: iface.name,
          device: iface.device,
          virtual_machine: iface.virtual_machine,
        };
      }
    }
    if (kind === "prefix" || kind === "range") {
      ref("vrf", "vrf");
      if (typeof o.status === "string") o.status = { value: o.status, label: o.status };
    }
    if (kind === "device" || kind === "vm") {
      ref("site", "site");
      ref("cluster", "cluster");
      for (const f of ["primary_ip4", "primary_ip6", "oob_ip"]) ref("ip", f);
    }
    if (kind === "interface") ref("device", "device");
    if (kind === "vminterface") ref("vm", "virtual_machine");
  }

  #matches(kind: string, o: Obj, q: URLSearchParams): boolean {
    for (const key of new Set(q.keys())) {
      if (["limit", "offset", "start", "fields", "brief", "ordering", "omit"].includes(key)) {
        continue;
      }
      const values = q.getAll(key);
      const any = (f: (v: string) => boolean) => values.some(f);
      const idOf = (v: unknown) => (v as { id?: number } | null)?.id ?? null;
      const ok = (() => {
        switch (key) {
          case "id":
            return any((v) => o.id === Number(v));
          case "vrf_id":
            return any((v) => v === "null" ? o.vrf === null : idOf(o.vrf) === Number(v));
          case "site_id":
            return any((v) => idOf(o.site) === Number(v));
          case "cluster_id":
            return any((v) => idOf(o.cluster) === Number(v));
          case "device_id":
            return any((v) => idOf(o.device) === Number(v));
          case "virtual_machine_id":
            return any((v) => idOf(o.virtual_machine) === Number(v));
          case "interface_id":
            return any((v) =>
              o.assigned_object_type === "dcim.interface" && o.assigned_object_id === Number(v)
            );
          case "vminterface_id":
            return any((v) =>
              o.assigned_object_type === "virtualization.vminterface" &&
              o.assigned_object_id === Number(v)
            );
          case "address":
            return any((v) => formatIp(hostOf(o.address)) === formatIp(hostOf(v)));
          case "parent": {
            const field = kind === "range" ? o.start_address : o.address;
            return any((v) => {
              const net = parseCidr(v);
              const h = hostOf(field);
              return h.family === net.family && h.value >= net.first && h.value <= net.last;
            });
          }
          case "prefix":
            return any((v) => o.prefix === v);
          case "start_address":
            return any((v) => formatIp(hostOf(o.start_address)) === formatIp(hostOf(v)));
          default:
            return any((v) => String(o[key]) === v);
        }
      })();
      if (!ok) return false;
    }
    return true;
  }

  #free(parent: Obj, kind: string, limit: number): string[] {
    const vrfId = parent.vrf?.id ?? null;
    let first: bigint, last: bigint, mask: number, family: 4 | 6;
    if (kind === "prefix") {
      const net = parseCidr(parent.prefix);
      family = net.family;
      mask = net.prefixLength;
      first = net.first;
      last = net.last;
      const whole = parent.is_pool || (family === 4 ? mask >= 31 : mask >= 127);
      if (!whole) {
        first += 1n;
        if (family === 4) last -= 1n;
      }
    } else {
      if (parent.mark_populated) return [];
      const s = parseCidr(parent.start_address);
      family = s.family;
      mask = s.prefixLength;
      first = s.address;
      last = hostOf(parent.end_address).value;
    }
    const taken = new Set(
      this.tables.ip.filter((ip) => (ip.vrf?.id ?? null) === vrfId).map((ip) =>
        hostOf(ip.address).value
      ),
    );
    const populated = kind === "prefix"
      ? this.tables.range.filter((r) => r.mark_populated && (r.vrf?.id ?? null) === vrfId)
      : [];
    const out: string[] = [];
    for (let v = first; v <= last && out.length < limit; v++) {
      if (taken.has(v)) continue;
      if (
        populated.some((r) =>
          v >= hostOf(r.start_address).value && v <= hostOf(r.end_address).value
        )
      ) continue;
      out.push(`${formatIp({ family, value: v })}/${mask}`);
    }
    return out;
  }

  #validateIp(ip: Obj, before?: Obj): string | undefined {
    const dup = this.tables.ip.find((o) =>
      o.id !== ip.id && (o.vrf?.id ?? null) === (ip.vrf?.id ?? null) &&
      hostOf(o.address).value === hostOf(ip.address).value
    );
    if (dup) return `Duplicate IP address found in global table: ${dup.address}`;
    if (before && before.assigned_object_id !== null) {
      const oldParent = this.#parentOf(before);
      const newParent = this.#parentOf(ip);
      if (oldParent && (oldParent[0] !== newParent?.[0] || oldParent[1].id !== newParent?.[1].id)) {
        for (const f of ["primary_ip4", "primary_ip6", "oob_ip"]) {
          if (oldParent[1][f]?.id === ip.id) {
            return "Cannot reassign IP address while it is designated as the primary IP for the parent object";
          }
        }
      }
    }
    return undefined;
  }

  #parentOf(ip: Obj): [string, Obj] | undefined {
    if (ip.assigned_object_id === null) return undefined;
    if (ip.assigned_object_type === "dcim.interface") {
      const iface = this.get("interface", ip.assigned_object_id)!;
      return ["device", this.get("device", iface.device.id)!];
    }
    const iface = this.get("vminterface", ip.assigned_object_id)!;
    return ["vm", this.get("vm", iface.virtual_machine.id)!];
  }

  #validatePrimary(kind: string, o: Obj): string | undefined {
    for (const f of ["primary_ip4", "primary_ip6", "oob_ip"]) {
      if (!o[f]) continue;
      const ip = this.get("ip", o[f].id)!;
      const parent = this.#parentOf(ip);
      if (!parent || parent[0] !== kind || parent[1].id !== o.id) {
        return `The specified IP address (${ip.address}) is not assigned to this ${
          kind === "vm" ? "VM" : "device"
        }.`;
      }
    }
    return undefined;
  }

  /** The fetch to inject into the task's IO. */
  fetch: typeof fetch = (input, init) => Promise.resolve(this.#answer(input, init));

  #answer(input: RequestInfo | URL, init?: RequestInit): Response {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET"))
      .toUpperCase();
    const path = url.pathname.replace(/^\/api\//, "").replace(/\/$/, "");
    this.requests.push(`${method} ${path}${url.search}`);
    const bodyText = init?.body ? String(init.body) : undefined;
    const body = bodyText ? JSON.parse(bodyText) : undefined;
    if (method !== "GET" && method !== "OPTIONS") {
      this.sent.push({ request: `${method} ${path}${url.search}`, body: structuredClone(body) });
    }
    const json = (status: number, data: unknown) => Response.json(data, { status });
    if (path === "status") return json(200, { "netbox-version": "4.7.3" });
    if (path === "schema") return json(200, { paths: {} });
    if (path === "users/tokens") {
      return json(200, {
        count: 1,
        next: null,
        previous: null,
        results: [{
          id: 1,
          key: url.searchParams.get("key"),
          write_enabled: !this.options.readOnly,
        }],
      });
    }
    const m = /^([a-z-]+\/[a-z-]+)(?:\/(\d+))?(?:\/(available-ips))?$/.exec(path);
    const kind = m && PATHS[m[1]];
    if (method === "OPTIONS" && m && kind && !m[2]) {
      // NetBox shows actions.POST / actions.PUT only to a token that may add / change the model.
      const denied = this.options.readOnly ? ["add", "change"] : this.options.deny?.[m[1]] ?? [];
      const actions: Record<string, unknown> = {};
      if (!denied.includes("add")) actions.POST = { address: { type: "string" } };
      if (!denied.includes("change")) actions.PUT = { address: { type: "string" } };
      return json(200, { name: m[1], actions });
    }
    if (method !== "GET" && this.options.readOnly) {
      return json(403, { detail: "You do not have permission to perform this action." });
    }
    if (!m || !kind) return json(404, { detail: "Not found." });
    const id = m[2] ? Number(m[2]) : undefined;
    if (m[3]) {
      const parent = this.get(kind, id!);
      if (!parent) return json(404, { detail: "Not found." });
      const cap = this.options.maxPageSize ?? 1000;
      if (method === "GET") {
        const limit = Math.min(Number(url.searchParams.get("limit") ?? 50) || cap, cap);
        return json(
          200,
          this.#free(parent, kind, limit).map((address) => ({
            family: address.includes(":") ? 6 : 4,
            address,
            vrf: parent.vrf,
          })),
        );
      }
      const items = Array.isArray(body) ? body : [body];
      const free = this.#free(parent, kind, items.length);
      if (free.length < items.length) {
        return json(409, { detail: "Insufficient resources are available to satisfy the request" });
      }
      const created = items.map((item: Obj, i: number) =>
        this.add("ip", { ...item, address: free[i], vrf: parent.vrf?.id ?? null })
      );
      return json(201, Array.isArray(body) ? created : created[0]);
    }
    if (method === "GET" && id === undefined) {
      const rows = this.tables[kind].filter((o) => this.#matches(kind, o, url.searchParams));
      return json(200, { count: rows.length, next: null, previous: null, results: rows });
    }
    if (method === "GET") {
      const o = this.get(kind, id!);
      return o ? json(200, o) : json(404, { detail: "Not found." });
    }
    if (method === "POST") {
      const items = Array.isArray(body) ? body : [body];
      const created: Obj[] = [];
      for (const item of items) {
        const o = this.add(kind, item);
        const err = kind === "ip" ? this.#validateIp(o) : undefined;
        if (err) {
          for (const c of [...created, o]) {
            this.tables[kind].splice(this.tables[kind].indexOf(c), 1);
          }
          return json(
            400,
            Array.isArray(body) ? items.map(() => ({ address: [err] })) : { address: [err] },
          );
        }
        created.push(o);
      }
      return json(201, Array.isArray(body) ? created : created[0]);
    }
    if (method === "PATCH") {
      const o = this.get(kind, id!);
      if (!o) return json(404, { detail: "Not found." });
      const before = structuredClone(o);
      Object.assign(o, body);
      if (body.vrf !== undefined && typeof body.vrf !== "object") o.vrf = body.vrf;
      if (body.tags) o.tags = body.tags;
      this.#normalise(kind, o);
      const err = kind === "ip"
        ? this.#validateIp(o, before)
        : kind === "device" || kind === "vm"
        ? this.#validatePrimary(kind, o)
        : undefined;
      if (err) {
        Object.keys(o).forEach((k) => delete o[k]);
        Object.assign(o, before);
        return json(400, { __all__: [err] });
      }
      return json(200, o);
    }
    if (method === "DELETE") {
      const ids: number[] = id !== undefined ? [id] : (body as { id: number }[]).map((b) => b.id);
      for (const i of ids) {
        const idx = this.tables[kind].findIndex((o) => o.id === i);
        if (idx >= 0) this.tables[kind].splice(idx, 1);
      }
      return new Response(null, { status: 204 });
    }
    return json(405, { detail: "Method not allowed" });
  }
}

/** Builds a fake. */
export function fakeIpam(options: FakeIpamOptions = {}): FakeIpam {
  return new FakeIpam(options);
}

/** A TaskIO around the fake, capturing stdout/stderr. */
export function fakeIO(fake: FakeIpam, files: Record<string, string> = {}) {
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: (t: string) => void (out.stdout += t),
    stderr: (t: string) => void (out.stderr += t),
    env: (name: string) =>
      ({ NETBOX_URL: "http://127.0.0.1:1", NETBOX_TOKEN: "nbt_abcdefghijkl.0123456789" } as Record<
        string,
        string
      >)[name],
    stderrIsTerminal: false,
    fetch: fake.fetch,
    readTextFile: (path: string) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Deno.errors.NotFound(path)),
    now: () => new Date("2025-01-01T00:00:00Z"),
  };
  return { io, out };
}
