import assert from "node:assert/strict";
import { compilePattern, parseRulesFile } from "../../lib/audit/config.ts";
import { ConfigError } from "../../lib/client/errors.ts";
import { defaultAuditConfig } from "../../lib/audit/rules.ts";

Deno.test("parseRulesFile() applies switches, severities, thresholds, pattern and exemptions", () => {
  const config = parseRulesFile(`
dns_pattern: '^[a-z0-9-]+\\.example\\.net$'
ignore_tag: skip-me
thresholds: { utilization_warning: 70, utilization_error: 90, stale_reserved_days: 30 }
exempt: { tags: [lab], roles: [anycast], prefixes: [192.0.2.0/24] }
rules:
  stale-reserved: true
  unassigned-active: false
  orphan-address: { severity: error, exempt: { prefixes: [10.99.0.0/16] } }
  missing-dns-name: { enabled: false }
`);
  assert.ok(config.enabled.has("stale-reserved"));
  assert.ok(!config.enabled.has("unassigned-active"));
  assert.ok(!config.enabled.has("missing-dns-name"));
  assert.equal(config.severity["orphan-address"], "error");
  assert.equal(config.utilizationWarning, 70);
  assert.equal(config.utilizationError, 90);
  assert.equal(config.staleReservedDays, 30);
  assert.equal(config.ignoreTag, "skip-me");
  assert.ok(config.dnsPattern?.test("a.example.net"));
  assert.deepEqual(config.exempt, {
    tags: ["lab"],
    roles: ["anycast"],
    prefixes: ["192.0.2.0/24"],
  });
  assert.deepEqual(config.ruleExempt["orphan-address"].prefixes, ["10.99.0.0/16"]);
});

Deno.test("parseRulesFile() leaves the base configuration untouched", () => {
  const base = defaultAuditConfig();
  parseRulesFile("rules: { orphan-address: false }", base);
  assert.ok(base.enabled.has("orphan-address"));
});

Deno.test("parseRulesFile() accepts an empty file", () => {
  assert.deepEqual([...parseRulesFile("").enabled], [...defaultAuditConfig().enabled]);
});

Deno.test("parseRulesFile() rejects unknown rules, keys, severities and bad values", () => {
  const cases: [string, RegExp][] = [
    ["rules: { no-such-rule: true }", /unknown rule "no-such-rule"/],
    ["colour: red", /unknown key "colour"/],
    [
      "rules: { orphan-address: { severity: fatal } }",
      /severity must be one of error, warning, info/,
    ],
    ["thresholds: { utilization_warning: high }", /must be a non-negative number/],
    ["thresholds: { utilization_warning: 99, utilization_error: 90 }", /must not exceed/],
    ["exempt: { prefixes: [not-a-cidr] }", /"not-a-cidr" is not a CIDR/],
    ["dns_pattern: '('", /Cannot use dns_pattern/],
    ["rules: [a, b]", /rules must be a mapping/],
    ["a: [", /Cannot read rules file/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseRulesFile(text), (err) => {
      assert.ok(err instanceof ConfigError, text);
      assert.match((err as Error).message, message, text);
      return true;
    });
  }
});

Deno.test("compilePattern() names the flag in its error", () => {
  assert.throws(() => compilePattern("[", "--dns-pattern"), /Cannot use --dns-pattern/);
});
