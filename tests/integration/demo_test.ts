/**
 * `deno task demo` against a NetBox given by NETBOX_URL: refuses without `--yes` (sending
 * nothing), and with `--yes` loads the example inventory and runs the four tasks, twice without
 * creating anything twice.
 */

import assert from "node:assert/strict";
import { describe, netboxApi, netboxOk, runDeno } from "../_deno_tasks.ts";
import { Browser } from "../_browser.ts";
import { netboxTest, type NetBoxTestEnv, testEnv } from "./_netbox.ts";
import { seedInventory } from "../netbox/seed.ts";

Deno.test("demo refuses to write to NETBOX_URL without --yes and sends nothing", async () => {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const result = await runDeno(["task", "--quiet", "demo"], {
      env: { NETBOX_URL: url, NETBOX_TOKEN: "nbt_abcdefghijkl.0123456789" },
    });
    assert.equal(result.code, 2, describe(result));
    assert.match(result.stderr, /--yes/, describe(result));
    assert.match(result.stderr, new RegExp(url.replace(/\./g, "\\.")), describe(result));
    assert.deepEqual(seen, [], "the demo contacted NetBox without --yes");
  } finally {
    await server.shutdown();
  }
});

const DEMO_DNS = "demo-01.spaceships.work";
const FIXTURE_IPS = ["192.168.30.10/24", "192.168.30.11/24"];

netboxTest("demo --yes runs the main job against NETBOX_URL and can run again", async () => {
  const nb = testEnv();
  await seedInventory(nb.url, nb.token);
  const vmBefore = async () => {
    const vms = await netboxOk(nb, "GET", "/api/virtualization/virtual-machines/?name=docker-01");
    return vms.results[0] as { id: number; primary_ip4: { id: number } | null } | undefined;
  };
  const ipBefore = await netboxOk(nb, "GET", "/api/ipam/ip-addresses/?address=192.168.3.10/24");
  const before = await vmBefore();
  try {
    for (const round of [1, 2]) {
      const result = await runDeno(["task", "--quiet", "demo", "--yes"], {
        env: { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.token },
        timeoutMs: 300_000,
      });
      const at = `round ${round}\n${describe(result)}`;
      assert.equal(result.code, 0, at);
      for (const task of ["find-free-ip", "assign-primary-ip", "bulk-import", "audit-ips"]) {
        assert.match(result.stdout, new RegExp(`\\$ deno task ${task} `), at);
      }
      assert.ok(result.stdout.includes(nb.url), at);
      assert.ok(!(result.stdout + result.stderr).includes(nb.token), `token leaked\n${at}`);
      const vm = await vmBefore();
      assert.ok(vm?.primary_ip4, at);
      const primary = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/${vm.primary_ip4.id}/`);
      assert.equal(primary.address, "192.168.3.10/24", at);
      const reserved = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?dns_name=${DEMO_DNS}`);
      assert.equal(reserved.count, 1, `the reservation is not idempotent\n${at}`);
      for (const address of FIXTURE_IPS) {
        const ips = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?address=${address}`);
        assert.equal(ips.count, 1, `${address} not imported exactly once\n${at}`);
      }
    }
    const reserved = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?dns_name=${DEMO_DNS}`);
    assert.notEqual(reserved.results[0].address, "192.168.3.1/24", "the demo reserved the gateway");
    // What the demo tells a newcomer to do next: look at the result in NetBox's web UI.
    await lookAtTheWebUi(nb, reserved.results[0].address);
  } finally {
    // Put the shared example inventory back the way it was and remove what the demo added.
    if (before && !before.primary_ip4) {
      await netboxApi(nb, "PATCH", `/api/virtualization/virtual-machines/${before.id}/`, {
        primary_ip4: null,
      });
    }
    const remove = async (query: string) => {
      const found = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?${query}`);
      for (const ip of found.results) {
        await netboxApi(nb, "DELETE", `/api/ipam/ip-addresses/${ip.id}/`);
      }
    };
    if (ipBefore.count === 0) await remove("address=192.168.3.10/24");
    await remove(`dns_name=${DEMO_DNS}`);
    for (const address of FIXTURE_IPS) await remove(`address=${address}`);
    const prefixes = await netboxOk(nb, "GET", "/api/ipam/prefixes/?prefix=192.168.30.0/24");
    for (const p of prefixes.results) await netboxApi(nb, "DELETE", `/api/ipam/prefixes/${p.id}/`);
    const tags = await netboxOk(nb, "GET", "/api/extras/tags/?slug=toolkit-demo");
    for (const t of tags.results) await netboxApi(nb, "DELETE", `/api/extras/tags/${t.id}/`);
  }
});

/**
 * Logs into NetBox's web UI in headless Chromium as the demo's login, opens the IP addresses of
 * 192.168.3.0/24 and docker-01's page, and checks the rendered pages: the demo's addresses and
 * primary IP are there, every static file (CSS, JavaScript) loaded and the stylesheet applies.
 * Screenshots stay in a temporary folder, named on stderr.
 */
async function lookAtTheWebUi(nb: NetBoxTestEnv, reserved: string): Promise<void> {
  assert.notEqual(nb.user, "", "NETBOX_TEST_USER is set");
  assert.notEqual(nb.password, "", "NETBOX_TEST_PASSWORD is set");
  const prefix = (await netboxOk(nb, "GET", "/api/ipam/prefixes/?prefix=192.168.3.0/24"))
    .results[0];
  const vm = (await netboxOk(nb, "GET", "/api/virtualization/virtual-machines/?name=docker-01"))
    .results[0];
  const shots = await Deno.makeTempDir({ prefix: "nbtk-webui-" });
  await using browser = await Browser.launch();
  await browser.goto(`${nb.url}/login/?next=/`);
  await browser.submit(
    { "#id_username": nb.user, "#id_password": nb.password },
    "form button[type=submit]",
  );
  assert.equal(await browser.eval("location.pathname"), "/", "the login did not succeed");

  const pages = [
    {
      name: "prefix-ips",
      url: `${nb.url}/ipam/prefixes/${prefix.id}/ip-addresses/`,
      expect: ["192.168.3.10/24", reserved, DEMO_DNS],
    },
    {
      name: "docker-01",
      url: `${nb.url}/virtualization/virtual-machines/${vm.id}/`,
      expect: ["docker-01", "Matrix Cluster", "192.168.3.10"],
    },
  ];
  for (const page of pages) {
    await browser.goto(page.url);
    await browser.screenshot(`${shots}/${page.name}.png`);
    const at = `${page.url} (screenshot ${shots}/${page.name}.png)`;
    const text = await browser.eval<string>("document.body.innerText");
    assert.doesNotMatch(text, /Static Media Failure/, at);
    for (const want of page.expect) assert.ok(text.includes(want), `${want} is not shown on ${at}`);
    // Styled: NetBox's stylesheet loaded and applies (its rules are readable, fonts set).
    const rules = await browser.eval<number>(
      `[...document.styleSheets].filter((s) => (s.href ?? "").includes("/static/"))
        .reduce((n, s) => n + s.cssRules.length, 0)`,
    );
    assert.ok(rules > 1000, `NetBox's stylesheet is not applied on ${at} (${rules} rules)`);
  }
  // The last page is docker-01's: its primary IPv4 row shows the demo's address (no mask).
  const primary = await browser.eval<string>(
    `[...document.querySelectorAll("th, td")].find((c) => c.textContent.trim() === "Primary IPv4")
      ?.nextElementSibling?.textContent.trim() ?? ""`,
  );
  assert.equal(primary, "192.168.3.10", "docker-01's primary IPv4 as shown");
  const statics = browser.resources.filter((r) => new URL(r.url).pathname.startsWith("/static/"));
  assert.ok(statics.length > 0, "no static file was requested");
  const failed = statics.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], "static files that did not load");
  console.error(`web UI screenshots: ${shots}`);
}
