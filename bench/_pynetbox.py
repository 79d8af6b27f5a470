"""pynetbox side of the benchmark (child process; token in $NETBOX_TOKEN).

  python bench/_pynetbox.py list URL                  list(nb.ipam.ip_addresses.all())
  python bench/_pynetbox.py list-threading URL        the same with pynetbox.api(threading=True)
  python bench/_pynetbox.py create-loop URL FILE [N]  one create() per address (first N of FILE)
  python bench/_pynetbox.py create-list URL FILE      create([...]) with every address in one call
  python bench/_pynetbox.py import                    nothing (cold start of `import pynetbox`)

Scale bench (the same jobs written the way pynetbox users write them):

  python bench/_pynetbox.py stream URL                for ip in nb.ipam.ip_addresses.all(): ...
  python bench/_pynetbox.py audit URL                 list() every address and prefix, then
                                                      duplicates, orphans and utilization in Python
  python bench/_pynetbox.py free URL CIDR N           prefixes.get(prefix=CIDR).available_ips.list()
  python bench/_pynetbox.py plan-get URL FILE [N]     import plan, one get() per item (first N)
  python bench/_pynetbox.py plan-bulk URL FILE        import plan, one filter() of the items' VRFs

Allocate bench:

  python bench/_pynetbox.py allocate URL ID N LEN     N times prefixes.get(ID)
                                                      .available_prefixes.create({"prefix_length": LEN})

FILE is a JSON array of API bodies (create cases) or of import items (address, vrf name, status,
dns_name, description; plan cases). Prints {"count", "ms", ...} (ms measured inside the process,
after the imports); the scale modes add "fetch_ms" and "peak_rss_mb" (ru_maxrss).
"""
import ipaddress
import json
import os
import resource
import sys
import time

import pynetbox


def main():
    mode = sys.argv[1]
    if mode == "import":
        print(json.dumps({"count": 0, "ms": 0}))
        return
    url = sys.argv[2]
    token = os.environ["NETBOX_TOKEN"]
    t0 = time.perf_counter()
    nb = pynetbox.api(url, token=token, threading=(mode == "list-threading"))
    if mode in ("list", "list-threading"):
        count = len(list(nb.ipam.ip_addresses.all()))
    elif mode == "create-loop":
        with open(sys.argv[3]) as f:
            bodies = json.load(f)
        if len(sys.argv) > 4:
            bodies = bodies[: int(sys.argv[4])]
        count = 0
        for body in bodies:
            nb.ipam.ip_addresses.create(body)
            count += 1
    elif mode == "create-list":
        with open(sys.argv[3]) as f:
            bodies = json.load(f)
        count = len(nb.ipam.ip_addresses.create(bodies))
    elif mode in SCALE_MODES:
        extra = SCALE_MODES[mode](nb, sys.argv[3:], t0)
        extra["ms"] = round((time.perf_counter() - t0) * 1000)
        extra["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(extra))
        return
    else:
        sys.exit("unknown mode " + mode)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"count": count, "ms": round(ms)}))


def since(t0):
    return round((time.perf_counter() - t0) * 1000)


def scale_stream(nb, args, t0):
    count = 0
    for ip in nb.ipam.ip_addresses.all():
        if ip.id:
            count += 1
    return {"count": count}


def scale_audit(nb, args, t0):
    """Duplicates, orphans and prefix utilization, as a script over full records would do it."""
    ips = list(nb.ipam.ip_addresses.all())
    prefixes = list(nb.ipam.prefixes.all())
    fetch_ms = since(t0)
    t1 = time.perf_counter()
    # Prefixes per (VRF, family, length): an address's closest prefix is found by masking.
    nets = {}
    for p in prefixes:
        net = ipaddress.ip_network(p.prefix)
        vrf = p.vrf.id if p.vrf else None
        nets.setdefault((vrf, net.version), {}).setdefault(net.prefixlen, {})[net] = p
    lengths = {k: sorted(v, reverse=True) for k, v in nets.items()}
    seen = {}
    duplicates = orphans = 0
    used = {}
    for ip in ips:
        iface = ipaddress.ip_interface(ip.address)
        vrf = ip.vrf.id if ip.vrf else None
        key = (vrf, iface.ip)
        if key in seen:
            duplicates += 1
        seen[key] = ip.id
        closest = None
        for length in lengths.get((vrf, iface.version), []):
            net = ipaddress.ip_network((iface.ip, length), strict=False)
            closest = nets[(vrf, iface.version)][length].get(net)
            if closest is not None:
                break
        if closest is None:
            orphans += 1
        else:
            used[closest.id] = used.get(closest.id, 0) + 1
    busy = 0
    for p in prefixes:
        net = ipaddress.ip_network(p.prefix)
        size = net.num_addresses - (2 if net.version == 4 and net.prefixlen < 31 else 0)
        if size > 0 and used.get(p.id, 0) / size >= 0.9:
            busy += 1
    return {
        "count": len(ips),
        "prefixes": len(prefixes),
        "fetch_ms": fetch_ms,
        "analysis_ms": since(t1),
        "duplicates": duplicates,
        "orphans": orphans,
        "busy_prefixes": busy,
    }


def scale_free(nb, args, t0):
    cidr, count = args[0], int(args[1])
    prefix = nb.ipam.prefixes.get(prefix=cidr, vrf_id="null")
    free = prefix.available_ips.list(limit=count)
    return {"count": len(free), "first": str(free[0]) if free else None}


def load_items(path):
    with open(path) as f:
        return json.load(f)


def classify(item, existing):
    if existing is None:
        return "create"
    status = existing.status.value if hasattr(existing.status, "value") else existing.status
    for field, have in (
        ("status", status),
        ("dns_name", existing.dns_name),
        ("description", existing.description),
    ):
        if field in item and item[field] != have:
            return "update"
    return "unchanged"


def scale_plan_get(nb, args, t0):
    items = load_items(args[0])
    if len(args) > 1:
        items = items[: int(args[1])]
    vrfs = {v.name: v.id for v in nb.ipam.vrfs.all()}
    counts = {"create": 0, "update": 0, "unchanged": 0}
    for item in items:
        existing = nb.ipam.ip_addresses.get(address=item["address"], vrf_id=vrfs[item["vrf"]])
        counts[classify(item, existing)] += 1
    return {"count": len(items), **counts}


def scale_plan_bulk(nb, args, t0):
    items = load_items(args[0])
    vrfs = {v.name: v.id for v in nb.ipam.vrfs.all()}
    wanted = sorted({vrfs[i["vrf"]] for i in items})
    existing = {}
    for ip in nb.ipam.ip_addresses.filter(vrf_id=wanted):
        existing[(ip.vrf.id if ip.vrf else None, ip.address)] = ip
    fetch_ms = since(t0)
    counts = {"create": 0, "update": 0, "unchanged": 0}
    for item in items:
        counts[classify(item, existing.get((vrfs[item["vrf"]], item["address"])))] += 1
    return {"count": len(items), "fetch_ms": fetch_ms, "fetched": len(existing), **counts}


def allocate(nb, args, t0):
    """The next free prefix, one at a time, as pynetbox's documentation writes it."""
    parent_id, count, length = int(args[0]), int(args[1]), int(args[2])
    requests = [0]
    nb.http_session.hooks["response"].append(lambda r, *a, **k: requests.__setitem__(0, requests[0] + 1))
    prefixes = []
    for _ in range(count):
        prefix = nb.ipam.prefixes.get(parent_id).available_prefixes.create({"prefix_length": length})
        prefixes.append(str(prefix.prefix))
    return {"count": len(prefixes), "requests": requests[0], "prefixes": prefixes}


SCALE_MODES = {
    "allocate": allocate,
    "stream": scale_stream,
    "audit": scale_audit,
    "free": scale_free,
    "plan-get": scale_plan_get,
    "plan-bulk": scale_plan_bulk,
}


if __name__ == "__main__":
    main()
