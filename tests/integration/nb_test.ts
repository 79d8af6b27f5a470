/**
 * `nb` against the real NetBox (4.7.3 and 4.3.7): every verb once on cheap objects (tags, one
 * prefix), each write read back through the API, bad input refused before anything is sent.
 */

import assert from "node:assert/strict";
import { main } from "../../tasks/nb.ts";
import { runTaskMain, writesOf } from "./_run_task.ts";
import {
  authHeader,
  deleteIds,
  fetchOk,
  netboxTest,
  serverVersion,
  uniqueName,
  versionAtLeast,
} from "./_netbox.ts";

const tagsLike = async (env: Parameters<typeof fetchOk>[0], prefix: string) =>
  (await fetchOk(env, "GET", `/api/extras/tags/?slug__isw=${prefix}&ordering=name&limit=50`))
    .results as { id: number; name: string; color: string; description: string }[];

netboxTest(
  "nb: create, list, get, count, update and delete tags, read back through the API",
  async (env) => {
    const p = uniqueName("nbt");
    const dir = await Deno.makeTempDir();
    try {
      // create from arguments and from an NDJSON file
      let r = await runTaskMain(main, [
        "extras.tags",
        "create",
        `name=${p}-a`,
        `slug=${p}-a`,
        "color=ff0000",
      ]);
      assert.equal(r.code, 0, r.stderr);
      await Deno.writeTextFile(
        `${dir}/more.ndjson`,
        [`{"name":"${p}-b","slug":"${p}-b"}`, `{"name":"${p}-c","slug":"${p}-c"}`].join("\n"),
      );
      r = await runTaskMain(main, ["tags", "create", "--file", `${dir}/more.ndjson`]);
      assert.equal(r.code, 0, r.stderr);
      let tags = await tagsLike(env, p);
      assert.deepEqual(tags.map((t) => t.name), [`${p}-a`, `${p}-b`, `${p}-c`]);
      assert.equal(tags[0].color, "ff0000");

      // list with filters and fields, as CSV (streamed)
      r = await runTaskMain(main, [
        "tags",
        "list",
        `slug__isw=${p}`,
        "--sort",
        "name",
        "--fields",
        "name,color",
        "--format",
        "csv",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `name,color\n${p}-a,ff0000\n${p}-b,9e9e9e\n${p}-c,9e9e9e\n`);

      // get exactly one; several is exit 3 naming them
      r = await runTaskMain(main, ["tags", "get", `slug=${p}-b`, "--format", "json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).items[0].id, tags[1].id);
      r = await runTaskMain(main, ["tags", "get", `slug__isw=${p}`]);
      assert.equal(r.code, 3);
      assert.match(
        r.stderr,
        new RegExp(`3 objects match slug__isw=${p}: ${p}-a \\(id \\d+\\), ${p}-b`),
      );

      r = await runTaskMain(main, ["extras/tags", "count", `slug__isw=${p}`]);
      assert.equal(r.stdout, "3\n");

      // update one by id
      r = await runTaskMain(main, ["tags", "update", String(tags[0].id), "color=00ff00"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /color: ff0000 → 00ff00/);

      // update --where: the dry run writes nothing and shows the diffs
      const where = ["--where", `slug__isw=${p}`];
      r = await runTaskMain(main, [
        "tags",
        "update",
        ...where,
        "description=bulk",
        "--dry-run",
        "--format",
        "json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(writesOf(r.requests), []);
      const plan = JSON.parse(r.stdout);
      assert.equal(plan.summary.planned, 3);
      assert.deepEqual(plan.items[0].diff, [{ field: "description", before: "", after: "bulk" }]);
      r = await runTaskMain(main, ["tags", "update", ...where, "description=bulk"]);
      assert.equal(r.code, 0, r.stderr);
      tags = await tagsLike(env, p);
      assert.deepEqual(tags.map((t) => [t.color, t.description]), [["00ff00", "bulk"], [
        "9e9e9e",
        "bulk",
      ], ["9e9e9e", "bulk"]]);

      // the delete brake: more matches than --max-deletes stops before any write
      r = await runTaskMain(main, ["tags", "delete", ...where, "--max-deletes", "2"]);
      assert.equal(r.code, 2);
      assert.deepEqual(writesOf(r.requests), []);
      assert.equal((await tagsLike(env, p)).length, 3);

      r = await runTaskMain(main, ["tags", "delete", String(tags[0].id)]);
      assert.equal(r.code, 0, r.stderr);
      r = await runTaskMain(main, ["tags", "delete", ...where, "--format", "json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).summary.done, 2);
      assert.deepEqual(await tagsLike(env, p), []);
    } finally {
      await deleteIds(env, "extras/tags", (await tagsLike(env, p)).map((t) => t.id));
      await Deno.remove(dir, { recursive: true });
    }
  },
);

netboxTest(
  "nb: a typo'd model, filter or field value is refused with one line and nothing sent",
  async (env) => {
    const p = uniqueName("nbt");
    let r = await runTaskMain(main, ["tgas", "create", `name=${p}`, `slug=${p}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: Cannot resolve model "tgas": .*did you mean extras\.tags/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    r = await runTaskMain(main, ["tags", "update", "--where", "slgu=x", "color=000000"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown filter "slgu".*slug/);
    r = await runTaskMain(main, ["tags", "create", "name"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Cannot parse "name": expected field=value/);
    assert.deepEqual(r.requests, []);
    assert.deepEqual(await tagsLike(env, p), []);
  },
);

netboxTest("nb: choices, schema, available, graphql and render-config", async (env) => {
  let r = await runTaskMain(main, ["dcim.interfaces", "choices", "type", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).items.some((c: { value: string }) => c.value === "1000base-t"));

  r = await runTaskMain(main, ["schema", "extras/tags", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.items.find((f: { name: string }) => f.name === "slug").required, true);
  assert.ok(s.filters.find((f: { name: string }) => f.name === "slug").lookups.includes("ic"));

  const octet = 1 + Math.floor(Math.random() * 250);
  const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
    prefix: `10.222.${octet}.0/29`,
    description: uniqueName("nbt"),
  });
  const tag = await fetchOk(env, "POST", "/api/extras/tags/", {
    name: uniqueName("nbt"),
    slug: uniqueName("nbt"),
  });
  const dir = await Deno.makeTempDir();
  const created: [string, number][] = [];
  try {
    r = await runTaskMain(main, [
      "prefixes",
      "available",
      String(prefix.id),
      "ips",
      "--limit",
      "2",
      "--format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).items.map((i: { address: string }) => i.address), [
      `10.222.${octet}.1/29`,
      `10.222.${octet}.2/29`,
    ]);

    await Deno.writeTextFile(`${dir}/vars.json`, JSON.stringify({ id: tag.id }));
    r = await runTaskMain(main, [
      "graphql",
      "query($id: ID!) { tag(id: $id) { name slug } }",
      "--variables",
      `${dir}/vars.json`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).data, { tag: { name: tag.name, slug: tag.slug } });

    // render-config of a VM with a config template (a site, the template, the VM)
    const name = uniqueName("nbt");
    const site = await fetchOk(env, "POST", "/api/dcim/sites/", { name, slug: name });
    const template = await fetchOk(env, "POST", "/api/extras/config-templates/", {
      name,
      template_code: "hostname {{ virtualmachine.name }}",
    });
    created.push(["dcim/sites", site.id], ["extras/config-templates", template.id]);
    r = await runTaskMain(main, [
      "virtual-machines",
      "create",
      `name=${name}`,
      `site.slug=${name}`,
      `config_template.name=${name}`,
      "--format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    created.push(["virtualization/virtual-machines", JSON.parse(r.stdout).items[0].id]);
    r = await runTaskMain(main, [
      "virtualization.virtual-machines",
      "render-config",
      `name=${name}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `hostname ${name}\n`);
  } finally {
    for (const [path, id] of created.reverse()) await deleteIds(env, path, [id]);
    await deleteIds(env, "ipam/prefixes", [prefix.id]);
    await deleteIds(env, "extras/tags", [tag.id]);
    await Deno.remove(dir, { recursive: true });
  }
});

netboxTest("nb: trace follows a cable from one device's interface to the other's", async (env) => {
  const name = uniqueName("nbt");
  const created: [string, number][] = [];
  const make = async (path: string, body: Record<string, unknown>) => {
    const o = await fetchOk(env, "POST", `/api/${path}/`, body);
    created.push([path, o.id]);
    return o;
  };
  try {
    const site = await make("dcim/sites", { name, slug: name });
    const maker = await make("dcim/manufacturers", { name, slug: name });
    const type = await make("dcim/device-types", {
      manufacturer: maker.id,
      model: name,
      slug: name,
    });
    const role = await make("dcim/device-roles", { name, slug: name });
    const ports = [];
    for (const end of ["a", "b"]) {
      const device = await make("dcim/devices", {
        name: `${name}-${end}`,
        site: site.id,
        device_type: type.id,
        role: role.id,
      });
      ports.push(
        await make("dcim/interfaces", { device: device.id, name: "eth0", type: "1000base-t" }),
      );
    }
    await make("dcim/cables", {
      label: name,
      a_terminations: [{ object_type: "dcim.interface", object_id: ports[0].id }],
      b_terminations: [{ object_type: "dcim.interface", object_id: ports[1].id }],
    });
    const r = await runTaskMain(main, [
      "dcim.interfaces",
      "trace",
      String(ports[0].id),
      "--format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).items, [
      { near: `${name}-a:eth0`, cable: name, far: `${name}-b:eth0` },
    ]);
  } finally {
    for (const [path, id] of created.reverse()) await deleteIds(env, path, [id]);
  }
});

/** A script module the test uploads once (NetBox's API cannot delete one; later runs reuse it). */
const ECHO_SCRIPT = `from extras.scripts import Script, StringVar


class Echo(Script):
    class Meta:
        name = "Echo"
        description = "netbox-toolkit tests: logs its text; fails on text=fail"

    text = StringVar(required=False)

    def run(self, data, commit):
        if data.get("text") == "fail":
            raise RuntimeError("asked to fail")
        self.log_success(f"echo {data.get('text')}")
        return "done"
`;

netboxTest(
  "nb script run waits for the job and exits 1 when it errored (NetBox >= 4.7: upload API, RQ worker)",
  async (env) => {
    if (!versionAtLeast(await serverVersion(env), 4, 7)) return;
    const form = new FormData();
    form.append("file", new Blob([ECHO_SCRIPT]), "nb_toolkit_echo.py");
    const res = await fetch(`${env.url}/api/extras/scripts/upload/`, {
      method: "POST",
      headers: { Authorization: authHeader(env.token), Accept: "application/json" },
      body: form,
    });
    const text = await res.text();
    assert.ok(res.ok || /already exists/.test(text), text);
    // The job waits in the RQ queue NetBox shares with every background job (4.7 queues a
    // search cache update per write): under a loaded suite it may not start within the wait.
    const r = await runTaskMain(main, [
      "script",
      "run",
      "nb_toolkit_echo.Echo",
      "text=fail",
      "--wait-timeout",
      "10",
      "--format",
      "json",
    ]);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    const job = await fetchOk(env, "GET", `/api/core/jobs/${doc.summary.job}/`);
    assert.ok(["pending", "scheduled", "running", "errored"].includes(job.status.value));
    if (doc.summary.status === "errored") {
      assert.match(r.stderr, new RegExp(`job ${doc.summary.job}: errored`));
      assert.equal(job.status.value, "errored");
    } else {
      assert.match(
        r.stderr,
        new RegExp(`job ${doc.summary.job} is still ${doc.summary.status} after 10 s`),
      );
      console.error(`notice: script job still ${doc.summary.status} after 10 s (RQ queue busy)`);
    }
  },
);
