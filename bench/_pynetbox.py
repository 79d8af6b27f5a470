"""pynetbox side of the benchmark (child process; token in $NETBOX_TOKEN).

  python bench/_pynetbox.py list URL                  list(nb.ipam.ip_addresses.all())
  python bench/_pynetbox.py list-threading URL        the same with pynetbox.api(threading=True)
  python bench/_pynetbox.py create-loop URL FILE [N]  one create() per address (first N of FILE)
  python bench/_pynetbox.py create-list URL FILE      create([...]) with every address in one call
  python bench/_pynetbox.py import                    nothing (cold start of `import pynetbox`)

FILE is a JSON array of API bodies. Prints {"count", "ms"} (ms measured inside the process,
after the imports).
"""
import json
import os
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
    else:
        sys.exit("unknown mode " + mode)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"count": count, "ms": round(ms)}))


if __name__ == "__main__":
    main()
