/**
 * The audit's result in the formats machines read:
 * - {@linkcode renderAuditSarif}: SARIF 2.1.0 for code-scanning dashboards — the rules in
 *   `tool.driver.rules`, one result per finding with `ruleId`, `level`, `message`, the NetBox
 *   object as a logical location, the stable finding key in `partialFingerprints`, and
 *   `baselineState` (`new`, `unchanged`, `absent` for fixed ones) when a state was compared;
 * - {@linkcode renderAuditJunit}: JUnit XML (the Jenkins/Ant shape CI systems show natively) —
 *   one testcase per rule that ran, one `<failure>` per finding;
 * - {@linkcode renderAuditPrometheus}: a text file for node_exporter's textfile collector
 *   (Prometheus exposition format with `# HELP` and `# TYPE`): findings by rule and severity,
 *   new and fixed findings, prefix utilization, the exhaustion forecast, the time of the last
 *   successful run.
 *
 * NetBox text (names, DNS names, messages) is escaped for each format: JSON by its encoder; XML
 * escapes `&`, `<`, `>`, `"` and `'`, and shows the characters XML 1.0 cannot carry at all
 * (most C0 controls) as `\xHH`; Prometheus label values escape `\`, `"` and line feeds, and help
 * text `\` and line feeds.
 *
 * @module
 */

import type { PrefixUsage } from "./model.ts";
import type { AuditDoc, DocFinding } from "./report.ts";
import { AUDIT_RULES, type AuditRule, SEVERITIES, type Severity } from "./rules.ts";
import { findingKey } from "./state.ts";

/** A finding as the machine formats read it: baseline fields when a state was compared. */
export type ReportedFinding = DocFinding;

/** The result document the machine formats read (baseline, fixed and forecast optional). */
export type MachineDoc = AuditDoc;

/** Options shared by the machine renderers. */
export interface MachineOptions {
  /** The toolkit's version, for SARIF's `tool.driver.version`. */
  toolVersion?: string;
  /** Prefix utilization (Prometheus gauges). */
  utilization?: PrefixUsage[];
  /** Severity per rule after the configuration's overrides (Prometheus zero series). */
  severities?: Record<string, Severity>;
}

const SARIF_LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  error: "error",
  warning: "warning",
  info: "note",
};

function keyOf(
  f: {
    rule: string;
    object_type: string;
    object_id: number;
    key?: string;
    address?: string | null;
    vrf?: string | null;
  },
): string {
  return f.key ?? findingKey(f);
}

function rulesOf(doc: MachineDoc): AuditRule[] {
  const ids = new Set<string>([
    ...(doc.summary.rules ?? []),
    ...doc.items.map((f) => f.rule),
    ...(doc.fixed ?? []).map((f) => f.rule),
  ]);
  return AUDIT_RULES.filter((r) => ids.has(r.id));
}

function logicalLocation(
  f: { object_type: string; object_id: number; address: string | null; url: string | null },
) {
  return {
    name: f.address ?? `${f.object_type}:${f.object_id}`,
    fullyQualifiedName: `${f.object_type}:${f.object_id}`,
    kind: "resource",
    properties: { object_type: f.object_type, object_id: f.object_id, url: f.url },
  };
}

/**
 * Renders the result as a SARIF 2.1.0 log (one run).
 *
 * @param doc The result document (with `baseline` on the items and `fixed` when a state was
 *   compared).
 * @param options The toolkit version.
 * @returns The SARIF JSON text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderAuditSarif } from "./formats.ts";
 * const sarif = JSON.parse(renderAuditSarif({
 *   netbox: { url: "https://nb.example", version: "4.7.3" },
 *   summary: { findings: 1, by_severity: {}, by_rule: {}, fail_on: "error", needs_attention: false,
 *     started_at: "2026-01-01T00:00:00.000Z", duration_ms: 5, analysed: {}, rules: ["orphan-address"] },
 *   items: [{ rule: "orphan-address", severity: "warning", object_type: "ipam.ipaddress", object_id: 7,
 *     address: "10.9.0.1/24", vrf: null, url: null, message: "no prefix", related: [], baseline: "new" }],
 * }));
 * assert(sarif.version === "2.1.0");
 * const [result] = sarif.runs[0].results;
 * assert(result.ruleId === "orphan-address" && result.level === "warning" && result.baselineState === "new");
 * assert(result.partialFingerprints["netboxFindingKey/v1"] === "orphan-address:ipam.ipaddress:7");
 * ```
 */
export function renderAuditSarif(doc: MachineDoc, options: MachineOptions = {}): string {
  const rules = rulesOf(doc);
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const baselined = doc.fixed !== undefined ||
    doc.items.some((f) => f.baseline !== undefined);
  const results: Record<string, unknown>[] = doc.items.map((f) => {
    const result: Record<string, unknown> = {
      ruleId: f.rule,
      ruleIndex: ruleIndex.get(f.rule),
      kind: "fail",
      level: SARIF_LEVEL[f.severity] ?? "warning",
      message: { text: f.message },
      locations: [{ logicalLocations: [logicalLocation(f)] }],
      partialFingerprints: { "netboxFindingKey/v1": keyOf(f) },
      properties: {
        severity: f.severity,
        object_type: f.object_type,
        object_id: f.object_id,
        address: f.address,
        vrf: f.vrf,
        url: f.url,
        ...(f.first_seen ? { first_seen: f.first_seen } : {}),
      },
    };
    if (f.related.length) {
      result.relatedLocations = f.related.map((r, i) => ({
        id: i + 1,
        message: { text: `${r.object_type}:${r.object_id} ${r.display}` },
        logicalLocations: [logicalLocation({ ...r, address: r.display })],
      }));
    }
    if (baselined) result.baselineState = f.baseline === "persisting" ? "unchanged" : "new";
    return result;
  });
  for (const f of doc.fixed ?? []) {
    results.push({
      ruleId: f.rule,
      ruleIndex: ruleIndex.get(f.rule),
      kind: "pass",
      level: "none",
      message: { text: `Fixed: ${f.message}` },
      locations: [{ logicalLocations: [logicalLocation(f)] }],
      partialFingerprints: { "netboxFindingKey/v1": f.key },
      baselineState: "absent",
      properties: {
        severity: f.severity,
        object_type: f.object_type,
        object_id: f.object_id,
        first_seen: f.first_seen,
        last_seen: f.last_seen,
      },
    });
  }
  const started = doc.summary.started_at;
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [{
      tool: {
        driver: {
          name: "netbox-toolkit audit-ips",
          ...(options.toolVersion ? { version: options.toolVersion } : {}),
          rules: rules.map((r) => ({
            id: r.id,
            name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
            shortDescription: { text: r.description },
            defaultConfiguration: { level: SARIF_LEVEL[r.severity], enabled: r.enabled },
          })),
        },
      },
      invocations: [{
        executionSuccessful: true,
        ...(validDate(started) ? { startTimeUtc: new Date(started).toISOString() } : {}),
      }],
      properties: {
        netbox: doc.netbox,
        summary: doc.summary,
        ...(doc.forecast ? { forecast: doc.forecast } : {}),
      },
      results,
    }],
  };
  return JSON.stringify(log, null, 2) + "\n";
}

function validDate(text: string | undefined): boolean {
  return !!text && !Number.isNaN(Date.parse(text));
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

const XML_INVALID =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Escapes text for XML content and double- or single-quoted attributes: `&`, `<`, `>`, `"`,
 * `'`, tab, line feed and carriage return (kept as character references in attributes), and
 * characters XML 1.0 cannot carry at all shown as `\xHH` / `\uHHHH`.
 *
 * @param text Any text.
 * @returns The escaped text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { xmlEscape } from "./formats.ts";
 * assert(xmlEscape(`<a href="x">&'\x1b`) === "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\\x1b");
 * ```
 */
export function xmlEscape(text: string): string {
  return text.replace(XML_INVALID, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  }).replace(/[&<>"'\t\n\r]/g, (ch) =>
    ({
      "&": "&amp;",
      "<": "&lt;",
      ">": "&gt;",
      '"': "&quot;",
      "'": "&apos;",
      "\t": "&#9;",
      "\n": "&#10;",
      "\r": "&#13;",
    })[ch]!);
}

function xmlText(text: string): string {
  // Element content keeps its line breaks readable.
  return xmlEscape(text).replace(/&#10;/g, "\n").replace(/&#9;/g, "\t");
}

/**
 * Renders the result as JUnit XML: one `<testsuite>` for the run, one `<testcase>` per rule that
 * ran (passing when it found nothing), one `<failure>` per finding (its `type` the severity).
 *
 * @param doc The result document.
 * @returns The XML text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderAuditJunit } from "./formats.ts";
 * const xml = renderAuditJunit({
 *   netbox: { url: "https://nb.example", version: "4.7.3" },
 *   summary: { findings: 1, by_severity: {}, by_rule: {}, fail_on: "error", needs_attention: false,
 *     started_at: "2026-01-01T00:00:00.000Z", duration_ms: 5, analysed: {},
 *     rules: ["duplicate-address", "orphan-address"] },
 *   items: [{ rule: "orphan-address", severity: "warning", object_type: "ipam.ipaddress", object_id: 7,
 *     address: "10.9.0.1/24", vrf: "a<b", url: null, message: "no prefix", related: [] }],
 * });
 * assert(xml.includes('<testcase name="duplicate-address"'));
 * assert(xml.includes('<failure message="no prefix" type="warning">'));
 * assert(xml.includes("a&lt;b"));
 * ```
 */
export function renderAuditJunit(doc: MachineDoc): string {
  const rules = rulesOf(doc).filter((r) =>
    doc.summary.rules?.includes(r.id) || doc.items.some((f) => f.rule === r.id)
  );
  const byRule = new Map<string, ReportedFinding[]>();
  for (const f of doc.items) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
  const time = ((doc.summary.duration_ms ?? 0) / 1000).toFixed(3);
  const started = validDate(doc.summary.started_at)
    ? new Date(doc.summary.started_at).toISOString().slice(0, 19)
    : new Date(0).toISOString().slice(0, 19);
  let host = "netbox";
  try {
    host = new URL(doc.netbox.url).host || host;
  } catch {
    // not a URL: keep the default
  }
  const failures = doc.items.length;
  const a = (name: string, value: string | number) => ` ${name}="${xmlEscape(String(value))}"`;
  const cases = rules.map((r) => {
    const list = byRule.get(r.id) ?? [];
    const head = `    <testcase${a("name", r.id)}${a("classname", "netbox.audit-ips")}${
      a("time", "0")
    }`;
    if (!list.length) return `${head}/>`;
    const failuresXml = list.map((f) => {
      const lines = [
        `${f.severity}: ${f.message}`,
        `object: ${f.object_type} ${f.object_id}`,
        ...(f.address ? [`address: ${f.address}`] : []),
        ...(f.vrf ? [`vrf: ${f.vrf}`] : []),
        ...(f.url ? [`url: ${f.url}`] : []),
        ...(f.baseline ? [`baseline: ${f.baseline} (first seen ${f.first_seen})`] : []),
        ...f.related.map((x) => `related: ${x.object_type} ${x.object_id} ${x.display}`),
      ];
      return `      <failure${a("message", f.message)}${a("type", f.severity)}>${
        xmlText(lines.join("\n"))
      }</failure>`;
    });
    return `${head}>\n${failuresXml.join("\n")}\n    </testcase>`;
  });
  const props: [string, string][] = [
    ["netbox.url", doc.netbox.url],
    ["netbox.version", doc.netbox.version ?? ""],
    ["fail_on", doc.summary.fail_on ?? ""],
    ["needs_attention", String(!!doc.summary.needs_attention)],
  ];
  const system = doc.fixed?.length
    ? doc.fixed.map((f) => `fixed: ${f.rule} ${f.object_type} ${f.object_id} ${f.message}`)
      .join("\n")
    : "";
  const forecast = (doc.forecast ?? []).map((f) =>
    `forecast: ${f.prefix}${f.vrf ? ` (${f.vrf})` : ""} ${
      f.full_in_days === null ? "not filling" : `full in about ${Math.ceil(f.full_in_days)} days`
    }`
  ).join("\n");
  const out = [system, forecast].filter(Boolean).join("\n");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites${a("name", "netbox-audit")}${a("tests", rules.length)}${a("failures", failures)}${
      a("errors", 0)
    }${a("time", time)}>`,
    `  <testsuite${a("name", "netbox-audit")}${a("tests", rules.length)}${a("failures", failures)}${
      a("errors", 0)
    }${a("skipped", 0)}${a("time", time)}${a("timestamp", started)}${a("hostname", host)}${
      a("id", 0)
    }${a("package", "netbox.audit-ips")}>`,
    `    <properties>`,
    ...props.map(([n, v]) => `      <property${a("name", n)}${a("value", v)}/>`),
    `    </properties>`,
    ...cases,
    `    <system-out>${xmlText(out)}</system-out>`,
    `    <system-err></system-err>`,
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Prometheus text format

/**
 * Escapes a Prometheus label value: `\` → `\\`, `"` → `\"`, line feed → `\n`; other control
 * characters (carriage return, tab, ESC, …) are shown as the text `\xHH`.
 *
 * @param value The label value.
 * @returns The escaped value (without the quotes).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { promLabelValue } from "./formats.ts";
 * assert(promLabelValue('a\\b"c\nd') === 'a\\\\b\\"c\\nd');
 * assert(promLabelValue("a\rb") === "a\\\\x0db");
 * ```
 */
export function promLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    // Other control characters (a carriage return would split the line for some readers)
    // become visible text: the backslash itself escaped, so the value reads `\x0d`.
    .replace(
      // deno-lint-ignore no-control-regex
      /[\x00-\x09\x0b-\x1f\x7f]/g,
      (c) => `\\\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    );
}

function promHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function promNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

type Sample = [Record<string, string>, number];

function family(name: string, help: string, samples: Sample[]): string[] {
  const lines = [`# HELP ${name} ${promHelp(help)}`, `# TYPE ${name} gauge`];
  for (const [labels, value] of samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${promLabelValue(v)}"`).join(",");
    lines.push(`${name}${l ? `{${l}}` : ""} ${promNumber(value)}`);
  }
  return lines;
}

/**
 * Renders the result as a Prometheus text file for node_exporter's textfile collector (write
 * it atomically into the collector's directory, e.g. with `--output`). Gauges:
 * `netbox_audit_findings{rule,severity}` (every rule that ran, zeros included),
 * `netbox_audit_new_findings{severity}` and `netbox_audit_fixed_findings` (with a state),
 * `netbox_audit_prefix_utilization_ratio{prefix,vrf}`,
 * `netbox_audit_prefix_full_in_days{prefix,vrf}` and
 * `netbox_audit_prefix_allocation_rate_per_day{prefix,vrf}` (with a forecast),
 * `netbox_audit_duration_seconds` and `netbox_audit_last_success_timestamp_seconds`.
 *
 * @param doc The result document.
 * @param options Prefix utilization.
 * @returns The exposition text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderAuditPrometheus } from "./formats.ts";
 * const text = renderAuditPrometheus({
 *   netbox: { url: "https://nb.example", version: "4.7.3" },
 *   summary: { findings: 0, by_severity: {}, by_rule: {}, fail_on: "error", needs_attention: false,
 *     started_at: "2026-01-01T00:00:00.000Z", duration_ms: 1500, analysed: {}, rules: ["orphan-address"] },
 *   items: [],
 * }, { utilization: [{ id: 1, prefix: "10.0.0.0/24", vrf: 'x"y', utilization: 42, url: null }] });
 * assert(text.includes('netbox_audit_findings{rule="orphan-address",severity="warning"} 0'));
 * assert(text.includes('netbox_audit_prefix_utilization_ratio{prefix="10.0.0.0/24",vrf="x\\"y"} 0.42'));
 * assert(text.includes("netbox_audit_last_success_timestamp_seconds 1767225600"));
 * ```
 */
export function renderAuditPrometheus(doc: MachineDoc, options: MachineOptions = {}): string {
  const counts = new Map<string, number>();
  const key = (rule: string, severity: string) => `${rule}\u0000${severity}`;
  const severityOf = new Map<string, string>(AUDIT_RULES.map((r) => [r.id, r.severity]));
  for (const [rule, severity] of Object.entries(options.severities ?? {})) {
    severityOf.set(rule, severity);
  }
  for (const rule of doc.summary.rules ?? []) {
    counts.set(key(rule, severityOf.get(rule) ?? "warning"), 0);
  }
  for (const f of doc.items) {
    counts.set(key(f.rule, f.severity), (counts.get(key(f.rule, f.severity)) ?? 0) + 1);
  }
  const findings: Sample[] = [...counts].map(([k, n]) => {
    const [rule, severity] = k.split("\u0000");
    return [{ rule, severity }, n];
  });
  const lines = family(
    "netbox_audit_findings",
    "Findings of the last NetBox IP audit, by rule and severity.",
    findings,
  );
  if (doc.fixed !== undefined || doc.items.some((f) => f.baseline !== undefined)) {
    lines.push(
      ...family(
        "netbox_audit_new_findings",
        "Findings that were not in the previous run's state, by severity.",
        SEVERITIES.map((s) => [
          { severity: s },
          doc.items.filter((f) => f.baseline === "new" && f.severity === s).length,
        ]),
      ),
      ...family(
        "netbox_audit_fixed_findings",
        "Findings of the previous run that are gone.",
        [[{}, doc.fixed?.length ?? 0]],
      ),
    );
  }
  const usage = options.utilization ?? [];
  if (usage.length) {
    lines.push(
      ...family(
        "netbox_audit_prefix_utilization_ratio",
        "Utilization of each prefix in scope (0-1), computed as NetBox does.",
        usage.map((u) => [
          { prefix: u.prefix, vrf: u.vrf ?? "" },
          Math.round(u.utilization * 100) / 10000,
        ]),
      ),
    );
  }
  const forecast = (doc.forecast ?? []).filter((f) => f.full_in_days !== null);
  if (doc.forecast !== undefined) {
    lines.push(
      ...family(
        "netbox_audit_prefix_full_in_days",
        "Days until the prefix is full at its allocation rate (least squares on the change log).",
        forecast.map((f) => [{ prefix: f.prefix, vrf: f.vrf ?? "" }, f.full_in_days!]),
      ),
      ...family(
        "netbox_audit_prefix_allocation_rate_per_day",
        "Addresses created per day inside the prefix, fitted on the change log.",
        doc.forecast.map((f) => [{ prefix: f.prefix, vrf: f.vrf ?? "" }, f.rate_per_day]),
      ),
    );
  }
  const started = Date.parse(doc.summary.started_at);
  lines.push(
    ...family(
      "netbox_audit_duration_seconds",
      "How long the last NetBox IP audit took.",
      [[{}, (doc.summary.duration_ms ?? 0) / 1000]],
    ),
    ...family(
      "netbox_audit_last_success_timestamp_seconds",
      "When the last successful NetBox IP audit started (Unix time).",
      [[{}, Number.isNaN(started) ? 0 : Math.round(started / 1000)]],
    ),
  );
  return lines.join("\n") + "\n";
}
