/**
 * The audit's reports with names anyone who may edit NetBox could choose: formulas for the CSV,
 * terminal escape sequences and bidi overrides for the text and Markdown, markup for the HTML.
 */
import assert from "node:assert/strict";
import {
  type AuditDoc,
  renderAuditCsv,
  renderAuditHtml,
  renderAuditMarkdown,
  renderAuditTable,
} from "../../lib/audit/report.ts";
import type { Finding } from "../../lib/audit/model.ts";

/** Whether the text holds a raw control character (C0, DEL, C1) or bidi override. */
function hasRawControls(text: string): boolean {
  return [...text].some((ch) => {
    const c = ch.codePointAt(0)!;
    return c < 0x20 && ch !== "\n" || (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
  });
}

const FORMULA = '=HYPERLINK("http://evil.example","x")';
const ESCAPES = "sw1\x1b[2J\x1b]0;pwned\x07";
const ESCAPES_SHOWN = "sw1\\x1b[2J\\x1b]0;pwned\\x07";
const SCRIPT = "<script>alert(1)</script>";
const BREAKOUT = `"><img src=x onerror=alert(1)>`;
const SINGLE = `' onmouseover='alert(1)`;

function finding(id: number, message: string, extra: Partial<Finding> = {}): Finding {
  return {
    rule: "primary-missing",
    severity: "warning",
    object_type: "dcim.device",
    object_id: id,
    address: null,
    vrf: null,
    url: `http://nb/dcim/devices/${id}/`,
    message,
    related: [],
    ...extra,
  };
}

function doc(items: Finding[], version = "4.7.3"): AuditDoc {
  return {
    netbox: { url: "http://nb", version },
    summary: {
      findings: items.length,
      by_severity: { error: 0, warning: items.length, info: 0 },
      by_rule: { "primary-missing": items.length },
      fail_on: "error",
      needs_attention: false,
      started_at: "2026-01-01T00:00:00.000Z",
      duration_ms: 5,
      analysed: { ip_addresses: 1, prefixes: 1 },
      rules: [],
    },
    items,
  };
}

Deno.test("renderAuditCsv() puts a ' before every formula-leading cell, quoting as needed", () => {
  const csv = renderAuditCsv(doc([
    finding(1, `${FORMULA} has IPv4 addresses on its interfaces but no primary_ip4`),
    finding(2, "-1+1 is a device name", {
      vrf: "@vrf",
      address: "+1",
      related: [{ object_type: "x", object_id: 1, display: "y", url: null }],
    }),
    finding(3, "\tcmd", { vrf: "\r=1" }),
  ]));
  const lines = csv.split("\n");
  assert.equal(
    lines[1],
    `primary-missing,warning,dcim.device,1,,,"'=HYPERLINK(""http://evil.example"",""x"") ` +
      `has IPv4 addresses on its interfaces but no primary_ip4",http://nb/dcim/devices/1/,`,
  );
  assert.equal(
    lines[2],
    "primary-missing,warning,dcim.device,2,'+1,'@vrf,'-1+1 is a device name," +
      "http://nb/dcim/devices/2/,x:1 y",
  );
  assert.equal(
    lines.slice(3).join("\n"),
    `primary-missing,warning,dcim.device,3,,"'\r=1",'\tcmd,http://nb/dcim/devices/3/,\n`,
  );
});

Deno.test("renderAuditCsv() leaves IPv6 addresses and ordinary text as they were", () => {
  const csv = renderAuditCsv(doc([
    finding(4, "fd00::1/64 has no enclosing prefix", { address: "fd00::1/64", vrf: "blue" }),
  ]));
  assert.equal(
    csv.split("\n")[1],
    "primary-missing,warning,dcim.device,4,fd00::1/64,blue,fd00::1/64 has no enclosing prefix," +
      "http://nb/dcim/devices/4/,",
  );
});

Deno.test("renderAuditTable() shows escape sequences and bidi overrides visibly", () => {
  const text = renderAuditTable(doc([
    finding(5, `${ESCAPES} has IPv4 addresses on its interfaces but no primary_ip4`, {
      vrf: "red\u202eder",
    }),
  ]));
  assert.ok(!hasRawControls(text), JSON.stringify(text));
  const last = text.trimEnd().split("\n").at(-1)!;
  const cells = [
    "warning".padEnd("SEVERITY".length),
    "".padEnd("ADDRESS".length),
    "red\\u202eder",
    "device 5",
    `${ESCAPES_SHOWN} has IPv4 addresses on its interfaces but no primary_ip4`,
  ];
  assert.equal(last, cells.join("  "));
});

Deno.test("renderAuditMarkdown() shows controls visibly and keeps names from becoming markup", () => {
  const md = renderAuditMarkdown(doc(
    [
      finding(6, `${ESCAPES}|x`),
      finding(7, `${SCRIPT} ![t](http://evil.example/t.png) [c](javascript:alert(1))`),
      finding(8, "line 1\nline 2\r"),
    ],
    "4.7.3\x1b]0;t\x07",
  ));
  assert.ok(!hasRawControls(md), JSON.stringify(md));
  const rows = md.split("\n").filter((l) => l.startsWith("| warning |"));
  assert.equal(
    rows[0],
    // `[` and `]` are escaped as everywhere; rendered, the cell reads sw1\x1b[2J\x1b]0;pwned\x07|x
    "| warning |  |  | [dcim.device 6](http://nb/dcim/devices/6/) | " +
      "sw1\\x1b\\[2J\\x1b\\]0;pwned\\x07\\|x |",
  );
  assert.equal(
    rows[1],
    "| warning |  |  | [dcim.device 7](http://nb/dcim/devices/7/) | " +
      "\\<script>alert(1)\\</script> !\\[t\\](http://evil.example/t.png) " +
      "\\[c\\](javascript:alert(1)) |",
  );
  assert.equal(
    rows[2],
    "| warning |  |  | [dcim.device 8](http://nb/dcim/devices/8/) | line 1 line 2\\x0d |",
  );
  assert.match(md, /^NetBox http:\/\/nb \(4\.7\.3\\x1b\\\]0;t\\x07\), /m);
});

Deno.test("renderAuditHtml() escapes script tags and attribute breakouts everywhere", () => {
  const html = renderAuditHtml(
    doc(
      [
        finding(9, `${SCRIPT} has IPv4 addresses`, {
          address: BREAKOUT,
          vrf: SINGLE,
          url: `http://nb/x/"><script>alert(2)</script>`,
        }),
      ],
      `4.7.3"><script>alert(3)</script>`,
    ),
    [{
      id: 1,
      prefix: "10.0.0.0/24",
      vrf: `</text><script>alert(4)</script>`,
      utilization: 50,
      url: null,
    }],
  );
  // No markup from the data survives: only the page's own tags.
  assert.doesNotMatch(html, /<script|<img|<\/text>&|<\/text><script/i);
  // onerror survives only as text inside an escaped tag.
  assert.equal(html.match(/onerror/g)?.length, html.match(/&lt;img src=x onerror/g)?.length);
  assert.ok(
    html.includes(
      "<td>&lt;script&gt;alert(1)&lt;/script&gt; has IPv4 addresses</td>",
    ),
  );
  assert.ok(html.includes("<td>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>"));
  // A single quote is harmless: every attribute is double-quoted.
  assert.ok(html.includes(`<td>' onmouseover='alert(1)</td>`));
  const tags = html.match(/<[^>]*>/g) ?? [];
  assert.deepEqual(tags.filter((tag) => tag.includes("'")), []);
  assert.ok(
    html.includes("<code>http://nb/x/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;</code>"),
  );
  assert.ok(html.includes("4.7.3&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"));
  assert.ok(
    html.includes(
      "10.0.0.0/24 (&lt;/text&gt;&lt;script&gt;alert(4)&lt;/script&gt;)</text>",
    ),
  );
});
