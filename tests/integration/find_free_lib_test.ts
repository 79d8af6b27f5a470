/**
 * The library calls of lib/ipam/find_free.ts against the real NetBox. Each test works in a VRF
 * of its own (unique name per run), checks what NetBox holds afterwards, and deletes the VRF
 * with everything in it.
 */

import assert from "node:assert/strict";
import { InputError, NotSentError } from "../../lib/client/errors.ts";
import {
  findFreeIps,
  PoolExhaustedError,
  reserveIps,
  type ReserveIpsOptions,
} from "../../lib/ipam/find_free.ts";
import { formatIp, parseCidr } from "../../lib/ipam/ip.ts";
import {
  deleteIds,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  recordedClient,
  type RecordedRequest,
  uniqueName,
} from "./_netbox.ts";

const octet = () => 1 + (crypto.getRandomValues(new Uint8Array(1))[0] % 250);

/** Runs `fn` with a VRF of its own; deletes the VRF and everything in it afterwards. */
async function withVrf(
  env: NetBoxTestEnv,
  fn: (vrf: { id: number; name: string }) => Promise<void>,
): Promise<void> {
  const name = uniqueName("nbtk-fflib");
  const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name, enforce_unique: true });
  try {
    await fn(vrf);
  } finally {
    for (const path of ["ipam/ip-addresses", "ipam/ip-ranges", "ipam/prefixes"]) {
      const rows = await fetchOk(env, "GET", `/api/${path}/?vrf_id=${vrf.id}&limit=0&brief=1`);
      await deleteIds(env, path, rows.results.map((r: { id: number }) => r.id));
    }
    await deleteIds(env, "ipam/vrfs", [vrf.id]);
  }
}

/** The addresses NetBox holds in a VRF, ordered by address. */
async function held(env: NetBoxTestEnv, vrfId: number): Promise<{ id: number; address: string }[]> {
  const list = await fetchOk(
    env,
    "GET",
    `/api/ipam/ip-addresses/?vrf_id=${vrfId}&ordering=address&limit=1000`,
  );
  return list.results.map((ip: { id: number; address: string }) => ({
    id: ip.id,
    address: ip.address,
  }));
}

const writes = (requests: RecordedRequest[]) =>
  requests.filter((r) => !["GET", "HEAD", "OPTIONS"].includes(r.method))
    .map((r) => `${r.method} ${r.path} ${r.status}`);

netboxTest(
  "findFreeIps lists 1,200 free addresses of a /21, beyond the server's cap",
  async (env) => {
    await withVrf(env, async (vrf) => {
      const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
        prefix: `10.${octet()}.8.0/21`,
        vrf: vrf.id,
        status: "active",
      });
      const net = parseCidr(prefix.prefix);
      const at = (offset: number) => formatIp({ family: 4, value: net.first + BigInt(offset) });
      const taken = [1, 3, 998, 1000, 1001, 1150];
      await fetchOk(
        env,
        "POST",
        "/api/ipam/ip-addresses/",
        taken.map((o) => ({ address: `${at(o)}/21`, vrf: vrf.id })),
      );
      const expected: string[] = [];
      for (let o = 1; expected.length < 1200; o++) {
        if (!taken.includes(o)) expected.push(`${at(o)}/21`);
      }
      const { client, requests } = recordedClient(env);
      try {
        const found = await findFreeIps(client, { prefix: prefix.prefix, vrf: vrf.name }, {
          count: 1200,
        });
        assert.equal(found.pool.pool.id, prefix.id);
        assert.equal(found.pool.vrfName, vrf.name);
        assert.equal(found.matched, 1);
        assert.deepEqual(found.free, expected);
        assert.ok(found.complete);
        assert.equal(found.freeTotal, 2046n - BigInt(taken.length));
        assert.deepEqual(found.existing, []);
        assert.deepEqual(writes(requests), [], "listing writes nothing");
        const server = await fetchOk(
          env,
          "GET",
          `/api/ipam/prefixes/${prefix.id}/available-ips/?limit=1200`,
        );
        assert.equal(server.length, 1000, "the server caps its own answer");
        assert.deepEqual(
          found.free.slice(0, 1000),
          server.map((a: { address: string }) => a.address),
        );
        // By id and with skip: the same pool, the first 10 usable addresses left out.
        const skipped = await findFreeIps(client, { prefixId: prefix.id }, { count: 3, skip: 10 });
        assert.deepEqual(skipped.free, [11, 12, 13].map((o) => `${at(o)}/21`));
      } finally {
        client.close();
      }
    });
  },
);

netboxTest("reserveIps with a dnsName twice returns the same addresses", async (env) => {
  await withVrf(env, async (vrf) => {
    const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
      prefix: `10.${octet()}.48.0/24`,
      vrf: vrf.id,
      status: "active",
    });
    const base = prefix.prefix.replace(/\.0\/24$/, "");
    const dnsName = `${uniqueName("nbtk-fflib")}-{n:02}.example.com`;
    const options: ReserveIpsOptions = { count: 2, dnsName, status: "reserved" };
    const { client, requests } = recordedClient(env);
    try {
      const first = await reserveIps(client, { prefix: prefix.prefix, vrf: vrf.id }, options);
      assert.deepEqual(first.existing, []);
      assert.deepEqual(first.reserved.map((ip) => ip.address), [`${base}.1/24`, `${base}.2/24`]);
      assert.deepEqual(writes(requests), [
        `POST /api/ipam/prefixes/${prefix.id}/available-ips/ 201`,
      ]);
      const now = await held(env, vrf.id);
      assert.deepEqual(now, first.reserved.map((ip) => ({ id: ip.id, address: ip.address })));
      requests.length = 0;
      const again = await reserveIps(client, { prefix: prefix.prefix, vrf: vrf.id }, options);
      assert.deepEqual(again.reserved, []);
      assert.deepEqual(
        again.existing.map((ip) => [ip.id, ip.dns_name]),
        first.reserved.map((ip) => [ip.id, ip.dns_name]),
      );
      assert.deepEqual(writes(requests), [], "the second call writes nothing");
      assert.deepEqual(await held(env, vrf.id), now);
      // One name of two taken: only the other is created, next to it.
      const more = await reserveIps(client, { prefixId: prefix.id }, {
        ...options,
        numberFrom: 2,
      });
      assert.deepEqual(more.existing.map((ip) => ip.id), [first.reserved[1].id]);
      assert.deepEqual(more.reserved.map((ip) => ip.address), [`${base}.3/24`]);
      assert.equal(
        more.reserved[0].dns_name,
        dnsName.replace("{n:02}", "03"),
      );
    } finally {
      client.close();
    }
  });
});

netboxTest(
  "reserveIps beyond the room of a /29 throws PoolExhaustedError, creates nothing",
  async (env) => {
    await withVrf(env, async (vrf) => {
      const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
        prefix: `10.${octet()}.56.0/29`,
        vrf: vrf.id,
        status: "active",
      });
      const { client, requests } = recordedClient(env);
      try {
        await assert.rejects(
          reserveIps(client, { prefixId: prefix.id }, { count: 7 }),
          (err) => {
            assert.ok(err instanceof PoolExhaustedError);
            assert.equal(err.free, 6n);
            assert.equal(err.requested, 7);
            assert.equal(err.message, `Cannot reserve 7 addresses in ${prefix.prefix}: 6 free`);
            return true;
          },
        );
        assert.deepEqual(writes(requests), []);
        assert.deepEqual(await held(env, vrf.id), []);
      } finally {
        client.close();
      }
    });
  },
);

netboxTest("bad input throws InputError (exit code 2) before any request", async (env) => {
  const { client, requests } = recordedClient(env);
  try {
    const bad: [string, () => Promise<unknown>][] = [
      ["bad CIDR", () => findFreeIps(client, { prefix: "10.0.0.0/33" })],
      ["bad range", () => findFreeIps(client, { range: "10.0.0.9-10.0.0.1" })],
      ["count 0", () => findFreeIps(client, { prefix: "10.0.0.0/24" }, { count: 0 })],
      ["two pools", () => findFreeIps(client, { prefix: "10.0.0.0/24", prefixId: 1 } as never)],
      [
        "plain name for 2",
        () => reserveIps(client, { prefix: "10.0.0.0/24" }, { count: 2, dnsName: "a.example.com" }),
      ],
      ["bad name", () => reserveIps(client, { prefixId: 1 }, { dnsName: "bad name.example" })],
      ["bad status", () => reserveIps(client, { prefixId: 1 }, { status: "bogus" })],
    ];
    for (const [what, call] of bad) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof InputError, `${what}: ${err}`);
        assert.equal(err.exitCode, 2, what);
        return true;
      });
    }
    assert.deepEqual(requests, [], "nothing was sent");
  } finally {
    client.close();
  }
});

netboxTest("findFreeIps with filters uses the first matching prefix with room", async (env) => {
  await withVrf(env, async (vrf) => {
    const second = octet();
    const made = await fetchOk(env, "POST", "/api/ipam/prefixes/", [
      { prefix: `10.${second}.64.0/29`, vrf: vrf.id, status: "active" },
      { prefix: `10.${second}.64.16/28`, vrf: vrf.id, status: "active" },
    ]);
    const { client } = recordedClient(env);
    try {
      const warnings: string[] = [];
      const found = await findFreeIps(client, { filters: { status: "active" }, vrf: vrf.id }, {
        count: 8,
        onWarning: (m) => warnings.push(m),
      });
      assert.equal(found.matched, 2);
      assert.equal(found.pool.pool.id, made[1].id, "the /29 has only 6 free");
      assert.equal(found.free.length, 8);
      assert.equal(warnings.length, 0);
      const none = await findFreeIps(client, { filters: { status: "active" }, vrf: vrf.id }, {
        count: 20,
        onWarning: (m) => warnings.push(m),
      });
      assert.ok(!none.complete);
      assert.deepEqual(warnings, ["no prefix matching status=active has 20 free addresses"]);
    } finally {
      client.close();
    }
  });
});

netboxTest(
  "reserveIps stopped (Ctrl-C) before its write sends nothing and throws NotSentError",
  async (env) => {
    await withVrf(env, async (vrf) => {
      const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
        prefix: `10.${octet()}.${octet()}.0/29`,
        vrf: vrf.id,
        status: "active",
      });
      const { client, requests } = recordedClient(env);
      const stop = new AbortController();
      try {
        const err = await reserveIps(client, { prefixId: prefix.id }, {
          count: 2,
          // The interrupt arrives while the reservation is being prepared.
          beforeWrite: () => stop.abort(),
          stop: stop.signal,
        }).then(() => undefined, (e) => e);
        assert.ok(err instanceof NotSentError, String(err));
        assert.deepEqual(writes(requests), []);
        assert.deepEqual(await held(env, vrf.id), []);
        const done = await reserveIps(client, { prefixId: prefix.id }, { count: 2 });
        assert.equal(done.reserved.length, 2);
      } finally {
        client.close();
      }
    });
  },
);
