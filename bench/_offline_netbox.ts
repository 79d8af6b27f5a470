/**
 * An in-memory NetBox 4.7 serving the scale bench's layout (`bench/scale_seed.ts`): N addresses,
 * N/10 prefixes, 10 VRFs, as the JSON pages the real server answers (unfiltered listings, cursor
 * and offset paging, `id__lt` ranges; every filtered listing answers empty). `_task_probe.ts
 * --offline N` runs a task against it, so the client's own work (analysis, rendering) can be
 * profiled in seconds instead of the real server's minutes; the real figures come from
 * `deno task bench --scale`.
 *
 * @module
 */

/** The base URL the fake answers for. */
export const OFFLINE_URL = "http://127.0.0.1:1";

/**
 * A `fetch` answering like the scale bench's NetBox with `n` addresses.
 *
 * @param n The number of addresses (a multiple of 100).
 * @returns The fetch function.
 */
export function offlineFetch(n: number): typeof fetch {
  const poolIps = n / 2;
  const prefixCount = n / 10;
  const leaves = prefixCount - 11;
  const STAMP = "2026-12-02T07:00:00.123456Z";

  const vrf = (v: number) =>
    `{"id":${v + 1},"url":"${OFFLINE_URL}/api/ipam/vrfs/${
      v + 1
    }/","display":"scale-${v}","name":"scale-${v}","rd":"65100:${v}","description":""}`;
  const status = (s: string) => `{"value":"${s}","label":"${s[0].toUpperCase()}${s.slice(1)}"}`;
  const v4 = (x: number) => `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;

  function ip(id: number): string {
    let address: string, vrfJson = "null", st = "active", dns: string;
    if (id <= poolIps) {
      const j = id - 1;
      address = `${v4(0x0a000000 + 2 * (j + 1))}/12`;
      dns = `f${j}.pool.scale.example.com`;
    } else {
      const m = id - poolIps - 1;
      const k = Math.floor((m % leaves) / 10), v = (m % leaves) % 10, h = Math.floor(m / leaves);
      address = m % 50 === 49
        ? `${v4(0xac100000 + m)}/24`
        : `${v4(0x0a400000 + k * 256 + 1 + h * 40)}/24`;
      st = m % 10 === 0 ? "reserved" : m % 10 === 1 ? "dhcp" : "active";
      dns = m % 13 === 0 ? "" : `h${m}.v${v}.scale.example.com`;
      vrfJson = vrf(v);
    }
    return `{"id":${id},"url":"${OFFLINE_URL}/api/ipam/ip-addresses/${id}/","display":"${address}","address":"${address}","vrf":${vrfJson},"tenant":null,"status":${
      status(st)
    },"role":null,"assigned_object_type":null,"assigned_object_id":null,"assigned_object":null,"nat_inside":null,"dns_name":"${dns}","tags":[],"created":"${STAMP}","last_updated":"${STAMP}"}`;
  }

  function prefix(id: number): string {
    let p: string, vrfJson = "null", st = "active";
    if (id === 1) p = "10.0.0.0/12";
    else if (id <= 11) (p = "10.64.0.0/10", vrfJson = vrf(id - 2), st = "container");
    else {
      const i = id - 12;
      p = `${v4(0x0a400000 + Math.floor(i / 10) * 256)}/24`;
      vrfJson = vrf(i % 10);
      if (i % 7 === 0) st = "reserved";
    }
    return `{"id":${id},"url":"${OFFLINE_URL}/api/ipam/prefixes/${id}/","prefix":"${p}","vrf":${vrfJson},"status":${
      status(st)
    },"role":null,"is_pool":false,"mark_utilized":false,"tags":[]}`;
  }

  const tables: Record<string, { count: number; row: (id: number) => string }> = {
    "/api/ipam/ip-addresses/": { count: n, row: ip },
    "/api/ipam/prefixes/": { count: prefixCount, row: prefix },
    "/api/ipam/vrfs/": { count: 10, row: (id) => vrf(id - 1) },
  };

  const fake: typeof fetch = (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const json = (body: string) =>
      Promise.resolve(
        new Response(body, {
          headers: { "content-type": "application/json", "API-Version": "4.7" },
        }),
      );
    if (url.pathname === "/api/status/") return json(`{"netbox-version":"4.7.3"}`);
    const table = tables[url.pathname];
    const q = url.searchParams;
    // Only what these listings need: unfiltered tables (filters on empty tables answer empty).
    const filtered = [...q.keys()].some((k) =>
      !["limit", "offset", "start", "fields", "ordering", "brief", "id__lt"].includes(k)
    );
    if (!table || (filtered && url.pathname !== "/api/ipam/prefixes/")) {
      return json(`{"count":0,"next":null,"previous":null,"results":[]}`);
    }
    const limit = Number(q.get("limit") ?? 50);
    if (q.get("ordering") === "-id") {
      return json(
        `{"count":${table.count},"next":null,"previous":null,"results":[{"id":${table.count}}]}`,
      );
    }
    const from = q.has("start")
      ? Math.max(1, Number(q.get("start")))
      : Number(q.get("offset") ?? 0) + 1;
    const below = q.has("id__lt") ? Number(q.get("id__lt")) - 1 : table.count;
    const to = Math.min(table.count, below, from + limit - 1);
    const rows: string[] = [];
    for (let id = from; id <= to; id++) rows.push(table.row(id));
    const next = to < Math.min(table.count, below)
      ? `"${OFFLINE_URL}${url.pathname}?${
        q.has("start")
          ? `start=${to + 1}${q.has("id__lt") ? `&id__lt=${below + 1}` : ""}`
          : `offset=${to}`
      }&limit=${limit}"`
      : "null";
    const count = q.has("start") ? "null" : String(table.count);
    return json(`{"count":${count},"next":${next},"previous":null,"results":[${rows.join(",")}]}`);
  };

  return fake;
}
