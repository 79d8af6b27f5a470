/**
 * allocate on the real NetBox: a key returns the same objects and writes nothing the second
 * time; concurrent processes get distinct prefixes; full VLAN groups and ASN ranges are skipped
 * for the next pool, or exit 3 naming them; a lost answer is confirmed or unknown, never sent
 * twice; bad input exits 2 with nothing written. NetBox is read back after every write.
 */

import assert from "node:assert/strict";
import { main } from "../../tasks/allocate.ts";
import { applyAllocationPlan, parseAllocationPlan } from "../../lib/ipam/allocation_plan.ts";
import { createClient } from "../../lib/client/client.ts";
import { readTaskEntries, ROOT, runDeno, taskEntry } from "../_deno_tasks.ts";
import { startFaultProxy } from "../_fault_proxy.ts";
import { type Body, fetchOk, netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";
import { runTaskMain, writesOf } from "./_run_task.ts";

/** A parent prefix in a VRF of its own (so no other test's prefixes are inside it). */
async function withParent(
  env: NetBoxTestEnv,
  cidr: string,
  fn: (
    parent: Body,
    children: () => Promise<Body[]>,
    addresses: () => Promise<Body[]>,
  ) => Promise<void>,
) {
  const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name: uniqueName("nbtk-alloc") });
  const parent = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
    prefix: cidr,
    vrf: vrf.id,
    status: "container",
  });
  const children = async () =>
    ((await fetchOk(env, "GET", `/api/ipam/prefixes/?vrf_id=${vrf.id}&limit=1000`))
      .results as Body[]).filter((p) => p.id !== parent.id).sort((a, b) => a.id - b.id);
  const addresses = async () =>
    (await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=1000`))
      .results as Body[];
  try {
    await fn(parent, children, addresses);
  } finally {
    for (const ip of await addresses()) {
      await fetchOk(env, "DELETE", `/api/ipam/ip-addresses/${ip.id}/`);
    }
    for (const p of await children()) await fetchOk(env, "DELETE", `/api/ipam/prefixes/${p.id}/`);
    await fetchOk(env, "DELETE", `/api/ipam/prefixes/${parent.id}/`);
    await fetchOk(env, "DELETE", `/api/ipam/vrfs/${vrf.id}/`);
  }
}

const json = (stdout: string) => JSON.parse(stdout);

netboxTest(
  "allocate prefix: a key twice gives the same prefixes and writes nothing; 2 processes × 4 get distinct /31s; bad input exits 2",
  async (env) => {
    await withParent(env, "10.97.0.0/27", async (parent, children) => {
      const key = uniqueName("links");
      const args = ["prefix", "--parent-id", String(parent.id), "--length", "31", "--count", "2"];
      const first = await runTaskMain(main, [...args, "--key", key, "--format", "json"]);
      assert.equal(first.code, 0, first.stderr);
      const made = json(first.stdout).items;
      assert.deepEqual(made.map((i: Body) => i.action), ["allocated", "allocated"]);
      const again = await runTaskMain(main, [...args, "--key", key, "--format", "json"]);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(writesOf(again.requests), []);
      assert.deepEqual(json(again.stdout).items.map((i: Body) => [i.id, i.action]), [
        [made[0].id, "existing"],
        [made[1].id, "existing"],
      ]);
      const held = await children();
      assert.deepEqual(held.map((p) => p.prefix), ["10.97.0.0/31", "10.97.0.2/31"]);
      assert.ok(held.every((p) => p.comments.startsWith(`netbox-toolkit allocation key=${key} `)));

      // Two processes at once, four /31s each, exactly as `deno task allocate` runs them.
      const entry = taskEntry(await readTaskEntries(), "allocate");
      const concurrent = [...args.slice(0, -1), "4"];
      const runs = await Promise.all(
        [1, 2].map(() =>
          runDeno(["run", ...entry.denoFlags, entry.script, ...concurrent, "--format", "json"], {
            cwd: ROOT,
            env: { NETBOX_URL: env.url, NETBOX_TOKEN: env.token },
          })
        ),
      );
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      const all = (await children()).map((p) => p.prefix);
      assert.equal(all.length, 10);
      assert.equal(new Set(all).size, 10, `overlapping prefixes: ${all.join(" ")}`);
      assert.ok(all.every((p: string) => p.endsWith("/31")));
      const reported = runs.flatMap((r) => json(r.stdout).items.map((i: Body) => i.value));
      assert.deepEqual(reported.sort(), all.slice(2).sort());

      // Bad input: one line, exit 2, nothing written.
      for (
        const [bad, message] of [
          [["--length", "24"], /--length 24: length \/24 is outside 10\.97\.0\.0\/27/],
          [["--length", "31", "--count", "0"], /--count: expected an integer >= 1/],
        ] as [string[], RegExp][]
      ) {
        const r = await runTaskMain(main, ["prefix", "--parent-id", String(parent.id), ...bad]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.deepEqual(writesOf(r.requests), []);
      }
      assert.equal((await children()).length, 10);
    });
  },
);

netboxTest(
  "allocate prefix --min-days-left: the parent NetBox's change log shows filling fast is skipped for the next",
  async (env) => {
    await withParent(env, "10.97.3.0/28", async (busy, children) => {
      const vrf = (busy.vrf as Body).id;
      // The second parent lives in the same VRF (withParent deletes it with the children).
      const calm = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
        prefix: "10.97.4.0/28",
        vrf,
        status: "container",
      });
      // Two /30s out of the first parent, one call each: two creates in NetBox's change log.
      for (let i = 0; i < 2; i++) {
        const r = await runTaskMain(main, [
          "prefix",
          "--parent-id",
          String(busy.id),
          "--length",
          "30",
        ]);
        assert.equal(r.code, 0, r.stderr);
      }
      const pools = ["--filter", `vrf_id=${vrf}`, "--filter", "mask_length=28", "--length", "30"];
      const r = await runTaskMain(main, [
        "prefix",
        ...pools,
        "--min-days-left",
        "1",
        "--dry-run",
        "--format",
        "json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const doc = json(r.stdout);
      assert.equal(doc.summary.pool, "10.97.4.0/28");
      assert.equal(doc.summary.pool_id, calm.id);
      assert.deepEqual(doc.items.map((i: Body) => i.value), ["10.97.4.0/30"]);
      assert.deepEqual(doc.summary.skipped.map((s: Body) => s.pool), ["10.97.3.0/28"]);
      assert.match(doc.summary.skipped[0].reason, /^forecast: [\d.]+ days left \(< 1\)$/);
      assert.match(r.stderr, /skipped 10\.97\.3\.0\/28: forecast: [\d.]+ days left \(< 1\)/);
      assert.deepEqual(writesOf(r.requests), []);
      // Without the limit the first parent is NetBox's first again.
      const plain = await runTaskMain(main, ["prefix", ...pools, "--dry-run", "--format", "json"]);
      assert.equal(json(plain.stdout).summary.pool, "10.97.3.0/28");
      assert.deepEqual(
        (await children()).map((p) => p.prefix),
        ["10.97.4.0/28", "10.97.3.0/30", "10.97.3.4/30"],
      );
    });
  },
);

netboxTest(
  "allocate vlan and asn: a full group or range is skipped for the next; none with room exits 3 naming them; unknown ones exit 2",
  async (env) => {
    const tag = uniqueName("nbtk-pool");
    const made: { groups: Body[]; ranges: Body[]; rir?: Body } = { groups: [], ranges: [] };
    try {
      const group = async (suffix: string, range: [number, number]) => {
        const g = await fetchOk(env, "POST", "/api/ipam/vlan-groups/", {
          name: `${tag}-${suffix}`,
          slug: `${tag}-${suffix}`,
          vid_ranges: [range],
        });
        made.groups.push(g);
        return g;
      };
      const full = await group("a", [100, 100]);
      const next = await group("b", [200, 201]);
      const rir = made.rir = await fetchOk(env, "POST", "/api/ipam/rirs/", {
        name: tag,
        slug: tag,
        is_private: true,
      });
      // AS numbers are unique across NetBox: a random private 4-byte block of our own.
      const base = 4_200_000_000 + Math.floor(Math.random() * 9_000_000) * 10;
      for (const [suffix, start] of [["a", base], ["b", base + 5]] as const) {
        made.ranges.push(
          await fetchOk(env, "POST", "/api/ipam/asn-ranges/", {
            name: `${tag}-${suffix}`,
            slug: `${tag}-${suffix}`,
            rir: rir.id,
            start,
            end: start + 1,
          }),
        );
      }
      await fetchOk(env, "POST", "/api/ipam/vlans/", { vid: 100, name: "taken", group: full.id });
      await fetchOk(env, "POST", "/api/ipam/asns/", [
        { asn: base, rir: rir.id },
        { asn: base + 1, rir: rir.id },
      ]);
      const groups = ["--filter", `name=${tag}-a`, "--filter", `name=${tag}-b`];
      const vlan = await runTaskMain(main, [
        "vlan",
        ...groups,
        "--name",
        "srv-{n}",
        "--format",
        "json",
      ]);
      assert.equal(vlan.code, 0, vlan.stderr);
      const doc = json(vlan.stdout);
      assert.deepEqual(doc.items.map((i: Body) => [i.value, i.name, i.pool]), [[
        "200",
        "srv-1",
        `${tag}-b`,
      ]]);
      assert.deepEqual(doc.summary.skipped.map((s: Body) => `${s.pool}: ${s.reason}`), [
        `${tag}-a: full: 0 of 1 fit`,
      ]);
      const vlans = (await fetchOk(env, "GET", `/api/ipam/vlans/?group_id=${next.id}`)).results;
      assert.deepEqual(vlans.map((v: Body) => v.vid), [200]);

      const key = uniqueName("as");
      const asn = await runTaskMain(main, [
        "asn",
        "--filter",
        `rir_id=${rir.id}`,
        "--key",
        key,
        "--format",
        "json",
      ]);
      assert.equal(asn.code, 0, asn.stderr);
      assert.deepEqual(json(asn.stdout).items.map((i: Body) => [i.value, i.pool]), [[
        String(base + 5),
        `${tag}-b`,
      ]]);
      const asns =
        (await fetchOk(env, "GET", `/api/ipam/asns/?rir_id=${rir.id}&ordering=asn`)).results;
      assert.deepEqual(asns.map((a: Body) => a.asn), [base, base + 1, base + 5]);

      // Nothing left: exit 3 naming each pool and why; nothing written.
      const none = await runTaskMain(main, ["vlan", ...groups, "--name", "x-{n}", "--count", "2"]);
      assert.equal(none.code, 3, none.stderr);
      assert.match(
        none.stderr,
        new RegExp(
          `no pool has room: ${tag}-a \\(full: 0 of 2 fit\\), ${tag}-b \\(full: 1 of 2 fit\\)`,
        ),
      );
      assert.deepEqual(writesOf(none.requests), []);
      const noAsn = await runTaskMain(main, ["asn", "--range", `${tag}-b`, "--count", "2"]);
      assert.equal(noAsn.code, 3, noAsn.stderr);
      assert.match(noAsn.stderr, new RegExp(`no pool has room: ${tag}-b \\(full: 1 of 2 fit\\)`));

      for (
        const args of [["vlan", "--group", `${tag}-nope`, "--name", "x"], [
          "asn",
          "--range",
          `${tag}-nope`,
        ]]
      ) {
        const r = await runTaskMain(main, args);
        assert.equal(r.code, 2, r.stderr);
        assert.match(
          r.stderr,
          /Cannot use --(group|range) ".*-nope": no (VLAN group|ASN range) has that id, name or slug/,
        );
        assert.deepEqual(writesOf(r.requests), []);
      }
    } finally {
      for (const g of made.groups) {
        const left = (await fetchOk(env, "GET", `/api/ipam/vlans/?group_id=${g.id}`)).results;
        for (const v of left) await fetchOk(env, "DELETE", `/api/ipam/vlans/${v.id}/`);
        await fetchOk(env, "DELETE", `/api/ipam/vlan-groups/${g.id}/`);
      }
      if (made.rir) {
        const left = (await fetchOk(env, "GET", `/api/ipam/asns/?rir_id=${made.rir.id}`)).results;
        for (const a of left) await fetchOk(env, "DELETE", `/api/ipam/asns/${a.id}/`);
      }
      for (const r of made.ranges) await fetchOk(env, "DELETE", `/api/ipam/asn-ranges/${r.id}/`);
      if (made.rir) await fetchOk(env, "DELETE", `/api/ipam/rirs/${made.rir.id}/`);
    }
  },
);

netboxTest(
  "allocate after a lost answer: NetBox acts after the client's timeout — confirmed by reading back, or unknown (exit 1); sent once, never doubled",
  async (env) => {
    await withParent(env, "10.97.1.0/28", async (parent, children) => {
      const path = new RegExp(`/api/ipam/prefixes/${parent.id}/available-prefixes/$`);
      let posts = 0;
      const proxy = (lateMs: number) =>
        startFaultProxy({
          target: env.url,
          rate: 0,
          seed: 0,
          lateMs,
          script: (method, p) =>
            method === "POST" && path.test(p) ? (posts++, "deliver-late") : undefined,
        });
      const args = ["prefix", "--parent-id", String(parent.id), "--length", "30", "--timeout", "3"];
      // A settle window that outlasts the delay: the prefix shows up and is the answer.
      const late = proxy(5000);
      let confirmed;
      try {
        confirmed = await runTaskMain(main, [...args, "--key", "lost-a", "--format", "json"], {
          url: late.url,
        });
      } finally {
        await late.close();
      }
      assert.equal(confirmed.code, 0, confirmed.stderr);
      const held = await children();
      assert.deepEqual(held.map((p) => p.prefix), ["10.97.1.0/30"]);
      assert.equal(json(confirmed.stdout).items[0].id, held[0].id);

      // A window shorter than the delay: unknown (exit 1), and the write lands afterwards.
      const short = proxy(8000);
      let unknown;
      try {
        unknown = await runTaskMain(main, [...args, "--key", "lost-b", "--settle", "1"], {
          url: short.url,
        });
      } finally {
        await short.close(); // waits until the held write has reached NetBox
      }
      // A loaded NetBox can answer a read-back so late that it already sees the write: then it is
      // confirmed (exit 0). Either way it is never "not written" and never sent again.
      if (unknown.code === 1) {
        assert.match(unknown.stderr, /Cannot tell whether 1 prefixes were allocated .* key=lost-b/);
      } else {
        assert.equal(unknown.code, 0, unknown.stderr);
      }
      assert.equal(posts, 2);
      // It landed once; the same key now finds it and writes nothing.
      const after = await children();
      assert.deepEqual(after.map((p) => p.prefix), ["10.97.1.0/30", "10.97.1.4/30"]);
      const rerun = await runTaskMain(main, [...args, "--key", "lost-b", "--format", "json"]);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(writesOf(rerun.requests), []);
      assert.deepEqual(json(rerun.stdout).items.map((i: Body) => [i.id, i.action]), [[
        after[1].id,
        "existing",
      ]]);
    });
  },
);

netboxTest(
  "allocate --plan: a site plan whose 5th allocation fails leaves nothing behind (exit 3); the same plan that fits is applied once",
  async (env) => {
    await withParent(env, "10.97.2.0/26", async (parent, children, addresses) => {
      const plan = (last: number) =>
        `key: "plan-{site}"
allocations:
  - {name: servers, kind: prefix, parent_id: ${parent.id}, length: 28}
  - {name: gw, kind: ip, parent_id: "{servers.id}", dns_name: "gw.{site}.example.com"}
  - {name: link, kind: prefix, parent_id: ${parent.id}, length: 30}
  - {name: loop, kind: prefix, parent_id: ${parent.id}, length: 31}
  - {name: more, kind: prefix, parent_id: ${parent.id}, length: 28, count: ${last}}
`;
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(`${dir}/fails.yaml`, plan(3));
        const site = uniqueName("s");
        const failed = await runTaskMain(main, [
          "--plan",
          `${dir}/fails.yaml`,
          "--set",
          `site=${site}`,
        ]);
        assert.equal(failed.code, 3, failed.stderr);
        assert.match(
          failed.stderr,
          /step "more" failed: Cannot allocate 3 prefixes: no pool has room: 10\.97\.2\.0\/26 \(full: 2 of 3 fit\); rolled back 4 objects/,
        );
        assert.deepEqual(await children(), []);
        assert.deepEqual(await addresses(), []);
        // The same plan with room for its last step: made once, and a second run writes nothing.
        const client = createClient({ url: env.url, token: env.token });
        try {
          const fits = parseAllocationPlan(plan(1));
          const steps = await applyAllocationPlan(client, fits, { set: { site } });
          assert.deepEqual(steps.map((s) => `${s.name} ${s.values.join()}`), [
            "servers 10.97.2.0/28",
            "gw 10.97.2.1/28",
            "link 10.97.2.16/30",
            "loop 10.97.2.20/31",
            "more 10.97.2.32/28",
          ]);
          const again = await applyAllocationPlan(client, fits, { set: { site } });
          assert.ok(again.every((s) => s.allocated.length === 0));
          assert.equal((await children()).length, 4);
          assert.equal((await addresses()).length, 1);
        } finally {
          client.close();
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
);
