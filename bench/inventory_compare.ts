/**
 * Our inventory against Ansible's `netbox.netbox.nb_inventory` on the same NetBox, for the same
 * options: same hosts, same groups, same `ansible_host`, host variables compared key by key; and
 * the wall time and requests of each (both through one counting proxy on 127.0.0.1). Nornir:
 * our files loaded with Nornir's SimpleInventory. Not part of CI (Ansible takes minutes to
 * install): run it by hand with a venv holding `ansible`, `pynetbox`, `pytz` and `nornir`.
 *
 * ```sh
 * python3.12 -m venv /tmp/ansible-venv && /tmp/ansible-venv/bin/pip install ansible pytz nornir
 * set -a; source /tmp/nb/4.7.3.env; set +a
 * ANSIBLE_VENV=/tmp/ansible-venv deno run -A bench/inventory_compare.ts --devices 2000 --vms 200
 * ```
 *
 * It seeds its own objects under one tag (devices with an interface and an IPv4 primary, every
 * tenth without a primary IP, VMs with an IPv6 primary, nested regions and locations, a site
 * group, rack, platform, tenant and cluster), filters both tools on that tag, writes
 * `bench/results/<date>-inventory-<version>.{json,md}` and deletes what it made.
 *
 * - `--config-context`: both tools add each host's config context (nb_inventory's
 *   `config_context: true`, our `--config-context`).
 * - `--keep`: leaves the seeded objects (and prints their prefix); `--use <prefix>` runs on
 *   objects an earlier `--keep` left, without seeding (and deletes nothing).
 * - `--force`: runs on a busy machine (the load rule of `_measure.ts`), marking the results.
 * - `--no-save`: prints the results only; `--render <file.json>` writes the Markdown of saved
 *   results beside them.
 *
 * After the tools, our requests are replayed with curl straight to NetBox, four at a time (our
 * concurrency) and one at a time: NetBox's own time for our listings, the floor of our wall time.
 *
 * @module
 */

import { checkStartLoad, loadAvg, machineLine } from "./_measure.ts";

const args = Deno.args;
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const DEVICES = flag("--devices", 60);
const VMS = flag("--vms", 10);
const REPS = flag("--reps", 1);
const CONFIG_CONTEXT = args.includes("--config-context");
const KEEP = args.includes("--keep");
const USE = args.includes("--use") ? args[args.indexOf("--use") + 1] : undefined;
const ROOT = new URL("../", import.meta.url).pathname;
if (USE && KEEP) throw new Error("--use runs on kept objects: --keep is implied");
const GROUP_BY = [
  "site",
  "tenant",
  "role",
  "platform",
  "tag",
  "device_type",
  "manufacturer",
  "rack",
  "rack_role",
  "region",
  "site_group",
  "location",
  "cluster",
  "cluster_type",
  "cluster_group",
  "status",
  "is_virtual",
];
// `--render <results.json>`: writes the Markdown of an earlier run beside it, nothing else.
if (args.includes("--render")) {
  const file = args[args.indexOf("--render") + 1];
  const r = JSON.parse(await Deno.readTextFile(file));
  await Deno.writeTextFile(file.replace(/\.json$/, ".md"), markdown(r));
  Deno.exit(0);
}
const VENV = Deno.env.get("ANSIBLE_VENV") ?? "/tmp/ansible-venv";
const URL_ = (Deno.env.get("NETBOX_TEST_URL") ?? "").replace(/\/+$/, "");
const TOKEN = Deno.env.get("NETBOX_TEST_TOKEN") ?? "";
if (!URL_ || !TOKEN) throw new Error("set NETBOX_TEST_URL and NETBOX_TEST_TOKEN (a test NetBox)");
if (!/^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(URL_)) {
  throw new Error("the NetBox must be on a loopback address");
}

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;
const auth = TOKEN.startsWith("nbt_") ? `Bearer ${TOKEN}` : `Token ${TOKEN}`;

async function api(method: string, path: string, body?: unknown): Promise<Obj> {
  const res = await fetch(`${URL_}/api/${path}`, {
    method,
    headers: {
      Authorization: auth,
      "Content-Type": "application/json",
      Accept: "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : {};
}

const made: [string, number[]][] = [];
/** Bulk writes of 250, two in flight (NetBox's answer order kept). */
async function chunked(method: string, path: string, rows: Obj[]): Promise<Obj[]> {
  const parts: Obj[][] = [];
  let next = 0;
  const worker = async () => {
    while (next * 250 < rows.length) {
      const i = next++;
      parts[i] = await api(method, path, rows.slice(i * 250, (i + 1) * 250)) as unknown as Obj[];
    }
  };
  await Promise.all([worker(), worker()]);
  return parts.flat();
}

async function post(path: string, body: Obj | Obj[]): Promise<Obj> {
  if (Array.isArray(body)) {
    const out = await chunked("POST", path, body);
    made.push([path, out.map((o) => o.id)]);
    return out;
  }
  const o = await api("POST", path, body);
  made.push([path, [o.id]]);
  return o;
}

async function cleanup() {
  for (const [path, ids] of made.reverse()) {
    if (path.endsWith("interfaces/") || path.startsWith("ipam/")) continue; // cascade
    // Small chunks: a bulk delete of 200 devices with their interfaces and addresses timed out
    // (500) on a loaded NetBox.
    for (let i = 0; i < ids.length; i += 25) {
      await api("DELETE", path, ids.slice(i, i + 25).map((id) => ({ id }))).catch((err) =>
        console.error(`cleanup: ${err.message}`)
      );
    }
  }
}

async function seed(n: string) {
  const named = (s: string) => ({ name: `${n}-${s}`, slug: `${n}-${s}` });
  const tag = await post("extras/tags/", named("tag"));
  const tenant = await post("tenancy/tenants/", named("tenant"));
  const world = await post("dcim/regions/", named("world"));
  const eu = await post("dcim/regions/", { ...named("eu"), parent: world.id });
  const sg = await post("dcim/site-groups/", named("sg"));
  const s1 = await post("dcim/sites/", { ...named("s1"), region: eu.id, group: sg.id });
  const s2 = await post("dcim/sites/", named("s2"));
  const floor = await post("dcim/locations/", { ...named("floor"), site: s1.id });
  const room = await post("dcim/locations/", { ...named("room"), site: s1.id, parent: floor.id });
  const rrole = await post("dcim/rack-roles/", named("rrole"));
  const rack = await post("dcim/racks/", {
    name: `${n}-rack`,
    site: s1.id,
    location: room.id,
    role: rrole.id,
  });
  const role = await post("dcim/device-roles/", { ...named("role"), vm_role: true });
  const role2 = await post("dcim/device-roles/", { ...named("role2"), vm_role: true });
  const platform = await post("dcim/platforms/", named("platform"));
  const maker = await post("dcim/manufacturers/", named("maker"));
  const type = await post("dcim/device-types/", {
    manufacturer: maker.id,
    model: `${n}-type`,
    slug: `${n}-type`,
  });
  const ctype = await post("virtualization/cluster-types/", named("ctype"));
  const cgroup = await post("virtualization/cluster-groups/", named("cgroup"));
  const cluster = await post("virtualization/clusters/", {
    name: `${n}-cluster`,
    type: ctype.id,
    group: cgroup.id,
  });
  const devices = await post(
    "dcim/devices/",
    Array.from({ length: DEVICES }, (_, i) => ({
      name: `${n}-d${i}`,
      device_type: type.id,
      role: i % 3 ? role.id : role2.id,
      site: i % 2 ? s1.id : s2.id,
      ...(i % 2 && i % 4 === 1 ? { location: room.id, rack: rack.id } : {}),
      ...(i % 5 === 0 ? { platform: platform.id, tenant: tenant.id } : {}),
      serial: i % 7 === 0 ? `SN${i}` : "",
      tags: [tag.id],
    })),
  ) as unknown as Obj[];
  const ifaces = await post(
    "dcim/interfaces/",
    devices.map((d) => ({ device: d.id, name: "eth0", type: "virtual" })),
  ) as unknown as Obj[];
  const base = Math.floor(Math.random() * 200);
  const ips = await post(
    "ipam/ip-addresses/",
    ifaces.map((f, i) => ({
      address: `10.${base}.${Math.floor(i / 250)}.${(i % 250) + 2}/16`,
      assigned_object_type: "dcim.interface",
      assigned_object_id: f.id,
      dns_name: i % 4 === 0 ? `${n}-d${i}.example.net` : "",
    })),
  ) as unknown as Obj[];
  const primaries = devices.map((d, i) => ({ id: d.id, primary_ip4: ips[i].id }))
    .filter((_, i) => i % 10 !== 9);
  await chunked("PATCH", "dcim/devices/", primaries);
  const vms = await post(
    "virtualization/virtual-machines/",
    Array.from({ length: VMS }, (_, i) => ({
      name: `${n}-vm${i}`,
      cluster: cluster.id,
      role: role.id,
      tags: [tag.id],
      vcpus: 2,
      memory: 2048,
    })),
  ) as unknown as Obj[];
  const vifaces = await post(
    "virtualization/interfaces/",
    vms.map((v) => ({ virtual_machine: v.id, name: "eth0" })),
  ) as unknown as Obj[];
  const hex = base.toString(16);
  const vips = await post(
    "ipam/ip-addresses/",
    vifaces.map((f, i) => ({
      address: `fd00:${hex}::${(i + 2).toString(16)}/64`,
      assigned_object_type: "virtualization.vminterface",
      assigned_object_id: f.id,
    })),
  ) as unknown as Obj[];
  await chunked(
    "PATCH",
    "virtualization/virtual-machines/",
    vms.map((v, i) => ({ id: v.id, primary_ip6: vips[i].id })),
  );
  return { tag: `${n}-tag` };
}

/** A counting proxy: every request to NetBox passes here; `next` links point back at it. */
function proxy() {
  let count = 0;
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (req): Promise<Response> => {
    count++;
    const url = new URL(req.url);
    const res = await fetch(`${URL_}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
    const text = await res.text();
    const headers = new Headers(res.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new Response(text.replaceAll(URL_, `http://127.0.0.1:${server.addr.port}`), {
      status: res.status,
      headers,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    take: () => {
      const c = count;
      count = 0;
      return c;
    },
    close: () => server.shutdown(),
  };
}

async function run(cmd: string[], env: Record<string, string>) {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
  }).output();
  const ms = performance.now() - t0;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${stderr.slice(-2000)}`);
  return { ms, stdout, stderr };
}

/** ansible-inventory's JSON marks strings from a plugin as `{"__ansible_unsafe": "…"}`. */
function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") {
    const o = v as Obj;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "__ansible_unsafe") return o.__ansible_unsafe;
    return Object.fromEntries(keys.map((k) => [k, unwrap(o[k])]));
  }
  return v;
}

/** Groups that hold a host (directly or through children), with sorted members. */
function normalise(doc: Obj) {
  const groups: Record<string, { hosts: string[]; children: string[] }> = {};
  for (const [name, g] of Object.entries(doc)) {
    if (name === "_meta" || name === "all" || name === "ungrouped") continue;
    groups[name] = { hosts: [...(g.hosts ?? [])].sort(), children: [...(g.children ?? [])].sort() };
  }
  const full = (name: string, seen = new Set<string>()): boolean => {
    const g = groups[name];
    if (!g || seen.has(name)) return false;
    seen.add(name);
    return g.hosts.length > 0 || g.children.some((c) => full(c, seen));
  };
  const kept = Object.fromEntries(
    Object.entries(groups).filter(([n]) => full(n)).map(([n, g]) => [
      n,
      { hosts: g.hosts, children: g.children.filter((c) => full(c)) },
    ]).sort(([a], [b]) => a < b ? -1 : 1),
  );
  return { hosts: Object.keys(doc._meta?.hostvars ?? {}).sort(), groups: kept };
}

/** JSON with sorted keys: the same value whatever the key order. */
function canonical(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) =>
      x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]]))
        : x,
  );
}

function compareVars(ours: Obj, theirs: Obj) {
  const diffs: Record<string, number> = {};
  const examples: Record<string, unknown> = {};
  for (const host of Object.keys(theirs)) {
    const a = ours[host] ?? {}, b = theirs[host] ?? {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (canonical(a[key]) === canonical(b[key])) continue;
      const why = !(key in a)
        ? `${key} (only nb_inventory)`
        : !(key in b)
        ? `${key} (only ours)`
        : `${key} (differs)`;
      diffs[why] = (diffs[why] ?? 0) + 1;
      examples[why] ??= { host, ours: a[key], nb_inventory: b[key] };
    }
  }
  return { diffs, examples };
}

/** Our requests (from `--verbose`) replayed with curl straight to NetBox, `parallel` at a time. */
async function replay(paths: string[], parallel: number): Promise<number> {
  const t = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      const out = await new Deno.Command("curl", {
        args: [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-H",
          `Authorization: ${auth}`,
          "-H",
          "Accept: application/json",
          `${URL_}${path}`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const code = new TextDecoder().decode(out.stdout);
      if (code !== "200") throw new Error(`curl ${path.slice(0, 80)}: ${code}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return performance.now() - t;
}

const status = await api("GET", "status/");
const version = String(status["netbox-version"]);
const loadWarning = checkStartLoad(args.includes("--force"), (line) => console.error(line));
const loadBefore = loadAvg();
const n = USE ?? `nbtk-invb-${crypto.randomUUID().slice(0, 6)}`;
const t0 = performance.now();
const p = proxy();
const work = await Deno.makeTempDir();
let seedSeconds = 0;
try {
  let tag = `${n}-tag`;
  if (!USE) {
    console.error(`NetBox ${version}: seeding ${DEVICES} devices, ${VMS} VMs under tag ${n}-tag …`);
    tag = (await seed(n)).tag;
    seedSeconds = (performance.now() - t0) / 1000;
    console.error(`seeded in ${seedSeconds.toFixed(1)} s`);
  }
  const loadAtRun = loadAvg();
  const env = {
    PATH: `${VENV}/bin:${Deno.env.get("PATH")}`,
    HOME: Deno.env.get("HOME") ?? "/tmp",
    NETBOX_URL: p.url,
    NETBOX_TOKEN: TOKEN,
    ANSIBLE_INVENTORY_CACHE: "False",
    ANSIBLE_LOCAL_TEMP: `${work}/tmp`,
    ANSIBLE_HOME: `${work}/ansible`,
    NO_COLOR: "1",
    ...Object.fromEntries(
      ["DENO_DIR", "NODE_EXTRA_CA_CERTS", "DENO_CERT", "DENO_TLS_CA_STORE"].flatMap((k) =>
        Deno.env.get(k) ? [[k, Deno.env.get(k)!]] : []
      ),
    ),
  };
  const tokenYaml = TOKEN.startsWith("nbt_")
    ? `token:\n  type: bearer\n  value: "${TOKEN}"`
    : `token: "${TOKEN}"`;
  await Deno.writeTextFile(
    `${work}/nb.yml`,
    [
      "plugin: netbox.netbox.nb_inventory",
      `api_endpoint: ${p.url}`,
      tokenYaml,
      "plurals: false",
      "services: false",
      "interfaces: true",
      `config_context: ${CONFIG_CONTEXT}`,
      "validate_certs: false",
      "query_filters:",
      `  - tag: ${tag}`,
      "group_by:",
      ...GROUP_BY.map((g) => `  - ${g}`),
      "",
    ].join("\n"),
  );
  const ourArgs = [
    "--filter",
    `tag=${tag}`,
    "--group-by",
    GROUP_BY.join(","),
    "--interfaces",
    "--include-no-ip",
    "--prefer-ipv6",
    ...(CONFIG_CONTEXT ? ["--config-context"] : []),
  ];
  await Deno.writeTextFile(
    `${work}/netbox.sh`,
    `#!/bin/sh\nexec deno run --no-prompt --allow-net --allow-env=NETBOX_URL,NETBOX_TOKEN,NETBOX_TOKEN_FILE,NETBOX_TIMEOUT,NETBOX_RETRIES,NETBOX_SETTLE,NETBOX_CA_CERT --allow-read --allow-write ${ROOT}tasks/inventory.ts ${
      ourArgs.join(" ")
    } "$@"\n`,
  );
  await Deno.chmod(`${work}/netbox.sh`, 0o755);

  // Warm-up: nb_inventory caches NetBox's OpenAPI schema in its temp dir; Deno its modules.
  await run(["ansible-inventory", "-i", `${work}/nb.yml`, "--list"], env);
  await run(["deno", "run", "-A", `${ROOT}tasks/inventory.ts`, "--help"], env);
  p.take();
  const samples = { nb: [] as number[], ours: [] as number[], nbReq: 0, oursReq: 0 };
  let nbDoc: Obj = {}, ourDoc: Obj = {}, viaAnsible: Obj = {}, oursLog = "";
  for (let r = 0; r < REPS; r++) {
    const nb = await run(["ansible-inventory", "-i", `${work}/nb.yml`, "--list"], env);
    samples.nb.push(nb.ms);
    samples.nbReq = p.take();
    nbDoc = unwrap(JSON.parse(nb.stdout)) as Obj;
    const ours = await run([
      "deno",
      "run",
      "--no-prompt",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      `${ROOT}tasks/inventory.ts`,
      ...ourArgs,
      "--verbose",
    ], env);
    samples.ours.push(ours.ms);
    samples.oursReq = p.take();
    ourDoc = JSON.parse(ours.stdout);
    oursLog = ours.stderr;
  }
  // NetBox's own time for our listings: the same requests with curl, straight to NetBox.
  const ourPaths = oursLog.split("\n").filter((l) => l.startsWith("GET "))
    .map((l) => l.split(" ")[1]);
  const curl4 = await replay(ourPaths, 4);
  const curl1 = await replay(ourPaths, 1);
  // Deno's start and module loading: the task's --help.
  const startup = (await run([
    "deno",
    "run",
    "--no-prompt",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    `${ROOT}tasks/inventory.ts`,
    "--help",
  ], env)).ms;
  const loadAfterRuns = loadAvg();
  // Our task as Ansible's inventory script, and our static YAML read by Ansible.
  viaAnsible = JSON.parse(
    (await run(["ansible-inventory", "-i", `${work}/netbox.sh`, "--list"], env)).stdout,
  );
  const yamlOut = `${work}/inventory.yaml`;
  await run(
    [
      "deno",
      "run",
      "-A",
      `${ROOT}tasks/inventory.ts`,
      ...ourArgs,
      "--format",
      "ansible-yaml",
      "--output",
      yamlOut,
    ],
    env,
  );
  const viaYaml = JSON.parse(
    (await run(["ansible-inventory", "-i", yamlOut, "--list"], env)).stdout,
  );
  p.take();
  // Nornir's SimpleInventory on our files.
  await run(
    [
      "deno",
      "run",
      "-A",
      `${ROOT}tasks/inventory.ts`,
      ...ourArgs,
      "--format",
      "nornir",
      "--output",
      `${work}/nornir`,
    ],
    env,
  );
  const nornir = JSON.parse(
    (await run([
      `${VENV}/bin/python3`,
      "-c",
      `import json,sys
from nornir import InitNornir
d=sys.argv[1]
nr=InitNornir(runner={"plugin":"serial"},logging={"enabled":False},inventory={"plugin":"SimpleInventory","options":{"host_file":d+"/hosts.yaml","group_file":d+"/groups.yaml","defaults_file":d+"/defaults.yaml"}})
print(json.dumps({"hosts":sorted(nr.inventory.hosts),"groups":sorted(nr.inventory.groups),
 "host_groups":{h:sorted(g.name for g in nr.inventory.hosts[h].groups) for h in nr.inventory.hosts},
 "hostnames":{h:nr.inventory.hosts[h].hostname for h in nr.inventory.hosts}}))`,
      `${work}/nornir`,
    ], env)).stdout,
  );

  const a = normalise(ourDoc), b = normalise(nbDoc);
  const sameHosts = JSON.stringify(a.hosts) === JSON.stringify(b.hosts);
  const groupDiff = [...new Set([...Object.keys(a.groups), ...Object.keys(b.groups)])].filter((g) =>
    JSON.stringify(a.groups[g]) !== JSON.stringify(b.groups[g])
  );
  const hv = (d: Obj) => d._meta.hostvars as Obj;
  const ansibleHostDiff = b.hosts.filter((h) =>
    hv(ourDoc)[h]?.ansible_host !== hv(nbDoc)[h]?.ansible_host
  );
  const vars = compareVars(hv(ourDoc), hv(nbDoc));
  const viaScript = normalise(viaAnsible), viaStatic = normalise(viaYaml);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const result = {
    date: new Date().toISOString(),
    netbox: version,
    devices: DEVICES,
    vms: VMS,
    config_context: CONFIG_CONTEXT,
    seed_seconds: +seedSeconds.toFixed(1),
    load: {
      start: loadBefore,
      before_runs: loadAtRun,
      after_runs: loadAfterRuns,
      warning: loadWarning ?? null,
    },
    machine: await machineLine(),
    hosts: a.hosts.length,
    groups: Object.keys(a.groups).length,
    same_hosts: sameHosts,
    groups_differing: groupDiff,
    ansible_host_differing: ansibleHostDiff,
    hostvars_differences: vars.diffs,
    hostvars_difference_examples: vars.examples,
    script_wrapper_same_as_ours: JSON.stringify(viaScript) === JSON.stringify(a),
    static_yaml_same_as_ours: JSON.stringify(viaStatic) === JSON.stringify(a),
    nornir: {
      hosts: nornir.hosts.length,
      groups: nornir.groups.length,
      same_hosts: JSON.stringify(nornir.hosts) === JSON.stringify(a.hosts),
      same_groups: JSON.stringify(nornir.groups) === JSON.stringify(Object.keys(a.groups)),
      hostnames_match_ansible_host: a.hosts.every((h) =>
        (nornir.hostnames[h] ?? undefined) === hv(ourDoc)[h]?.ansible_host
      ),
    },
    wall_ms: {
      nb_inventory: Math.round(median(samples.nb)),
      ours: Math.round(median(samples.ours)),
    },
    ratio: +(median(samples.ours) / median(samples.nb)).toFixed(3),
    samples_ms: { nb_inventory: samples.nb.map(Math.round), ours: samples.ours.map(Math.round) },
    floor_ms: {
      curl_4_parallel: Math.round(curl4),
      curl_sequential: Math.round(curl1),
      deno_start_help: Math.round(startup),
    },
    requests: { nb_inventory: samples.nbReq, ours: samples.oursReq },
    reps: REPS,
    our_request_log: oursLog.split("\n").filter((l) => l.startsWith("GET ")),
  };
  console.log(JSON.stringify(result, null, 2));
  if (!args.includes("--no-save")) {
    const stem = `${ROOT}bench/results/${result.date.slice(0, 10)}-inventory-${version}-${DEVICES}${
      CONFIG_CONTEXT ? "-config-context" : ""
    }`;
    await Deno.writeTextFile(`${stem}.json`, JSON.stringify(result, null, 2) + "\n");
    await Deno.writeTextFile(`${stem}.md`, markdown(result));
  }
} finally {
  if (KEEP || USE) {
    if (KEEP) console.error(`kept the seeded objects: --use ${n}`);
  } else await cleanup();
  await p.close();
  await Deno.remove(work, { recursive: true }).catch(() => {});
}

function markdown(r: Obj): string {
  const rows = Object.entries(r.hostvars_differences as Record<string, number>)
    .map(([k, c]) =>
      `| ${k} | ${c} | \`${JSON.stringify(r.hostvars_difference_examples[k]).slice(0, 160)}\` |`
    );
  return `# inventory vs nb_inventory — NetBox ${r.netbox}, ${r.date.slice(0, 10)}

${r.devices} devices (an interface and an IPv4 primary each, every tenth without a primary IP) and
${r.vms} VMs (IPv6 primary), one tag; both tools filtered on it, grouped by every key both know
(\`${GROUP_BY.join(",")}\`), interfaces on${
    r.config_context
      ? ", config context on (nb_inventory's \`config_context: true\`, our \`--config-context\`)"
      : ""
  }; nb_inventory with \`plurals: false\`,
\`services: false\`; ours with \`--include-no-ip --prefer-ipv6\` (its defaults). Both through one
counting proxy on 127.0.0.1; median of ${r.reps} run(s) after a warm-up.
Machine: ${r.machine}. Load average (1, 5, 15 min) at the start ${r.load.start}, before the timed
runs ${r.load.before_runs}, after them ${r.load.after_runs}${
    r.load.warning ? ` — ${r.load.warning}` : ""
  }.

| | nb_inventory | ours |
|---|---|---|
| wall time | ${r.wall_ms.nb_inventory} ms | ${r.wall_ms.ours} ms (${r.ratio}×) |
| each run | ${r.samples_ms.nb_inventory.join(", ")} ms | ${r.samples_ms.ours.join(", ")} ms |
| requests | ${r.requests.nb_inventory} | ${r.requests.ours} |

NetBox's own time for our requests (the floor): the same ${r.our_request_log.length} GETs with curl
straight to NetBox, 4 at a time ${r.floor_ms.curl_4_parallel} ms, one at a time
${r.floor_ms.curl_sequential} ms; Deno's start and module loading (the task's \`--help\`)
${r.floor_ms.deno_start_help} ms.

- hosts: ${r.hosts}, the same: ${r.same_hosts}; groups holding hosts: ${r.groups}, differing: ${
    r.groups_differing.length ? r.groups_differing.join(", ") : "none"
  }; ansible_host differing: ${r.ansible_host_differing.length}
- our task as Ansible's inventory script (\`ansible-inventory -i netbox.sh --list\`) gives the same
  inventory: ${r.script_wrapper_same_as_ours}; our static YAML read by Ansible: ${r.static_yaml_same_as_ours}
- Nornir SimpleInventory on our files: ${r.nornir.hosts} hosts, ${r.nornir.groups} groups; same hosts
  ${r.nornir.same_hosts}, same groups ${r.nornir.same_groups}, hostname = ansible_host ${r.nornir.hostnames_match_ansible_host}

Host variables that differ (hosts affected, one example):

| variable | hosts | example |
|---|---|---|
${rows.join("\n") || "| none | | |"}
`;
}
