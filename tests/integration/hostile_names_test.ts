/**
 * audit-ips against the real NetBox with names anyone who may edit NetBox could choose: three
 * active devices named with a spreadsheet formula, terminal escape sequences (screen clear,
 * window title, bidi override) and HTML markup, each owning an address but no primary IPv4
 * (a `primary-missing` finding whose message starts with the name). The reports must carry the
 * names harmlessly: CSV cells neutralised, table and Markdown showing the controls, HTML
 * escaped, JSON exact. Everything is created under a tag of its own and deleted afterwards.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import type { NetBoxClient, NetBoxObject } from "../../lib/client/types.ts";
import { main } from "../../tasks/audit-ips.ts";
import { dropVrf } from "./_cleanup.ts";
import { netboxTest, uniqueName } from "./_netbox.ts";
import { runTaskMain } from "./_run_task.ts";

/** Whether the text holds a raw control character (C0, DEL, C1) or bidi override. */
function hasRawControls(text: string): boolean {
  return [...text].some((ch) => {
    const c = ch.codePointAt(0)!;
    return c < 0x20 && ch !== "\n" || (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
  });
}

const FORMULA = '=HYPERLINK("http://evil.example","x")';
const TERMINAL = "sw\x1b[2J\x1b]0;pwned\x07\u202eevil";
const MARKUP = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
const NO_PRIMARY = "has IPv4 addresses on its interfaces but no primary_ip4";

interface Finding {
  rule: string;
  object_id: number;
  url: string;
  message: string;
}

/** What the fixture made, for the assertions and the clean-up. */
interface Made {
  tag: string;
  vrfName: string;
  vrfId?: number;
  devices: Record<string, number>;
  other: [string, number][];
}

async function build(nb: NetBoxClient): Promise<Made> {
  const tag = uniqueName("nbtk-hostile");
  const made: Made = {
    tag,
    vrfName: `${tag}"><svg onload=alert(3)>`,
    devices: {},
    other: [],
  };
  const keep = (ep: string, obj: NetBoxObject) => {
    made.other.unshift([ep, obj.id]);
    return obj;
  };
  keep("extras/tags/", await nb.extras.tags.create({ name: tag, slug: tag }));
  const vrf = await nb.ipam.vrfs.create({ name: made.vrfName });
  made.vrfId = vrf.id;
  const site = keep("dcim/sites/", await nb.dcim.sites.create({ name: tag, slug: tag }));
  const mf = keep(
    "dcim/manufacturers/",
    await nb.dcim.manufacturers.create({ name: tag, slug: tag }),
  );
  const dt = keep(
    "dcim/device-types/",
    await nb.dcim.deviceTypes.create({ manufacturer: mf.id, model: tag, slug: tag }),
  );
  const role = keep(
    "dcim/device-roles/",
    await nb.dcim.deviceRoles.create({ name: tag, slug: tag }),
  );
  const tags = [{ slug: tag }];
  await nb.ipam.prefixes.create({ prefix: "10.99.0.0/24", vrf: vrf.id, tags });
  const names = [FORMULA, TERMINAL, MARKUP];
  for (const [i, name] of names.entries()) {
    const device = await nb.dcim.devices.create({
      name,
      site: site.id,
      device_type: dt.id,
      role: role.id,
      status: "active",
    });
    made.devices[name] = device.id;
    assert.equal(device.name, name, "NetBox keeps the name as given");
    const iface = await nb.dcim.interfaces.create({
      device: device.id,
      name: "eth0",
      type: "virtual",
    });
    await nb.ipam.ipAddresses.create({
      address: `10.99.0.${i + 1}/24`,
      vrf: vrf.id,
      status: "active",
      dns_name: `h${i + 1}.hostile.example`,
      assigned_object_type: "dcim.interface",
      assigned_object_id: iface.id,
      tags,
    });
  }
  return made;
}

async function cleanup(nb: NetBoxClient, made: Made): Promise<void> {
  // Addresses and the prefix with their VRF, then the devices (interfaces go with them), then
  // what they used.
  if (made.vrfId !== undefined) await dropVrf(nb, made.vrfId);
  const ids = Object.values(made.devices);
  try {
    if (ids.length) await nb.dcim.devices.delete(ids);
  } catch (err) {
    console.error(`cleanup: cannot delete devices ${ids}: ${(err as Error).message}`);
  }
  for (const [ep, id] of made.other) {
    try {
      await nb.endpoint(ep).delete(id);
    } catch (err) {
      console.error(`cleanup: cannot delete ${ep}${id}: ${(err as Error).message}`);
    }
  }
}

netboxTest(
  "audit-ips carries hostile device names harmlessly in csv, table, markdown, html",
  async (env) => {
    const nb = createClient({ url: env.url, token: env.token, timeoutMs: 120_000 });
    let made: Made | undefined;
    try {
      made = await build(nb);
      const audit = (format: string) => runTaskMain(main, ["--tag", made!.tag, "--format", format]);

      // JSON: exact, and the three findings we planted.
      const json = await audit("json");
      assert.equal(json.code, 0, json.stderr);
      const items = (JSON.parse(json.stdout).items as Finding[]).filter((f) =>
        Object.values(made!.devices).includes(f.object_id)
      );
      const byName = (name: string) => {
        const f = items.find((i) => i.object_id === made!.devices[name]);
        assert.ok(f, `a finding on the device named ${JSON.stringify(name)}`);
        assert.equal(f.rule, "primary-missing");
        assert.equal(f.message, `${name} ${NO_PRIMARY}`, "JSON keeps NetBox's text exact");
        return f;
      };
      const [formula, terminal, markup] = [FORMULA, TERMINAL, MARKUP].map(byName);
      const row = (f: Finding, message: string) =>
        `primary-missing,warning,dcim.device,${f.object_id},,,${message},${f.url},`;

      // CSV: the formula gets a leading ', quoted as CSV needs.
      const csv = await audit("csv");
      assert.equal(csv.code, 0, csv.stderr);
      const csvLines = csv.stdout.split("\n");
      assert.ok(
        csvLines.includes(
          row(formula, `"'=HYPERLINK(""http://evil.example"",""x"") ${NO_PRIMARY}"`),
        ),
        csv.stdout,
      );
      assert.ok(!csv.stdout.includes(`,${FORMULA}`) && !csv.stdout.includes(`,"${FORMULA}`));
      assert.ok(
        csvLines.includes(
          row(markup, `"<script>alert(1)</script>""><img src=x onerror=alert(2)> ${NO_PRIMARY}"`),
        ),
        csv.stdout,
      );

      // Table: no raw ESC, BEL or bidi override; the sequences are shown.
      const table = await audit("table");
      assert.equal(table.code, 0, table.stderr);
      assert.ok(!hasRawControls(table.stdout), JSON.stringify(table.stdout));
      const tableLine = table.stdout.split("\n").find((l) =>
        l.includes(`device ${terminal.object_id} `)
      );
      assert.ok(tableLine, table.stdout);
      assert.ok(
        tableLine.endsWith(`  sw\\x1b[2J\\x1b]0;pwned\\x07\\u202eevil ${NO_PRIMARY}`),
        tableLine,
      );

      // Markdown: the sequences shown, the markup inert.
      const md = await audit("markdown");
      assert.equal(md.code, 0, md.stderr);
      assert.ok(!hasRawControls(md.stdout), JSON.stringify(md.stdout));
      const mdRows = md.stdout.split("\n");
      assert.ok(
        mdRows.includes(
          `| warning |  |  | [dcim.device ${terminal.object_id}](${terminal.url}) | ` +
            `sw\\x1b\\[2J\\x1b\\]0;pwned\\x07\\u202eevil ${NO_PRIMARY} |`,
        ),
        md.stdout,
      );
      assert.ok(
        mdRows.includes(
          `| warning |  |  | [dcim.device ${markup.object_id}](${markup.url}) | ` +
            `\\<script>alert(1)\\</script>">\\<img src=x onerror=alert(2)> ${NO_PRIMARY} |`,
        ),
        md.stdout,
      );

      // HTML: every name and the VRF's escaped; no tag from NetBox survives.
      const html = await audit("html");
      assert.equal(html.code, 0, html.stderr);
      assert.doesNotMatch(html.stdout, /<script|<img|<svg onload/i);
      assert.ok(
        html.stdout.includes(
          "<td>&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt; " +
            `${NO_PRIMARY}</td>`,
        ),
        html.stdout,
      );
      assert.ok(
        html.stdout.includes(
          `<td>=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;) ${NO_PRIMARY}</td>`,
        ),
      );
      assert.ok(
        html.stdout.includes(
          `10.99.0.0/24 (${made.tag}&quot;&gt;&lt;svg onload=alert(3)&gt;)</text>`,
        ),
        html.stdout,
      );
    } finally {
      if (made) await cleanup(nb, made);
      nb.close();
    }
  },
);
