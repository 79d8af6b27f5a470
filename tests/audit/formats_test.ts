import assert from "node:assert/strict";
import {
  promLabelValue,
  renderAuditJunit,
  renderAuditPrometheus,
  renderAuditSarif,
  xmlEscape,
} from "../../lib/audit/formats.ts";
import type { AuditDoc } from "../../lib/audit/report.ts";
import type { PrefixUsage } from "../../lib/audit/model.ts";
import { checkJunit, checkPrometheus, sarifErrors } from "./_validate.ts";

/** Every character class that breaks one of the formats, in NetBox text. */
const HOSTILE = `a\\b "q" 'x' <t>&amp; ]]> \x1b[2J\u202e\ttab\nline\r\x00\x07 é 🚀`;

function doc(tracked = true): AuditDoc {
  return {
    netbox: { url: "https://nb.example", version: "4.7.3" },
    summary: {
      findings: 2,
      by_severity: { error: 1, warning: 1, info: 0 },
      by_rule: { "duplicate-address": 1, "orphan-address": 1 },
      fail_on: "error",
      needs_attention: true,
      started_at: "2026-03-01T06:00:00.000Z",
      duration_ms: 1234,
      analysed: { ip_addresses: 3 },
      rules: ["duplicate-address", "orphan-address", "mask-mismatch", "prefix-exhaustion"],
    },
    items: [
      {
        rule: "duplicate-address",
        severity: "error",
        object_type: "ipam.ipaddress",
        object_id: 12,
        address: "10.0.0.5/24",
        vrf: HOSTILE,
        url: "https://nb.example/ipam/ip-addresses/12/",
        message: `10.0.0.5/24 is recorded 2 times in VRF ${HOSTILE}`,
        related: [{
          object_type: "ipam.ipaddress",
          object_id: 11,
          display: HOSTILE,
          url: null,
        }],
        ...(tracked ? { baseline: "new" as const, first_seen: "2026-03-01T06:00:00.000Z" } : {}),
      },
      {
        rule: "orphan-address",
        severity: "warning",
        object_type: "ipam.ipaddress",
        object_id: 13,
        address: "10.9.0.1/24",
        vrf: null,
        url: null,
        message: "10.9.0.1/24 has no enclosing prefix in the global table",
        related: [],
        ...(tracked
          ? { baseline: "persisting" as const, first_seen: "2026-02-01T06:00:00.000Z" }
          : {}),
      },
    ],
    ...(tracked
      ? {
        fixed: [{
          rule: "mask-mismatch",
          severity: "warning" as const,
          object_type: "ipam.ipaddress",
          object_id: 14,
          address: "10.0.0.9/16",
          vrf: null,
          url: null,
          message: HOSTILE,
          first_seen: "2026-02-01T06:00:00.000Z",
          last_seen: "2026-02-28T06:00:00.000Z",
          baseline: "fixed" as const,
          key: "mask-mismatch:ipam.ipaddress:14",
        }],
      }
      : {}),
    forecast: [{
      id: 3,
      prefix: "192.168.3.0/24",
      vrf: HOSTILE,
      url: null,
      utilization: 90,
      used: 229,
      size: 254,
      samples: 40,
      rate_per_day: 2.5,
      full_in_days: 10,
      full_at: "2026-03-11T06:00:00.000Z",
      window_days: 90,
    }],
  };
}

const usage: PrefixUsage[] = [
  { id: 3, prefix: "192.168.3.0/24", vrf: HOSTILE, utilization: 90.16, url: null },
  { id: 4, prefix: "10.0.0.0/24", vrf: null, utilization: 1.5, url: null },
];

Deno.test("SARIF output validates against the official SARIF 2.1.0 schema", () => {
  for (const tracked of [true, false]) {
    const text = renderAuditSarif(doc(tracked), { toolVersion: "0.1.0" });
    assert.deepEqual(sarifErrors(text), [], text);
    const run = JSON.parse(text).runs[0];
    assert.deepEqual(
      run.tool.driver.rules.map((r: { id: string }) => r.id),
      ["duplicate-address", "orphan-address", "mask-mismatch", "prefix-exhaustion"],
    );
    const [dup, orphan] = run.results;
    assert.equal(dup.ruleId, "duplicate-address");
    assert.equal(dup.level, "error");
    assert.equal(orphan.level, "warning");
    assert.equal(
      dup.partialFingerprints["netboxFindingKey/v1"],
      "duplicate-address:ipam.ipaddress:12",
    );
    assert.equal(dup.locations[0].logicalLocations[0].fullyQualifiedName, "ipam.ipaddress:12");
    // JSON carries the NetBox text exactly.
    assert.equal(dup.properties.vrf, HOSTILE);
    if (tracked) {
      assert.deepEqual(run.results.map((r: { baselineState: string }) => r.baselineState), [
        "new",
        "unchanged",
        "absent",
      ]);
    } else {
      assert.equal(run.results.length, 2);
      assert.ok(run.results.every((r: object) => !("baselineState" in r)));
    }
  }
});

Deno.test("the SARIF validator catches a broken log (the test can fail)", () => {
  const log = JSON.parse(renderAuditSarif(doc()));
  log.runs[0].results[0].level = "fatal";
  delete log.runs[0].tool.driver.name;
  assert.ok(sarifErrors(JSON.stringify(log)).length >= 2);
});

Deno.test("JUnit output follows the Jenkins/Ant JUnit schema: a testcase per rule, a failure per finding", () => {
  const xml = renderAuditJunit(doc());
  const parsed = checkJunit(xml);
  const suite = parsed.testsuites.testsuite[0];
  assert.equal(suite["@_tests"], "4");
  assert.equal(suite["@_failures"], "2");
  assert.equal(suite["@_timestamp"], "2026-03-01T06:00:00");
  const cases = suite.testcase;
  assert.deepEqual(cases.map((c: Record<string, string>) => c["@_name"]), [
    "duplicate-address",
    "orphan-address",
    "mask-mismatch",
    "prefix-exhaustion",
  ]);
  const failure = cases[0].failure[0];
  assert.equal(failure["@_type"], "error");
  // Escaped XML round-trips to the text (minus what XML 1.0 cannot carry, shown as \xHH).
  const expected = `10.0.0.5/24 is recorded 2 times in VRF ${HOSTILE}`.replace(
    // deno-lint-ignore no-control-regex
    /[\x00\x07\x1b]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  const decoded = (s: string) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
  assert.equal(
    decoded(failure["@_message"]).replace(/\r\n?/g, "\n"),
    expected.replace(/\r\n?/g, "\n"),
  );
  assert.ok(!("failure" in cases[2]), "a rule without findings passes");
  assert.ok(!xml.includes("<t>") && !xml.includes("\x1b") && !xml.includes("\x00"));
});

Deno.test("the JUnit checker rejects what the schema forbids (the test can fail)", () => {
  const xml = renderAuditJunit(doc());
  assert.throws(() =>
    checkJunit(xml.replace("<properties>", "<props>").replace("</properties>", "</props>"))
  );
  assert.throws(
    () => checkJunit(xml.replace(/(<testsuite [^>]*?) tests="4"/, "$1")),
    /missing attribute tests/,
  );
  assert.throws(() => checkJunit(xml.replace("</testsuite>", "<bogus/></testsuite>")));
  // An unescaped name in element content breaks the document.
  const at = xml.lastIndexOf("&lt;t&gt;");
  assert.throws(() => checkJunit(xml.slice(0, at) + "<t>" + xml.slice(at + 9)));
});

Deno.test("Prometheus output parses as exposition text with escaped labels", () => {
  const text = renderAuditPrometheus(doc(), { utilization: usage });
  const metrics = checkPrometheus(text);
  const findings = metrics.get("netbox_audit_findings")!;
  const count = (rule: string, severity: string) =>
    findings.find((m) => m.labels.rule === rule && m.labels.severity === severity)?.value;
  assert.equal(count("duplicate-address", "error"), "1");
  assert.equal(count("orphan-address", "warning"), "1");
  assert.equal(count("mask-mismatch", "warning"), "0");
  const util = metrics.get("netbox_audit_prefix_utilization_ratio")!;
  // The parser unescapes \\ and \" ; line feeds stay as the two characters \n in this parser.
  const vrf = util[0].labels.vrf;
  assert.ok(vrf.startsWith(`a\\b "q"`), vrf);
  assert.equal(util[0].value, "0.9016");
  assert.equal(metrics.get("netbox_audit_prefix_full_in_days")![0].value, "10");
  assert.equal(
    metrics.get("netbox_audit_new_findings")!.find((m) => m.labels.severity === "error")!.value,
    "1",
  );
  assert.equal(metrics.get("netbox_audit_fixed_findings")![0].value, "1");
  assert.equal(
    metrics.get("netbox_audit_last_success_timestamp_seconds")![0].value,
    String(Date.parse("2026-03-01T06:00:00Z") / 1000),
  );
  // Raw text: one sample per line, the line feed in the VRF name escaped.
  assert.ok(text.split("\n").every((l) => !l.includes("\r")));
  assert.ok(
    text.includes(
      String.raw`vrf="a\\b \"q\" 'x' <t>&amp; ]]> \\x1b[2J` + "\u202e" +
        String.raw`\\x09tab\nline\\x0d\\x00\\x07 é 🚀"`,
    ),
    text,
  );
});

Deno.test("the Prometheus checker rejects broken exposition text (the test can fail)", () => {
  const text = renderAuditPrometheus(doc(), { utilization: usage });
  assert.throws(() => checkPrometheus(text.replace(/# HELP netbox_audit_findings .*\n/, "")));
  assert.throws(() => checkPrometheus(text.replace('severity="error"', 'severity="err"or"')));
});

Deno.test("escaping helpers: XML and Prometheus labels", () => {
  assert.equal(xmlEscape(`&<>"'`), "&amp;&lt;&gt;&quot;&apos;");
  assert.equal(xmlEscape("\x00\x08\x0b\x0c\x1f\ufffe"), "\\x00\\x08\\x0b\\x0c\\x1f\\ufffe");
  assert.equal(xmlEscape("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
  assert.equal(promLabelValue(`\\"\n`), `\\\\\\"\\n`);
});
