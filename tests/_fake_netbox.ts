/**
 * The one in-memory NetBox of the unit tests, served as a `fetch` (`createClient({ fetch:
 * nb.fetch })`, or a task's `io.fetch`). It holds tables per list endpoint and answers like
 * NetBox 4.x:
 *
 * - lists with filters and lookups (`__n`, `__ic`, `__nic`, `__ie`, `__isw`, `__iew`, `__gte`,
 *   `__lte`, `__gt`, `__lt`, `__isnull`, `__empty`), `<ref>_id` fields, multi-value filters, the
 *   IPAM filters (`parent`, `contains`, `within`, `within_include`, `address`, `prefix`,
 *   `family`, `interface_id`, `device_id`, …) and `tag`;
 * - paging: `limit`/`offset` with a count, and cursor paging (`start`, count `null`) on 4.6+;
 *   `ordering`; `limit` clamped at `maxPageSize`; `next` links naming `host`;
 * - `brief`, `fields`, `omit` (4.5.2+), `exclude=config_context`;
 * - single and bulk POST / PATCH / PUT / DELETE (a list body is all-or-nothing), NetBox's field
 *   messages on 400, references by id turned into brief objects (400 for a missing one);
 * - `available-ips` (prefixes, IP ranges), `available-prefixes`, `available-vlans`,
 *   `available-asns`: GET capped at `maxPageSize`, POST all-or-nothing with 409 (NetBox runs them
 *   under a lock; here they are synchronous, which is the same thing);
 * - `created` / `last_updated` on every write, `ETag` on a single GET and `If-Match` (412) on
 *   4.6+;
 * - OPTIONS (`actions.POST` / `actions.PUT` only where the token may add / change), a read-only
 *   token (403 on writes), `/api/users/tokens/`, `/api/status/` with the version.
 *
 * Free addresses are found by plain enumeration here, independent of lib/ipam/free_ips.ts.
 * Faults (429, 5xx, resets, slow bodies) are `_fake_server.ts`'s job; a test that needs one
 * wraps `nb.fetch`.
 *
 * @module
 */

import { formatIp, hostOf, parseCidr } from "../lib/ipam/ip.ts";

// deno-lint-ignore no-explicit-any
export type Obj = Record<string, any> & { id: number };

/** Options of {@linkcode FakeNetBox}. */
export interface FakeNetBoxOptions {
  /** The NetBox version `/api/status/` reports (cursor paging and ETags from 4.6). @default {"4.7.3"} */
  version?: string;
  /** The server's MAX_PAGE_SIZE (caps lists and available-*). @default {1000} */
  maxPageSize?: number;
  /** The token may not write (403 on writes; OPTIONS without actions). @default {false} */
  readOnly?: boolean;
  /** Model permissions the token's user lacks, by list path: `{ "ipam/ip-addresses": ["add"] }`. */
  deny?: Record<string, ("add" | "change")[]>;
  /** The base URL in objects' `url` and in `next` links. @default {"http://127.0.0.1:1"} */
  host?: string;
  /** The writable fields OPTIONS describes (`actions.POST`), by list path. */
  meta?: Record<string, Record<string, unknown>>;
  /** Rows to load as they are (see {@linkcode FakeNetBox.load}), by list path. */
  tables?: Record<string, Obj[]>;
  /**
   * Store written objects as sent (references stay ids, no validation) instead of as NetBox
   * would (references as brief objects, choices as `{ value, label }`). @default {false}
   */
  storeAsSent?: boolean;
}

/** Short names of the list paths the tests use most. */
const KINDS: Record<string, string> = {
  prefix: "ipam/prefixes",
  range: "ipam/ip-ranges",
  ip: "ipam/ip-addresses",
  vrf: "ipam/vrfs",
  vlan: "ipam/vlans",
  vlangroup: "ipam/vlan-groups",
  role: "ipam/roles",
  tag: "extras/tags",
  tenant: "tenancy/tenants",
  site: "dcim/sites",
  device: "dcim/devices",
  interface: "dcim/interfaces",
  cluster: "virtualization/clusters",
  vm: "virtualization/virtual-machines",
  vminterface: "virtualization/interfaces",
};

/** Apps whose `app/model` list paths the fake serves (an empty table until written). */
const APPS = new Set([
  "circuits",
  "core",
  "dcim",
  "extras",
  "ipam",
  "tenancy",
  "users",
  "virtualization",
  "vpn",
  "wireless",
]);

/** Reference fields and the list path they point into; per path where they differ. */
const REFS: Record<string, string> = {
  vrf: KINDS.vrf,
  tenant: KINDS.tenant,
  site: KINDS.site,
  cluster: KINDS.cluster,
  device: KINDS.device,
  virtual_machine: KINDS.vm,
  primary_ip4: KINDS.ip,
  primary_ip6: KINDS.ip,
  oob_ip: KINDS.ip,
};
const PATH_REFS: Record<string, Record<string, string>> = {
  "ipam/prefixes": { role: KINDS.role },
  "ipam/vlans": { role: KINDS.role, group: KINDS.vlangroup },
};

/** Reference fields NetBox shows as `null` when unset, by list path. */
const NULL_REFS: Record<string, string[]> = {
  [KINDS.ip]: ["vrf", "tenant"],
  [KINDS.prefix]: ["vrf", "tenant"],
  [KINDS.range]: ["vrf", "tenant"],
  [KINDS.device]: ["site", "cluster", "tenant"],
  [KINDS.vm]: ["site", "cluster", "tenant"],
};

/** The fields `q` searches. */
const SEARCHED = ["name", "address", "prefix", "dns_name", "description", "slug"];

const NON_FILTERS = new Set([
  "limit",
  "offset",
  "start",
  "fields",
  "brief",
  "ordering",
  "omit",
  "exclude",
  "format",
]);

const LOOKUP = /^(.+?)__(n|ic|nic|ie|nie|isw|nisw|iew|niew|gte|lte|gt|lt|isnull|empty)$/;

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

/** A refusal: HTTP status and NetBox's JSON body. */
class Refusal {
  constructor(readonly status: number, readonly body: unknown) {}
}

const label = (value: string) => value.replace(/[-_]/g, " ").replace(/^./, (c) => c.toUpperCase());
const idOf = (v: unknown): number | null =>
  typeof v === "number" ? v : (v as { id?: number } | null)?.id ?? null;

function versionAtLeast(version: string, major: number, minor: number, patch = 0): boolean {
  const [a, b, c] = version.split(".").map(Number);
  return a !== major ? a > major : b !== minor ? b > minor : (c || 0) >= patch;
}

/** NetBox's weak ETag of a `last_updated` stamp (`…Z` → `W/"…+00:00"`). */
export function etagOfStamp(stamp: string): string {
  return `W/"${stamp.replace(/Z$/, "+00:00")}"`;
}

/** The in-memory NetBox. */
export class FakeNetBox {
  /** The rows, by list path (`"ipam/ip-addresses"`, no slashes around). */
  readonly tables: Record<string, Obj[]> = {};
  /** Every request: `"GET ipam/prefixes?prefix=…"` (path without `/api/` and trailing slash). */
  readonly requests: string[] = [];
  /** Every write (not GET/OPTIONS) with its parsed body, in order. */
  readonly sent: SentWrite[] = [];
  readonly version: string;
  readonly host: string;
  #nextId = 1;
  #lastStamp = 0;

  constructor(readonly options: FakeNetBoxOptions = {}) {
    this.version = options.version ?? "4.7.3";
    this.host = (options.host ?? "http://127.0.0.1:1").replace(/\/$/, "");
    for (const [path, rows] of Object.entries(options.tables ?? {})) this.load(path, rows);
  }

  // --- test-side access ------------------------------------------------------------------------

  /** The rows of a table, by short name (`"ip"`, `"vm"`, …) or list path; created empty. */
  table(kindOrPath: string): Obj[] {
    const path = KINDS[kindOrPath] ?? kindOrPath.replace(/^\/?(api\/)?|\/$/g, "");
    return this.tables[path] ??= [];
  }

  /** Loads rows as they are (NetBox's JSON shape is the caller's business); returns them. */
  load(kindOrPath: string, rows: Obj[]): Obj[] {
    const table = this.table(kindOrPath);
    for (const row of rows) {
      table.push(row);
      this.#nextId = Math.max(this.#nextId, row.id + 1);
    }
    return rows;
  }

  /**
   * Adds an object as NetBox would store it when written: references by id become brief objects,
   * `status` a choice, `url`, `display`, `created` and `last_updated` are set. Returns it.
   */
  add(kindOrPath: string, fields: Record<string, unknown>): Obj {
    const path = KINDS[kindOrPath] ?? kindOrPath;
    const o = this.#create(path, fields);
    if (o instanceof Refusal) throw new Error(`cannot add to ${path}: ${JSON.stringify(o.body)}`);
    return o;
  }

  /** One object by id, or undefined. */
  get(kindOrPath: string, id: number): Obj | undefined {
    return this.table(kindOrPath).find((o) => o.id === id);
  }

  /** Writes seen (method + path), in order. */
  writes(): string[] {
    return this.requests.filter((r) => !r.startsWith("GET ") && !r.startsWith("OPTIONS "));
  }

  /** The IP address table as stored, reduced to the fields the tasks write, by id. */
  ips(): StoredIp[] {
    return [...this.table("ip")].sort((a, b) => a.id - b.id).map((ip) => ({
      id: ip.id,
      address: ip.address,
      vrf: idOf(ip.vrf),
      status: ip.status?.value ?? ip.status,
      dns_name: ip.dns_name,
      description: ip.description,
      tags: (ip.tags ?? []).map(idOf),
      assigned_object_type: ip.assigned_object_type ?? null,
      assigned_object_id: ip.assigned_object_id ?? null,
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
      primary_ip4: idOf(o.primary_ip4),
      primary_ip6: idOf(o.primary_ip6),
      oob_ip: idOf(o.oob_ip),
    };
  }

  /** The fetch to inject. */
  fetch: typeof fetch = (input, init) => this.#answer(new Request(input, init));

  // --- objects ---------------------------------------------------------------------------------

  #url(path: string, id: number): string {
    return `${this.host}/api/${path}/${id}/`;
  }

  /** A fresh `created`/`last_updated` stamp: now, strictly increasing, with microseconds. */
  #stamp(): string {
    const micros = Math.max(Date.now() * 1000, this.#lastStamp + 1);
    this.#lastStamp = micros;
    const iso = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
    return `${iso}.${String(micros % 1_000_000).padStart(6, "0")}Z`;
  }

  #brief(path: string, o: Obj): Obj {
    const b: Obj = { id: o.id, url: o.url, display: o.display };
    for (const k of ["name", "slug", "address", "prefix", "vid", "rd", "family"]) {
      if (o[k] !== undefined) b[k] = o[k];
    }
    if (path === KINDS.interface) b.device = o.device;
    if (path === KINDS.vminterface) b.virtual_machine = o.virtual_machine;
    return b;
  }

  #display(o: Obj): string {
    return String(
      o.display ?? o.name ?? o.address ?? o.prefix ??
        (o.start_address ? `${o.start_address}-${o.end_address}` : o.slug ?? o.id),
    );
  }

  /** Normalises `o` in place as NetBox stores and shows it; a string names what is wrong. */
  #normalise(path: string, o: Obj): Record<string, string[]> | undefined {
    const errors: Record<string, string[]> = {};
    const refs = { ...REFS, ...PATH_REFS[path] };
    for (const [field, target] of Object.entries(refs)) {
      const v = o[field];
      if (v === undefined) {
        if (NULL_REFS[path]?.includes(field)) o[field] = null;
        continue;
      }
      if (typeof v === "string") continue; // a plain text value (e.g. a test's role)
      const id = idOf(v);
      if (id === null) {
        o[field] = null;
        continue;
      }
      const ref = this.get(target, id);
      if (!ref) {
        errors[field] = [`Related object not found using the provided numeric ID: ${id}`];
        continue;
      }
      o[field] = this.#brief(target, ref);
    }
    if (o.tags !== undefined || path === KINDS.ip) {
      const tags: Obj[] = [];
      for (const t of o.tags ?? []) {
        const tag = typeof t === "number" || t?.id !== undefined
          ? this.get("tag", idOf(t)!)
          : this.table("tag").find((x) => x.name === t?.name || x.slug === t?.slug);
        if (!tag) errors.tags = [`Related object not found: ${JSON.stringify(t)}`];
        else tags.push(this.#brief(KINDS.tag, tag));
      }
      o.tags = tags;
    }
    if (typeof o.status === "string") o.status = { value: o.status, label: label(o.status) };
    if (path === KINDS.ip) {
      o.status ??= { value: "active", label: "Active" };
      o.dns_name ??= "";
      o.description ??= "";
      o.comments ??= "";
      o.assigned_object_type ??= null;
      o.assigned_object_id ??= null;
      o.assigned_object = null;
      try {
        o.address = String(o.address);
        parseCidr(o.address);
        if (!o.address.includes("/")) throw new Error("no mask");
        o.family = { value: hostOf(o.address).family, label: `IPv${hostOf(o.address).family}` };
      } catch {
        errors.address = [`Enter a valid IPv4 or IPv6 address with optional mask.`];
      }
      if (o.assigned_object_id !== null) {
        const ifPath = o.assigned_object_type === "dcim.interface"
          ? KINDS.interface
          : KINDS.vminterface;
        const iface = this.get(ifPath, o.assigned_object_id);
        if (!iface) errors.assigned_object_id = ["Related object not found"];
        else o.assigned_object = this.#brief(ifPath, iface);
      }
    }
    if (path === KINDS.prefix || path === KINDS.range) {
      o.status ??= { value: "active", label: "Active" };
    }
    if (path === KINDS.prefix) {
      try {
        const net = parseCidr(String(o.prefix));
        o.prefix = `${formatIp({ family: net.family, value: net.first })}/${net.prefixLength}`;
        o.family = { value: net.family, label: `IPv${net.family}` };
      } catch {
        errors.prefix = ["Enter a valid IPv4 or IPv6 prefix and mask in CIDR notation."];
      }
    }
    if (path === KINDS.device || path === KINDS.vm) {
      for (const f of ["primary_ip4", "primary_ip6", "oob_ip"]) o[f] ??= null;
    }
    o.display = this.#display({ ...o, display: undefined });
    return Object.keys(errors).length ? errors : undefined;
  }

  /** Creates one object (not yet validated against the others). */
  #create(path: string, fields: Record<string, unknown>): Obj | Refusal {
    const id = typeof fields.id === "number" && !this.get(path, fields.id)
      ? fields.id
      : this.#nextId;
    this.#nextId = Math.max(this.#nextId, id + 1);
    const stamp = this.#stamp();
    const o: Obj = { url: this.#url(path, id), ...structuredClone(fields), id };
    o.created ??= stamp;
    o.last_updated = stamp;
    if (this.options.storeAsSent) {
      o.display ??= this.#display(o);
      this.table(path).push(o);
      return o;
    }
    const errors = this.#normalise(path, o) ?? this.#validate(path, o);
    if (errors) return new Refusal(400, errors);
    this.table(path).push(o);
    return o;
  }

  /** NetBox's model rules the tests rely on: unique IPs per VRF, primary IPs on the parent. */
  #validate(path: string, o: Obj, before?: Obj): Record<string, string[]> | undefined {
    if (path === KINDS.ip) {
      const vrf = idOf(o.vrf);
      const host = hostOf(o.address).value;
      const dup = this.table("ip").find((x) =>
        x.id !== o.id && idOf(x.vrf) === vrf && hostOf(x.address).value === host
      );
      if (dup) {
        return {
          address: [
            `Duplicate IP address found in ${
              vrf === null ? "global table" : `VRF ${o.vrf.name}`
            }: ${dup.address}`,
          ],
        };
      }
      if (before && before.assigned_object_id !== null) {
        const oldParent = this.#parentOf(before);
        const newParent = this.#parentOf(o);
        if (oldParent && (oldParent[0] !== newParent?.[0] || oldParent[1].id !== newParent[1].id)) {
          for (const f of ["primary_ip4", "primary_ip6", "oob_ip"]) {
            if (idOf(oldParent[1][f]) === o.id) {
              return {
                __all__: [
                  "Cannot reassign IP address while it is designated as the primary IP for the parent object",
                ],
              };
            }
          }
        }
      }
    }
    if (path === KINDS.device || path === KINDS.vm) {
      for (const f of ["primary_ip4", "primary_ip6", "oob_ip"]) {
        if (!o[f]) continue;
        const ip = this.get("ip", idOf(o[f])!)!;
        const parent = this.#parentOf(ip);
        if (!parent || parent[0] !== path || parent[1].id !== o.id) {
          return {
            [f]: [
              `The specified IP address (${ip.address}) is not assigned to this ${
                path === KINDS.vm ? "VM" : "device"
              }.`,
            ],
          };
        }
      }
    }
    return undefined;
  }

  #parentOf(ip: Obj): [string, Obj] | undefined {
    if (ip.assigned_object_id === null || ip.assigned_object_id === undefined) return undefined;
    if (ip.assigned_object_type === "dcim.interface") {
      const iface = this.get("interface", ip.assigned_object_id);
      const device = iface && this.get("device", idOf(iface.device)!);
      return device && [KINDS.device, device];
    }
    const iface = this.get("vminterface", ip.assigned_object_id);
    const vm = iface && this.get("vm", idOf(iface.virtual_machine)!);
    return vm && [KINDS.vm, vm];
  }

  /** Applies a PATCH/PUT to a copy; the updated object, or the refusal. */
  #update(path: string, o: Obj, body: Record<string, unknown>): Obj | Refusal {
    const next: Obj = { ...structuredClone(o), ...structuredClone(body), id: o.id };
    next.last_updated = this.#stamp();
    if (this.options.storeAsSent) return next;
    const errors = this.#normalise(path, next) ?? this.#validate(path, next, o);
    return errors ? new Refusal(400, errors) : next;
  }

  /** Removes an object; references to it (primary IPs, …) become null, as NetBox's SET_NULL. */
  #delete(path: string, id: number): void {
    const table = this.table(path);
    const i = table.findIndex((o) => o.id === id);
    if (i >= 0) table.splice(i, 1);
    for (const [field, target] of Object.entries(REFS)) {
      if (target !== path) continue;
      for (const rows of Object.values(this.tables)) {
        for (const row of rows) if (idOf(row[field]) === id) row[field] = null;
      }
    }
  }

  // --- filters ---------------------------------------------------------------------------------

  /** The values a filter `field` compares against (several for lists and references). */
  #candidates(path: string, o: Obj, field: string): unknown[] {
    const spread = (v: unknown): unknown[] => {
      if (v === undefined || v === null) return [null];
      if (Array.isArray(v)) return v.length ? v.flatMap(spread) : [null];
      if (typeof v === "object") {
        const r = v as Obj;
        if ("value" in r) return [r.value];
        return [r.slug, r.name, r.rd, r.id].filter((x) => x !== undefined);
      }
      return [v];
    };
    if (field === "tag") return spread((o.tags ?? []).map((t: Obj) => t.slug ?? t));
    if (field in o) return spread(o[field]);
    if (field.endsWith("_id")) {
      const ref = field.slice(0, -3);
      if (ref === "tag") return (o.tags ?? []).map(idOf);
      if (path === KINDS.ip && (ref === "device" || ref === "virtual_machine")) {
        return [idOf(o.assigned_object?.[ref])];
      }
      if (ref in o) return Array.isArray(o[ref]) ? o[ref].map(idOf) : [idOf(o[ref])];
    }
    if (path === KINDS.ip && (field === "device" || field === "virtual_machine")) {
      return [o.assigned_object?.[field]?.name ?? null];
    }
    return [null];
  }

  /** IPAM filters with their own meaning; undefined when `key` is not one of them. */
  #special(path: string, o: Obj, key: string, values: string[]): boolean | undefined {
    const host = (text: string) => hostOf(text);
    const inNet = (cidr: string, h: { family: number; value: bigint }) => {
      try {
        const net = parseCidr(cidr);
        return net.family === h.family && h.value >= net.first && h.value <= net.last;
      } catch {
        return false;
      }
    };
    const sameHost = (a: string, b: string) => {
      try {
        return formatIp(host(a)) === formatIp(host(b));
      } catch {
        return false;
      }
    };
    const any = (f: (v: string) => boolean) => values.some(f);
    if (path === KINDS.ip) {
      if (key === "address") return any((v) => sameHost(o.address, v));
      if (key === "parent") return any((v) => inNet(v, host(o.address)));
      if (key === "family") return any((v) => host(o.address).family === Number(v));
      if (key === "interface_id" || key === "vminterface_id") {
        const type = key === "interface_id" ? "dcim.interface" : "virtualization.vminterface";
        return any((v) => o.assigned_object_type === type && o.assigned_object_id === Number(v));
      }
    }
    if (path === KINDS.range) {
      if (key === "start_address") return any((v) => sameHost(o.start_address, v));
      if (key === "end_address") return any((v) => sameHost(o.end_address, v));
      if (key === "parent") {
        return any((v) => inNet(v, host(o.start_address)) && inNet(v, host(o.end_address)));
      }
      if (key === "family") return any((v) => host(o.start_address).family === Number(v));
    }
    if (path === KINDS.prefix) {
      const net = parseCidr(o.prefix);
      const within = (v: string, orEqual: boolean) => {
        const outer = parseCidr(v);
        return outer.family === net.family && net.first >= outer.first &&
          net.last <= outer.last &&
          (orEqual || net.prefixLength > outer.prefixLength);
      };
      if (key === "prefix") {
        return any((v) => {
          try {
            const p = parseCidr(v);
            return p.family === net.family && p.first === net.first &&
              p.prefixLength === net.prefixLength;
          } catch {
            return false;
          }
        });
      }
      if (key === "contains") {
        return any((v) => {
          const inner = parseCidr(v.includes("/") ? v : `${v}/${v.includes(":") ? 128 : 32}`);
          return inner.family === net.family && inner.first >= net.first &&
            inner.last <= net.last;
        });
      }
      if (key === "within") return any((v) => within(v, false));
      if (key === "within_include") return any((v) => within(v, true));
      if (key === "family") return any((v) => net.family === Number(v));
      if (key === "mask_length") return any((v) => net.prefixLength === Number(v));
    }
    if (key === "q") {
      return any((v) =>
        SEARCHED.some((f) => String(o[f] ?? "").toLowerCase().includes(v.toLowerCase()))
      );
    }
    return undefined;
  }

  /**
   * The filter names of a query NetBox would apply to `rows`: it ignores names it does not know,
   * and here a name is known when a row has its field (or its reference, for `<ref>_id`), or it
   * is one of the IPAM filters.
   */
  #knownFilters(path: string, rows: Obj[], q: URLSearchParams): string[] {
    const special = new Set(["tag", "tag_id"]);
    if (SEARCHED.some((f) => rows.some((o) => f in o))) special.add("q");
    if (path === KINDS.ip) {
      for (const k of ["address", "parent", "family", "interface_id", "vminterface_id"]) {
        special.add(k);
      }
      for (const k of ["device", "device_id", "virtual_machine", "virtual_machine_id"]) {
        special.add(k);
      }
    }
    if (path === KINDS.range) {
      for (const k of ["start_address", "end_address", "parent", "family"]) special.add(k);
    }
    if (path === KINDS.prefix) {
      for (const k of ["prefix", "contains", "within", "within_include", "family", "mask_length"]) {
        special.add(k);
      }
    }
    const has = (field: string) => rows.some((o) => field in o);
    return [...new Set(q.keys())].filter((key) => {
      if (NON_FILTERS.has(key)) return false;
      const field = LOOKUP.exec(key)?.[1] ?? key;
      return special.has(field) || has(field) ||
        (field.endsWith("_id") && has(field.slice(0, -3)));
    });
  }

  #matches(path: string, o: Obj, q: URLSearchParams, keys: string[]): boolean {
    for (const key of keys) {
      const values = q.getAll(key);
      const special = this.#special(path, o, key, values);
      if (special !== undefined) {
        if (!special) return false;
        continue;
      }
      const m = LOOKUP.exec(key);
      const field = m ? m[1] : key;
      const lookup = m ? m[2] : "exact";
      const have = this.#candidates(path, o, field);
      if (!matchLookup(lookup, have, values)) return false;
    }
    return true;
  }

  // --- answering -------------------------------------------------------------------------------

  async #answer(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const method = req.method.toUpperCase();
    const path = url.pathname.replace(/^.*?\/api\/?/, "").replace(/\/$/, "");
    const request = `${method} ${path}${url.search}`;
    this.requests.push(request);
    const text = await req.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return this.#json(400, { detail: "JSON parse error" });
    }
    if (method !== "GET" && method !== "OPTIONS" && method !== "HEAD") {
      this.sent.push({ request, body: structuredClone(body) });
    }
    try {
      return this.#route(req, url, method, path, body);
    } catch (err) {
      if (err instanceof Refusal) return this.#json(err.status, err.body);
      throw err;
    }
  }

  #json(status: number, data: unknown, headers: Record<string, string> = {}): Response {
    const [major, minor] = this.version.split(".");
    return new Response(status === 204 ? null : JSON.stringify(data), {
      status,
      headers: {
        "content-type": "application/json",
        "API-Version": `${major}.${minor}`,
        ...headers,
      },
    });
  }

  #route(req: Request, url: URL, method: string, path: string, body: unknown): Response {
    const q = url.searchParams;
    if (path === "status") return this.#json(200, { "netbox-version": this.version });
    if (path === "schema") return this.#json(200, { paths: {} });
    if (path === "users/tokens" && method === "GET") return this.#tokens(req, q);
    const m =
      /^([a-z0-9_-]+(?:\/[a-z0-9_-]+)*?)(?:\/(\d+))?(?:\/(available-(?:ips|prefixes|vlans|asns)))?$/
        .exec(path);
    const listPath = m?.[1] ?? "";
    const app = /^([a-z]+)\/[a-z-]+$/.exec(listPath)?.[1];
    if (!m || (!(app && APPS.has(app)) && !(listPath in this.tables))) {
      return this.#json(404, { detail: "Not found." });
    }
    if (method === "OPTIONS") return this.#options(listPath);
    if (method !== "GET" && this.options.readOnly) {
      return this.#json(403, { detail: "You do not have permission to perform this action." });
    }
    const id = m[2] ? Number(m[2]) : undefined;
    if (m[3]) return this.#available(listPath, id!, m[3], method, q, body);
    if (method === "GET") {
      if (id === undefined) return this.#list(listPath, q);
      const o = this.get(listPath, id);
      if (!o) return this.#json(404, { detail: "No object matches the given query." });
      const headers: Record<string, string> = {};
      if (this.#etags() && typeof o.last_updated === "string") {
        headers.ETag = etagOfStamp(o.last_updated);
      }
      return this.#json(200, this.#shape(listPath, q)(o), headers);
    }
    if (method === "POST") return this.#post(listPath, body);
    if (method === "PATCH" || method === "PUT") return this.#patch(req, listPath, id, body);
    if (method === "DELETE") return this.#remove(req, listPath, id, body);
    return this.#json(405, { detail: `Method "${method}" not allowed.` });
  }

  #etags(): boolean {
    return versionAtLeast(this.version, 4, 6);
  }

  #tokens(req: Request, q: URLSearchParams): Response {
    const auth = req.headers.get("Authorization") ?? "";
    const token = auth.replace(/^(Token|Bearer)\s+/, "");
    const key = q.get("key") ?? /^nbt_([^.]+)\./.exec(token)?.[1];
    const entry = key ? { id: 1, version: 2, key, write_enabled: !this.options.readOnly } : {
      id: 1,
      version: 1,
      display: `${"*".repeat(34)}${token.slice(-6)}`,
      write_enabled: !this.options.readOnly,
    };
    return this.#json(200, { count: 1, next: null, previous: null, results: [entry] });
  }

  #options(path: string): Response {
    // NetBox shows actions.POST / actions.PUT only to a token that may add / change the model.
    const denied = this.options.readOnly ? ["add", "change"] : this.options.deny?.[path] ?? [];
    const meta = this.options.meta?.[path] ?? { id: { type: "integer", read_only: true } };
    const actions: Record<string, unknown> = {};
    if (!denied.includes("add")) actions.POST = meta;
    if (!denied.includes("change")) actions.PUT = meta;
    return this.#json(200, { name: path, actions });
  }

  /** brief / fields / omit / exclude applied to one object. */
  #shape(path: string, q: URLSearchParams): (o: Obj) => Obj {
    const fields = q.get("fields")?.split(",").filter(Boolean);
    const omit = versionAtLeast(this.version, 4, 5, 2)
      ? q.get("omit")?.split(",").filter(Boolean)
      : undefined;
    const brief = q.get("brief") === "true" || q.get("brief") === "1";
    const excludeContext = q.get("exclude") === "config_context";
    return (o) => {
      if (fields?.length) {
        return Object.fromEntries(fields.filter((f) => f in o).map((f) => [f, o[f]])) as Obj;
      }
      let out: Obj = brief ? this.#brief(path, o) : { ...o };
      if (omit?.length || excludeContext) {
        out = { ...out };
        for (const k of omit ?? []) delete out[k];
        if (excludeContext) delete out.config_context;
      }
      return out;
    };
  }

  #list(path: string, q: URLSearchParams): Response {
    const table = this.table(path);
    const keys = this.#knownFilters(path, table, q);
    let rows = table.filter((o) => this.#matches(path, o, q, keys));
    const ordering = q.get("ordering")?.split(",").filter(Boolean) ?? [];
    rows.sort((a, b) => a.id - b.id);
    for (const key of [...ordering].reverse()) {
      const desc = key.startsWith("-");
      const f = desc ? key.slice(1) : key;
      rows.sort((a, b) => compare(a[f], b[f]) * (desc ? -1 : 1));
    }
    const max = this.options.maxPageSize ?? 1000;
    const asked = q.has("limit") ? Number(q.get("limit")) : 50;
    const limit = Math.min(asked === 0 ? max : asked, max);
    const shape = this.#shape(path, q);
    const link = (params: Record<string, string>) => {
      const next = new URLSearchParams(q);
      for (const [k, v] of Object.entries(params)) next.set(k, v);
      return `${this.host}/api/${path}/?${next}`;
    };
    if (q.has("start") && versionAtLeast(this.version, 4, 6)) {
      if (q.has("offset") || q.has("ordering")) {
        return this.#json(400, ["The start parameter cannot be combined with offset or ordering."]);
      }
      const start = Number(q.get("start"));
      rows = rows.filter((r) => r.id >= start);
      const page = rows.slice(0, limit);
      // Like NetBox's cursor paging: a full page has a next link (the next page may be empty).
      const full = page.length === limit && page.length > 0;
      return this.#json(200, {
        count: null,
        next: full ? link({ start: String(page[page.length - 1].id + 1) }) : null,
        previous: null,
        results: page.map(shape),
      });
    }
    const offset = Number(q.get("offset") ?? 0);
    const page = rows.slice(offset, offset + limit);
    return this.#json(200, {
      count: rows.length,
      next: offset + limit < rows.length
        ? link({ offset: String(offset + limit), limit: String(limit) })
        : null,
      previous: offset > 0
        ? link({ offset: String(Math.max(0, offset - limit)), limit: String(limit) })
        : null,
      results: page.map(shape),
    });
  }

  #post(path: string, body: unknown): Response {
    const many = Array.isArray(body);
    const items = (many ? body : [body]) as Record<string, unknown>[];
    const created: Obj[] = [];
    const errors: Record<string, string[]>[] = [];
    let failed = false;
    for (const item of items) {
      const o = item && typeof item === "object" ? this.#create(path, item) : new Refusal(400, {
        non_field_errors: ["Invalid data. Expected a dictionary."],
      });
      if (o instanceof Refusal) {
        failed = true;
        errors.push(o.body as Record<string, string[]>);
      } else {
        created.push(o);
        errors.push({});
      }
    }
    if (failed) {
      // All or nothing, as NetBox's transaction.
      for (const o of created) this.#delete(path, o.id);
      return this.#json(400, many ? errors : errors[0]);
    }
    return this.#json(201, many ? created : created[0]);
  }

  #ifMatch(req: Request, objects: Obj[]): Response | undefined {
    const header = req.headers.get("If-Match");
    if (!header || !this.#etags()) return undefined;
    const tags = header.split(/,\s*(?=W\/|")/).map((t) => t.trim());
    for (const o of objects) {
      if (!tags.includes(etagOfStamp(String(o.last_updated)))) {
        return this.#json(412, { detail: "Precondition failed: the object has changed." });
      }
    }
    return undefined;
  }

  #patch(req: Request, path: string, id: number | undefined, body: unknown): Response {
    const items = (id !== undefined ? [{ ...(body as object), id }] : body) as Obj[];
    if (!Array.isArray(items)) return this.#json(400, { detail: "Expected a list of objects." });
    const targets: Obj[] = [];
    for (const item of items) {
      const o = typeof item?.id === "number" ? this.get(path, item.id) : undefined;
      if (!o) {
        return id !== undefined
          ? this.#json(404, { detail: "No object matches the given query." })
          : this.#json(400, items.map((i) => ({ id: [`Object with id ${i?.id} does not exist`] })));
      }
      targets.push(o);
    }
    const refused = this.#ifMatch(req, targets);
    if (refused) return refused;
    const updated: Obj[] = [];
    for (const [i, o] of targets.entries()) {
      const next = this.#update(path, o, items[i]);
      if (next instanceof Refusal) {
        return this.#json(
          next.status,
          id !== undefined ? next.body : items.map((_, j) => j === i ? next.body : {}),
        );
      }
      updated.push(next);
    }
    // All valid: store (in place, so tests holding an object see the change).
    for (const [i, o] of targets.entries()) {
      for (const k of Object.keys(o)) delete o[k];
      Object.assign(o, updated[i]);
    }
    return this.#json(200, id !== undefined ? targets[0] : targets);
  }

  #remove(req: Request, path: string, id: number | undefined, body: unknown): Response {
    const ids = id !== undefined ? [id] : ((body ?? []) as unknown[]).map((b) => idOf(b));
    const targets = ids.map((i) => (i === null ? undefined : this.get(path, i)));
    if (id !== undefined && !targets[0]) {
      return this.#json(404, { detail: "No object matches the given query." });
    }
    const refused = this.#ifMatch(req, targets.filter((o): o is Obj => o !== undefined));
    if (refused) return refused;
    for (const o of targets) if (o) this.#delete(path, o.id);
    return this.#json(204, null);
  }

  // --- available-* -----------------------------------------------------------------------------

  #available(
    path: string,
    id: number,
    kind: string,
    method: string,
    q: URLSearchParams,
    body: unknown,
  ): Response {
    const parent = this.get(path, id);
    const fits = (kind === "available-ips" && (path === KINDS.prefix || path === KINDS.range)) ||
      (kind === "available-prefixes" && path === KINDS.prefix) ||
      (kind === "available-vlans" && path === KINDS.vlangroup) ||
      (kind === "available-asns" && path === "ipam/asn-ranges");
    if (!parent || !fits) return this.#json(404, { detail: "Not found." });
    const cap = this.options.maxPageSize ?? 1000;
    if (method === "GET") {
      const limit = Math.min(Number(q.get("limit") ?? 50) || cap, cap);
      if (kind === "available-ips") {
        return this.#json(
          200,
          this.#freeIps(path, parent, limit).map((address) => ({
            family: address.includes(":") ? 6 : 4,
            address,
            vrf: parent.vrf ?? null,
          })),
        );
      }
      if (kind === "available-prefixes") {
        // NetBox lists every free block (no limit).
        return this.#json(
          200,
          this.#freeBlocks(parent).map((b) => ({
            family: b.family,
            prefix: blockText(b),
            vrf: parent.vrf ?? null,
          })),
        );
      }
      if (kind === "available-asns") {
        return this.#json(200, this.#freeAsns(parent).slice(0, limit).map((asn) => ({ asn })));
      }
      return this.#json(
        200,
        this.#freeVids(parent).slice(0, limit).map((vid) => ({
          vid,
          group: this.#brief(path, parent),
        })),
      );
    }
    if (method !== "POST") return this.#json(405, { detail: `Method "${method}" not allowed.` });
    const many = Array.isArray(body);
    const items = (many ? body : [body ?? {}]) as Record<string, unknown>[];
    const insufficient = () =>
      this.#json(409, { detail: "Insufficient resources are available to satisfy the request" });
    const made: Obj[] = [];
    const undo = (target: string) => made.forEach((o) => this.#delete(target, o.id));
    const vrf = idOf(parent.vrf);
    for (const item of items) {
      let target: string, fields: Record<string, unknown>;
      if (kind === "available-ips") {
        const [address] = this.#freeIps(path, parent, 1);
        if (!address) return (undo(KINDS.ip), insufficient());
        target = KINDS.ip;
        fields = { ...item, address, vrf };
      } else if (kind === "available-prefixes") {
        const length = Number(item.prefix_length);
        const block = this.#freeBlocks(parent).find((b) => b.length <= length);
        if (!block) return (undo(KINDS.prefix), insufficient());
        target = KINDS.prefix;
        const { prefix_length: _, ...rest } = item;
        fields = { ...rest, prefix: blockText({ ...block, length }), vrf };
      } else if (kind === "available-asns") {
        const [asn] = this.#freeAsns(parent);
        if (asn === undefined) return (undo("ipam/asns"), insufficient());
        target = "ipam/asns";
        fields = { ...item, asn, rir: idOf(parent.rir) };
      } else {
        const [vid] = this.#freeVids(parent);
        if (vid === undefined) return (undo(KINDS.vlan), insufficient());
        target = KINDS.vlan;
        fields = { ...item, vid, group: parent.id };
      }
      const o = this.#create(target, fields);
      if (o instanceof Refusal) {
        undo(target);
        return this.#json(o.status, o.body);
      }
      made.push(o);
    }
    return this.#json(201, many ? made : made[0]);
  }

  /** The IP addresses that count as taken in a prefix/range of VRF `vrf` (`any`: every VRF). */
  #taken(vrf: number | null, any: boolean): Set<bigint> {
    return new Set(
      this.table("ip").filter((ip) => any || idOf(ip.vrf) === vrf).map((ip) =>
        hostOf(ip.address).value
      ),
    );
  }

  /** The first `limit` free addresses of a prefix or range, as NetBox's available-ips lists them. */
  #freeIps(path: string, parent: Obj, limit: number): string[] {
    const vrf = idOf(parent.vrf);
    let first: bigint, last: bigint, mask: number, family: 4 | 6;
    let populated: [bigint, bigint][] = [];
    let any = false;
    if (path === KINDS.prefix) {
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
      any = vrf === null && (parent.status?.value ?? parent.status) === "container";
      populated = this.table("range").filter((r) => r.mark_populated && idOf(r.vrf) === vrf)
        .map((r): [bigint, bigint] => [hostOf(r.start_address).value, hostOf(r.end_address).value])
        .filter(([s, e]) => s >= net.first && e <= net.last);
    } else {
      if (parent.mark_populated) return [];
      const s = parseCidr(parent.start_address);
      family = s.family;
      mask = s.prefixLength;
      first = s.address;
      last = hostOf(parent.end_address).value;
    }
    const taken = this.#taken(vrf, any);
    const out: string[] = [];
    for (let v = first; v <= last && out.length < limit; v++) {
      if (taken.has(v)) continue;
      const hit = populated.find(([s, e]) => v >= s && v <= e);
      if (hit) {
        v = hit[1];
        continue;
      }
      out.push(`${formatIp({ family, value: v })}/${mask}`);
    }
    return out;
  }

  /** The free CIDR blocks of a prefix (not covered by a child prefix in its VRF), in order. */
  #freeBlocks(parent: Obj): Block[] {
    const net = parseCidr(parent.prefix);
    const vrf = idOf(parent.vrf);
    const bits = net.family === 4 ? 32 : 128;
    const children = this.table("prefix").filter((p) => p.id !== parent.id && idOf(p.vrf) === vrf)
      .map((p) => parseCidr(p.prefix))
      .filter((c) =>
        c.family === net.family && c.first >= net.first && c.last <= net.last &&
        c.prefixLength > net.prefixLength
      )
      .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    const blocks: Block[] = [];
    let cursor = net.first;
    const emit = (from: bigint, to: bigint) => {
      // Largest aligned blocks covering [from, to].
      while (from <= to) {
        let size = 1n, length = bits;
        while (length > net.prefixLength) {
          const bigger = size * 2n;
          if (from % bigger !== 0n || from + bigger - 1n > to) break;
          size = bigger;
          length--;
        }
        blocks.push({ family: net.family, first: from, length });
        from += size;
      }
    };
    for (const c of children) {
      if (c.first > cursor) emit(cursor, c.first - 1n);
      if (c.last + 1n > cursor) cursor = c.last + 1n;
    }
    if (cursor <= net.last) emit(cursor, net.last);
    return blocks;
  }

  /** The free AS numbers of an ASN range, ascending. */
  #freeAsns(range: Obj): number[] {
    const used = new Set(this.table("ipam/asns").map((a) => a.asn));
    const out: number[] = [];
    for (let asn = range.start; asn <= range.end; asn++) if (!used.has(asn)) out.push(asn);
    return out;
  }

  /** The free VLAN ids of a VLAN group, ascending. */
  #freeVids(group: Obj): number[] {
    const ranges: [number, number][] = group.vid_ranges ??
      [[group.min_vid ?? 1, group.max_vid ?? 4094]];
    const used = new Set(
      this.table("vlan").filter((v) => idOf(v.group) === group.id).map((v) => v.vid),
    );
    const out: number[] = [];
    for (const [lo, hi] of ranges) {
      for (let vid = lo; vid <= hi; vid++) if (!used.has(vid)) out.push(vid);
    }
    return out;
  }
}

interface Block {
  family: 4 | 6;
  first: bigint;
  length: number;
}

function blockText(b: Block): string {
  return `${formatIp({ family: b.family, value: b.first })}/${b.length}`;
}

function compare(a: unknown, b: unknown): number {
  const va = (a as { value?: unknown } | null)?.value ?? (a as { name?: unknown })?.name ?? a;
  const vb = (b as { value?: unknown } | null)?.value ?? (b as { name?: unknown })?.name ?? b;
  if (typeof va === "number" && typeof vb === "number") return va - vb;
  return String(va ?? "").localeCompare(String(vb ?? ""));
}

/** Whether candidate values `have` pass a filter lookup with the query's `values`. */
function matchLookup(lookup: string, have: unknown[], values: string[]): boolean {
  const text = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  const eq = (h: unknown, v: string) =>
    v === "null" ? h === null || h === undefined : h !== null && String(h) === v;
  const order = (h: unknown, v: string): number | undefined => {
    if (h === null || h === undefined) return undefined;
    const hn = Number(h), vn = Number(v);
    if (typeof h === "number" || (!Number.isNaN(hn) && !Number.isNaN(vn) && text(h) !== "")) {
      return hn - vn;
    }
    const hd = Date.parse(text(h)), vd = Date.parse(v);
    if (!Number.isNaN(hd) && !Number.isNaN(vd)) return hd - vd;
    return text(h).localeCompare(v);
  };
  const someHave = (f: (h: unknown, v: string) => boolean) =>
    values.some((v) => have.some((h) => f(h, v)));
  const lower = (h: unknown) => text(h).toLowerCase();
  switch (lookup) {
    case "exact":
      return someHave(eq);
    case "n":
      return !someHave(eq);
    case "ie":
      return someHave((h, v) => h !== null && lower(h) === v.toLowerCase());
    case "nie":
      return !someHave((h, v) => h !== null && lower(h) === v.toLowerCase());
    case "ic":
      return someHave((h, v) => h !== null && lower(h).includes(v.toLowerCase()));
    case "nic":
      return !someHave((h, v) => h !== null && lower(h).includes(v.toLowerCase()));
    case "isw":
      return someHave((h, v) => h !== null && lower(h).startsWith(v.toLowerCase()));
    case "nisw":
      return !someHave((h, v) => h !== null && lower(h).startsWith(v.toLowerCase()));
    case "iew":
      return someHave((h, v) => h !== null && lower(h).endsWith(v.toLowerCase()));
    case "niew":
      return !someHave((h, v) => h !== null && lower(h).endsWith(v.toLowerCase()));
    case "gte":
      return someHave((h, v) => (order(h, v) ?? -1) >= 0);
    case "lte":
      return someHave((h, v) => (order(h, v) ?? 1) <= 0);
    case "gt":
      return someHave((h, v) => (order(h, v) ?? -1) > 0);
    case "lt":
      return someHave((h, v) => (order(h, v) ?? 1) < 0);
    case "isnull": {
      const isNull = have.every((h) => h === null || h === undefined);
      return values.some((v) => (v === "true" || v === "True" || v === "1") === isNull);
    }
    case "empty": {
      const empty = have.every((h) => h === null || h === undefined || h === "");
      return values.some((v) => (v === "true" || v === "True" || v === "1") === empty);
    }
  }
  return false;
}

/** A task's IO around the fake, capturing stdout/stderr; `files` are what `readTextFile` finds. */
export function fakeIO(fake: FakeNetBox, files: Record<string, string> = {}) {
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: (t: string) => void (out.stdout += t),
    stderr: (t: string) => void (out.stderr += t),
    env: (name: string) =>
      ({ NETBOX_URL: fake.host, NETBOX_TOKEN: "nbt_abcdefghijkl.0123456789" } as Record<
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
