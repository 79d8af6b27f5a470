import assert from "node:assert/strict";
import {
  type AuditDoc,
  renderAuditCsv,
  renderAuditHtml,
  renderAuditMarkdown,
  renderAuditTable,
} from "../../lib/audit/report.ts";
import type { Finding } from "../../lib/audit/model.ts";

function finding(rule: string, id: number, extra: Partial<Finding> = {}): Finding {
  return {
    rule,
    severity: "warning",
    object_type: "ipam.ipaddress",
    object_id: id,
    address: `10.0.0.${id}/24`,
    vrf: null,
    url: `http://nb/ipam/ip-addresses/${id}/`,
    message: `message ${id}`,
    related: [],
    ...extra,
  };
}

function doc(items: Finding[]): AuditDoc {
  const by: Record<string, number> = {};
  for (const f of items) by[f.rule] = (by[f.rule] ?? 0) + 1;
  return {
    netbox: { url: "http://nb", version: "4.7.3" },
    summary: {
      findings: items.length,
      by_severity: {
        error: items.filter((f) => f.severity === "error").length,
        warning: 0,
        info: 0,
      },
      by_rule: by,
      fail_on: "error",
      needs_attention: true,
      started_at: "2026-01-01T00:00:00.000Z",
      duration_ms: 12,
      analysed: { ip_addresses: 3, prefixes: 1 },
      rules: [],
    },
    items,
  };
}

Deno.test("renderAuditTable() puts the counts per rule first, then one block per rule", () => {
  const text = renderAuditTable(doc([
    finding("orphan-address", 2),
    finding("duplicate-address", 1, { severity: "error" }),
    finding("orphan-address", 3),
  ]));
  const lines = text.split("\n");
  assert.equal(lines[0], "3 findings (1 error, 0 warning, 0 info)");
  assert.match(lines[3], /^duplicate-address\s+error\s+1$/);
  assert.match(lines[4], /^orphan-address\s+warning\s+2$/);
  assert.ok(text.indexOf("== duplicate-address (1)") < text.indexOf("== orphan-address (2)"));
  assert.match(text, /warning\s+10\.0\.0\.3\/24\s+ipaddress 3\s+message 3/);
});

Deno.test("renderAuditCsv() quotes messages and joins related objects", () => {
  const csv = renderAuditCsv(doc([finding("duplicate-dns-name", 4, {
    message: 'name "a,b" twice',
    related: [{ object_type: "ipam.ipaddress", object_id: 1, display: "10.0.0.1/24", url: null }],
  })]));
  assert.equal(
    csv.split("\n")[1],
    'duplicate-dns-name,warning,ipam.ipaddress,4,10.0.0.4/24,,"name ""a,b"" twice",' +
      "http://nb/ipam/ip-addresses/4/,ipam.ipaddress:1 10.0.0.1/24",
  );
});

Deno.test("renderAuditMarkdown() escapes table cells and links objects", () => {
  const md = renderAuditMarkdown(doc([finding("invalid-dns-name", 5, { message: "a|b" })]));
  assert.match(md, /\| invalid-dns-name \| warning \| 1 \|/);
  assert.match(md, /\[ipam\.ipaddress 5\]\(http:\/\/nb\/ipam\/ip-addresses\/5\/\) \| a\\\|b \|/);
});

Deno.test("renderAuditHtml() escapes data and loads nothing from anywhere", () => {
  const html = renderAuditHtml(
    doc([finding("invalid-dns-name", 6, { message: '<script>alert("x")</script>' })]),
    [
      { id: 1, prefix: "10.0.0.0/30", vrf: "blue", utilization: 100, url: null },
      { id: 2, prefix: "10.0.1.0/24", vrf: null, utilization: 10, url: null },
    ],
  );
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.doesNotMatch(html, /src=|href="?https?:|<link|url\(|@import/i);
  assert.match(html, /10\.0\.0\.0\/30 \(blue\)<\/text>/);
  assert.match(html, /fill="#cf222e"/); // 100 % is drawn in the error colour
  assert.match(html, /warning 80%/);
});
