import assert from "node:assert/strict";
import { parseProbeSpec, probeAddresses, systemConnect } from "../../lib/audit/probe.ts";
import { InputError } from "../../lib/client/errors.ts";

Deno.test("systemConnect() counts an accepted and a refused connection as an answer", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = (async () => {
    const conn = await listener.accept();
    conn.close();
  })();
  try {
    assert.equal(await systemConnect("127.0.0.1", port, 2000), true);
    await accepted;
    listener.close();
    // Nothing listens now: the kernel answers with a reset, which is an answer.
    assert.equal(await systemConnect("127.0.0.1", port, 2000), true);
  } finally {
    try {
      listener.close();
    } catch {
      // closed already
    }
  }
});

Deno.test("probeAddresses() tries each port in order and keeps at most N connects in flight", async () => {
  let inFlight = 0, most = 0;
  const tried: string[] = [];
  const connect = async (host: string, port: number, timeoutMs: number) => {
    tried.push(`${host}:${port}`);
    assert.equal(timeoutMs, 50);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return host === "127.0.0.2" || (host === "127.0.0.3" && port === 443);
  };
  const ips = Array.from({ length: 20 }, (_, i) => ({ id: i, address: `127.0.0.${i + 1}/8` }));
  const seen = await probeAddresses(
    [...ips, { address: "127.0.0.2/8", vrf: { id: 4 } }],
    {
      ports: [22, 443],
      concurrency: 3,
      timeoutMs: 50,
      connect,
      now: new Date("2026-12-01T00:00:00Z"),
    },
  );
  assert.ok(most <= 3, `${most} in flight`);
  assert.deepEqual(seen.map((o) => [o.address, o.vrf, o.source, o.format]), [
    ["127.0.0.2", null, "tcp:22", "tcp-probe"],
    ["127.0.0.3", null, "tcp:443", "tcp-probe"],
    ["127.0.0.2", "4", "tcp:22", "tcp-probe"],
  ]);
  assert.ok(tried.indexOf("127.0.0.3:22") < tried.indexOf("127.0.0.3:443"));
  assert.equal(tried.filter((t) => t.startsWith("127.0.0.2:")).length, 2); // once per VRF
  assert.equal(seen[0].seen_at, "2026-12-01T00:00:00.000Z");
});

Deno.test("parseProbeSpec() takes tcp:PORT,… and refuses anything else", () => {
  assert.deepEqual(parseProbeSpec("tcp:22,443,22"), [22, 443]);
  for (const bad of ["udp:53", "tcp:", "tcp:0", "tcp:70000", "tcp:ssh", "22"]) {
    assert.throws(() => parseProbeSpec(bad), InputError, bad);
  }
});
