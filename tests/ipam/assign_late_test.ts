/**
 * assignIp() after a write NetBox did not answer in time: the write may still be running in
 * NetBox, so a read-back that does not find it yet is repeated after a pause, and when it still
 * does not find it the outcome is unknown, never "not done" (the write may land later).
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { OutcomeUnknownError } from "../../lib/client/errors.ts";
import { assignIp, type AssignIpRequest } from "../../lib/ipam/assign.ts";
import { FakeNetBox } from "../_fake_netbox.ts";

/**
 * The fake NetBox, with every PATCH of the VM held: NetBox makes it `landAfterMs` after it was
 * sent (never when undefined) while the client gives up after its timeout.
 */
function lateNetBox(landAfterMs: number | undefined, settleMs: number) {
  const nb = new FakeNetBox();
  const cluster = nb.add("cluster", { name: "docker" });
  const vm = nb.add("vm", { name: "docker-01", cluster: cluster.id });
  nb.add("vminterface", { name: "eth0", virtual_machine: vm.id });
  nb.add("prefix", { prefix: "192.168.3.0/24", vrf: null });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let held = 0;
  const fetch: typeof globalThis.fetch = (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (request.method !== "PATCH" || !url.pathname.includes("/virtual-machines/")) {
      return nb.fetch(input, init);
    }
    held++;
    return request.text().then((body) => {
      if (landAfterMs !== undefined) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          nb.fetch(request.url, { method: "PATCH", headers: request.headers, body });
        }, landAfterMs);
        timers.add(timer);
      }
      // No answer: the client's timeout aborts the request.
      return new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true })
      );
    });
  };
  const client = createClient({
    url: "http://127.0.0.1:1",
    token: "nbt_abcdefghijkl.0123456789",
    fetch,
    timeoutMs: 100,
    retries: 0,
    settleMs,
  });
  const request: AssignIpRequest = {
    target: { virtualMachine: "docker-01" },
    interface: "eth0",
    address: "192.168.3.10/24",
  };
  return {
    nb,
    vm,
    client,
    request,
    held: () => held,
    stop: () => timers.forEach((t) => clearTimeout(t)),
  };
}

Deno.test("assignIp(): a timed-out write that lands while reading back is reported done", async () => {
  const late = lateNetBox(900, 2000);
  try {
    const result = await assignIp(late.client, late.request);
    assert.ok(late.held() >= 1);
    const [ip] = late.nb.ips();
    assert.equal(late.nb.primaries("vm", late.vm.id).primary_ip4, ip.id);
    assert.equal(result.ip_id, ip.id);
  } finally {
    late.stop();
  }
});

Deno.test("assignIp(): a timed-out write still not there after the pauses is unknown (exit 1), not failed", async () => {
  const late = lateNetBox(undefined, 600);
  try {
    await assert.rejects(
      assignIp(late.client, late.request),
      (err) => {
        assert.ok(err instanceof OutcomeUnknownError, String(err));
        assert.equal(err.exitCode, 1);
        assert.match(err.message, /may still be making the change/);
        assert.match(err.message, /1 step still to do/);
        return true;
      },
    );
    assert.equal(late.nb.primaries("vm", late.vm.id).primary_ip4, null);
  } finally {
    late.stop();
  }
});
