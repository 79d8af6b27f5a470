/**
 * Renderers of the IP address audit's result: a text table grouped by rule (counts first),
 * CSV, Markdown, and one self-contained HTML page (inline CSS and SVG, nothing loaded from the
 * network).
 *
 * Names, DNS names and messages come from NetBox, where anyone with edit rights writes them, and
 * the reports carry them to other people:
 * - text and Markdown show control characters and bidi overrides visibly (`\x1b`, `\u202e`:
 *   {@linkcode escapeControls}), so they cannot clear or retitle the reader's terminal; Markdown
 *   also backslash-escapes `\`, `|`, `<`, `[` and `]`, so a name cannot break the table, open
 *   an HTML tag or make a link or image (it renders as the same text);
 * - CSV cells starting with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading `'`
 *   ({@linkcode neutralizeCsvCell}), so a spreadsheet never evaluates them;
 * - HTML escapes `&`, `<`, `>` and `"` everywhere (attributes are double-quoted).
 *
 * @module
 */

import { csvStringify } from "../deps.ts";
import { escapeControls, neutralizeCsvCell } from "../base/safe_text.ts";
import type { Finding, PrefixUsage } from "./model.ts";
import { AUDIT_RULES, SEVERITIES } from "./rules.ts";
import type { FixedFinding } from "./state.ts";
import type { PrefixForecast } from "./forecast.ts";

/** A finding in the result document: with its baseline fields when a state was compared. */
export type DocFinding = Finding & {
  /** `new` or `persisting` (with a state). */
  baseline?: "new" | "persisting";
  /** When it was first seen (with a state). */
  first_seen?: string;
  /** Its stable key (with a state). */
  key?: string;
};

/** The audit's result document (what `--format json` prints). */
export interface AuditDoc {
  /** The NetBox audited: its URL and version. */
  netbox: { url: string; version: string | null };
  /** Counts, threshold, timing, rules (and the baseline counts with a state). */
  summary: AuditSummary;
  /** The findings, in rule order. */
  items: DocFinding[];
  /** Findings of the previous run that are gone (only with a state). */
  fixed?: FixedFinding[];
  /** The exhaustion forecast (only with a forecast). */
  forecast?: PrefixForecast[];
}

/** The `summary` of the result document. */
export interface AuditSummary {
  /** Findings in total. */
  findings: number;
  /** Findings per severity (every severity, zeros included). */
  by_severity: Record<string, number>;
  /** Findings per rule that found something, in rule order. */
  by_rule: Record<string, number>;
  /** The `--fail-on` threshold and whether it was reached. */
  fail_on: string;
  /** Whether a finding reached `fail_on`. */
  needs_attention: boolean;
  /** When the run started (ISO) and how long it took. */
  started_at: string;
  /** How long the run took, in milliseconds. */
  duration_ms: number;
  /** Objects analysed. */
  analysed: Record<string, number>;
  /** The rules that ran. */
  rules: string[];
  /** With a state: new, persisting and fixed counts, the previous run, the state file. */
  baseline?: {
    new: number;
    persisting: number;
    fixed: number;
    previous_run: string | null;
    state?: string | null;
  };
  /** With a state: the `--fail-on-new` threshold. */
  fail_on_new?: string;
}

/** The CSV / default column order of findings. */
export const FINDING_COLUMNS = [
  "rule",
  "severity",
  "object_type",
  "object_id",
  "address",
  "vrf",
  "message",
  "url",
  "related",
];

function grouped(items: DocFinding[]): [string, DocFinding[]][] {
  const groups = new Map<string, DocFinding[]>();
  for (const rule of AUDIT_RULES) groups.set(rule.id, []);
  for (const f of items) {
    if (!groups.has(f.rule)) groups.set(f.rule, []);
    groups.get(f.rule)!.push(f);
  }
  return [...groups].filter(([, list]) => list.length > 0);
}

function severityLine(summary: AuditSummary): string {
  const parts = SEVERITIES.map((s) => `${summary.by_severity[s] ?? 0} ${s}`);
  return `${summary.findings} finding${summary.findings === 1 ? "" : "s"} (${parts.join(", ")})`;
}

function related(f: Finding): string {
  return f.related.map((r) => `${r.object_type}:${r.object_id} ${r.display}`).join("; ");
}

/**
 * Renders the findings as text: a count per rule first, then one block per rule.
 *
 * @param doc The result document.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderAuditTable } from "./report.ts";
 * const text = renderAuditTable({
 *   netbox: { url: "http://nb", version: "4.7.3" },
 *   summary: { findings: 0, by_severity: {}, by_rule: {}, fail_on: "error", needs_attention: false,
 *     started_at: "", duration_ms: 1, analysed: {}, rules: [] },
 *   items: [],
 * });
 * assert(text.startsWith("0 findings"));
 * ```
 */
export function renderAuditTable(doc: AuditDoc): string {
  const out: string[] = [severityLine(doc.summary) + baselineLine(doc)];
  const groups = grouped(doc.items);
  if (groups.length === 0) return out.join("\n") + "\n" + fixedAndForecastText(doc);
  const width = Math.max(4, ...groups.map(([rule]) => rule.length));
  out.push("", `${"RULE".padEnd(width)}  SEVERITY  COUNT`);
  for (const [rule, list] of groups) {
    const severities = [...new Set(list.map((f) => f.severity))].join("/");
    out.push(`${rule.padEnd(width)}  ${severities.padEnd(8)}  ${list.length}`);
  }
  for (const [rule, list] of groups) {
    out.push("", `== ${rule} (${list.length})`);
    const tracked = list.some((f) => f.baseline !== undefined);
    const rows = list.map((f) =>
      [
        f.severity,
        ...(tracked ? [since(f)] : []),
        f.address ?? "",
        f.vrf ?? "",
        `${f.object_type.split(".")[1]} ${f.object_id}`,
        f.message,
      ].map((cell) => escapeControls(cell))
    );
    const head = [
      "SEVERITY",
      ...(tracked ? ["SINCE"] : []),
      "ADDRESS",
      "VRF",
      "OBJECT",
      "MESSAGE",
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ")
        .trimEnd();
    out.push(line(head), ...rows.map(line));
  }
  return out.join("\n") + "\n" + fixedAndForecastText(doc);
}

/** `new` or the first-seen date of a tracked finding. */
function since(f: DocFinding): string {
  if (f.baseline === undefined) return "";
  return f.baseline === "new" ? "new" : (f.first_seen ?? "").slice(0, 10);
}

function baselineLine(doc: AuditDoc): string {
  const tracked = doc.fixed !== undefined || doc.items.some((f) => f.baseline !== undefined);
  if (!tracked) return "";
  const fresh = doc.items.filter((f) => f.baseline === "new").length;
  return `; since the last run: ${fresh} new, ${doc.items.length - fresh} persisting, ${
    doc.fixed?.length ?? 0
  } fixed`;
}

function forecastLine(f: PrefixForecast): string {
  return `${f.prefix}${f.vrf ? ` (VRF ${f.vrf})` : ""} ${f.utilization}% used: ${
    f.full_in_days === null
      ? "not filling up"
      : `full in about ${Math.ceil(f.full_in_days)} days (${f.rate_per_day}/day)`
  }`;
}

function fixedAndForecastText(doc: AuditDoc): string {
  const out: string[] = [];
  if (doc.fixed?.length) {
    out.push("", `== fixed since the last run (${doc.fixed.length})`);
    for (const f of doc.fixed) {
      out.push(escapeControls(
        `${f.rule}  ${f.object_type.split(".")[1]} ${f.object_id}  ${f.address ?? ""}  first seen ${
          f.first_seen.slice(0, 10)
        }: ${f.message}`,
      ));
    }
  }
  if (doc.forecast?.length) {
    out.push("", `== exhaustion forecast (${doc.forecast.length})`);
    for (const f of doc.forecast) out.push(escapeControls(forecastLine(f)));
  }
  return out.length ? out.join("\n") + "\n" : "";
}

/**
 * Renders the findings as CSV, one row per finding (related objects joined with `; `). A cell
 * starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
 *
 * @param doc The result document.
 * @returns The CSV text with a header row.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderAuditCsv } from "./report.ts";
 * const csv = renderAuditCsv({
 *   netbox: { url: "", version: null },
 *   summary: {} as never,
 *   items: [{ rule: "orphan-address", severity: "warning", object_type: "ipam.ipaddress",
 *     object_id: 7, address: "10.0.0.1/24", vrf: null, url: null, message: "m", related: [] }],
 * });
 * assert(csv.split("\n")[1] === "orphan-address,warning,ipam.ipaddress,7,10.0.0.1/24,,m,,");
 * ```
 */
export function renderAuditCsv(doc: AuditDoc): string {
  return csvStringify(
    doc.items.map((f) =>
      [
        f.rule,
        f.severity,
        f.object_type,
        String(f.object_id),
        f.address ?? "",
        f.vrf ?? "",
        f.message,
        f.url ?? "",
        related(f),
      ].map(neutralizeCsvCell)
    ),
    { header: true, columns: FINDING_COLUMNS },
  );
}

/**
 * One Markdown table cell: `\`, `|`, `<`, `[` and `]` backslash-escaped (no broken table, HTML
 * tag, link or image; the rendered text is the same), line feeds as spaces, other control
 * characters and bidi overrides shown visibly.
 */
function mdCell(text: string): string {
  return escapeControls(text.replace(/[\\|<[\]]/g, "\\$&").replace(/\n/g, " "));
}

/**
 * Renders the findings as Markdown: a summary, a count per rule, then a table per rule.
 *
 * @param doc The result document.
 * @returns The Markdown text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderAuditMarkdown } from "./report.ts";
 * const md = renderAuditMarkdown({
 *   netbox: { url: "http://nb", version: "4.7.3" },
 *   summary: { findings: 0, by_severity: {}, by_rule: {}, fail_on: "error", needs_attention: false,
 *     started_at: "2024-01-01T00:00:00Z", duration_ms: 1, analysed: {}, rules: [] },
 *   items: [],
 * });
 * assert(md.startsWith("# IP address audit"));
 * ```
 */
export function renderAuditMarkdown(doc: AuditDoc): string {
  const s = doc.summary;
  const out = [
    "# IP address audit",
    "",
    `NetBox ${mdCell(doc.netbox.url)} (${
      mdCell(doc.netbox.version ?? "unknown version")
    }), ${s.started_at}: ` +
    `**${severityLine(s)}**${mdCell(baselineLine(doc))}.`,
  ];
  const groups = grouped(doc.items);
  if (groups.length) {
    out.push("", "| Rule | Severity | Count |", "|---|---|---:|");
    for (const [rule, list] of groups) {
      out.push(
        `| ${rule} | ${[...new Set(list.map((f) => f.severity))].join("/")} | ${list.length} |`,
      );
    }
  }
  for (const [rule, list] of groups) {
    const description = AUDIT_RULES.find((r) => r.id === rule)?.description ?? "";
    out.push("", `## ${rule} (${list.length})`, "", mdCell(description), "");
    const tracked = list.some((f) => f.baseline !== undefined);
    out.push(
      `| Severity |${tracked ? " Since |" : ""} Address | VRF | Object | Message |`,
      `|---|${tracked ? "---|" : ""}---|---|---|---|`,
    );
    for (const f of list) {
      const object = f.url
        ? `[${f.object_type} ${f.object_id}](${f.url})`
        : `${f.object_type} ${f.object_id}`;
      out.push(
        `| ${f.severity} |${tracked ? ` ${since(f)} |` : ""} ${mdCell(f.address ?? "")} | ${
          mdCell(f.vrf ?? "")
        } | ${object} | ${mdCell(f.message)} |`,
      );
    }
  }
  if (doc.fixed?.length) {
    out.push("", `## Fixed since the last run (${doc.fixed.length})`, "");
    for (const f of doc.fixed) {
      out.push(`- ${f.rule}: ${f.object_type} ${f.object_id} — ${mdCell(f.message)}`);
    }
  }
  if (doc.forecast?.length) {
    out.push("", `## Exhaustion forecast (${doc.forecast.length})`, "");
    for (const f of doc.forecast) out.push(`- ${mdCell(forecastLine(f))}`);
  }
  return out.join("\n") + "\n";
}

function esc(text: unknown): string {
  return String(text ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}
.meta{color:#57606a;margin-bottom:16px}
.cards{display:flex;gap:12px;margin:12px 0 20px}
.card{border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;min-width:110px}
.card b{display:block;font-size:26px}
.error b{color:#cf222e}.warning b{color:#9a6700}.info b{color:#0969da}.ok b{color:#1a7f37}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border-bottom:1px solid #d8dee4;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.num{text-align:right}
.sev{font-weight:600;border-radius:10px;padding:0 8px;font-size:12px}
.sev-error{background:#ffebe9;color:#cf222e}.sev-warning{background:#fff8c5;color:#9a6700}
.sev-info{background:#ddf4ff;color:#0969da}
code{font-size:12px;color:#57606a}
.desc{color:#57606a;margin:0}
`;

/**
 * Renders one self-contained HTML page: a summary, a prefix-utilization chart (inline SVG),
 * the count per rule, and the findings per rule. No scripts, no external assets, no links that
 * load anything: NetBox URLs are printed as text.
 *
 * @param doc The result document.
 * @param usage Prefix utilization, highest first (the chart shows the top 25).
 * @param thresholds The warning and error thresholds drawn on the chart.
 * @returns The HTML text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderAuditHtml } from "./report.ts";
 * const html = renderAuditHtml({
 *   netbox: { url: "http://nb", version: "4.7.3" },
 *   summary: { findings: 0, by_severity: {}, by_rule: {}, fail_on: "error", needs_attention: false,
 *     started_at: "2024-01-01T00:00:00Z", duration_ms: 1, analysed: {}, rules: [] },
 *   items: [],
 * }, [{ id: 1, prefix: "10.0.0.0/24", vrf: null, utilization: 42, url: null }]);
 * assert(html.startsWith("<!DOCTYPE html>") && html.includes("<svg"));
 * ```
 */
export function renderAuditHtml(
  doc: AuditDoc,
  usage: PrefixUsage[],
  thresholds: { warning: number; error: number } = { warning: 80, error: 95 },
): string {
  const s = doc.summary;
  const cards = [
    `<div class="card ${s.findings ? "" : "ok"}"><b>${s.findings}</b>findings</div>`,
    ...(doc.fixed !== undefined
      ? [
        `<div class="card"><b>${doc.items.filter((f) => f.baseline === "new").length}</b>new</div>`,
        `<div class="card ok"><b>${doc.fixed.length}</b>fixed</div>`,
      ]
      : []),
    ...SEVERITIES.map((sev) =>
      `<div class="card ${sev}"><b>${s.by_severity[sev] ?? 0}</b>${sev}</div>`
    ),
    `<div class="card"><b>${s.analysed?.ip_addresses ?? 0}</b>addresses audited</div>`,
    `<div class="card"><b>${s.analysed?.prefixes ?? 0}</b>prefixes read</div>`,
  ].join("");
  const groups = grouped(doc.items);
  const ruleRows = groups.map(([rule, list]) =>
    `<tr><td><a href="#${esc(rule)}">${esc(rule)}</a></td><td>${
      esc([...new Set(list.map((f) => f.severity))].join("/"))
    }</td><td class="num">${list.length}</td></tr>`
  ).join("");
  const sections = groups.map(([rule, list]) => findingSection(rule, list)).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>IP address audit — ${esc(s.findings)} findings</title>
<style>${CSS}</style></head>
<body>
<h1>IP address audit</h1>
<div class="meta">NetBox <code>${esc(doc.netbox.url)}</code> ${esc(doc.netbox.version ?? "")} · ${
    esc(s.started_at)
  } · ${esc(s.duration_ms)} ms · fail-on ${esc(s.fail_on)}${
    s.needs_attention ? " · <b>needs attention</b>" : ""
  }</div>
<div class="cards">${cards}</div>
<h2>Prefix utilization</h2>
${utilizationChart(usage, thresholds)}
<h2>Findings by rule</h2>
${
    groups.length
      ? `<table><tr><th>Rule</th><th>Severity</th><th>Count</th></tr>${ruleRows}</table>`
      : "<p>No findings.</p>"
  }
${sections}
${
    doc.fixed?.length
      ? `<h2>Fixed since the last run (${doc.fixed.length})</h2><ul>${
        doc.fixed.map((f) =>
          `<li>${esc(f.rule)}: ${esc(f.object_type)} ${esc(f.object_id)} — ${esc(f.message)}</li>`
        ).join("")
      }</ul>`
      : ""
  }
${
    doc.forecast?.length
      ? `<h2>Exhaustion forecast</h2><ul>${
        doc.forecast.map((f) => `<li>${esc(forecastLine(f))}</li>`).join("")
      }</ul>`
      : ""
  }
</body></html>
`;
}

function findingSection(rule: string, list: Finding[]): string {
  const description = AUDIT_RULES.find((r) => r.id === rule)?.description ?? "";
  const rows = list.map((f) =>
    `<tr><td><span class="sev sev-${esc(f.severity)}">${esc(f.severity)}</span></td><td>${
      esc(f.address ?? "")
    }</td><td>${esc(f.vrf ?? "")}</td><td>${esc(f.object_type)} ${esc(f.object_id)}<br><code>${
      esc(f.url ?? "")
    }</code></td><td>${esc(f.message)}</td></tr>`
  ).join("\n");
  return `<h2 id="${esc(rule)}">${esc(rule)} (${list.length})</h2>
<p class="desc">${esc(description)}</p>
<table><tr><th>Severity</th><th>Address</th><th>VRF</th><th>Object</th><th>Message</th></tr>
${rows}</table>`;
}

/**
 * A horizontal bar chart (inline SVG) of the most utilized prefixes, with the thresholds
 * drawn as dashed lines.
 */
function utilizationChart(usage: PrefixUsage[], t: { warning: number; error: number }): string {
  const top = usage.slice(0, 25);
  if (top.length === 0) return "<p>No prefixes in scope.</p>";
  const names = top.map((u) => `${u.prefix}${u.vrf ? ` (${u.vrf})` : ""}`);
  // Room for the longest label (about 7 px per character at 12 px), within reason.
  const label = Math.min(440, Math.max(160, 12 + 7 * Math.max(...names.map((n) => n.length))));
  const bar = 600, row = 22, pad = 28;
  const width = label + bar + 70;
  const height = pad + top.length * row + 10;
  const x = (pct: number) => label + (bar * pct) / 100;
  const colour = (
    pct: number,
  ) => (pct >= t.error ? "#cf222e" : pct >= t.warning ? "#d4a72c" : "#2da44e");
  const bars = top.map((u, i) => {
    const y = pad + i * row;
    const name = names[i];
    return `<text x="${label - 8}" y="${y + 15}" text-anchor="end">${esc(name)}</text>` +
      `<rect x="${label}" y="${y + 3}" width="${bar}" height="${row - 6}" fill="#eaeef2"/>` +
      `<rect x="${label}" y="${y + 3}" width="${(bar * u.utilization) / 100}" height="${
        row - 6
      }" fill="${colour(u.utilization)}"/>` +
      `<text x="${x(100) + 6}" y="${y + 15}">${u.utilization}%</text>`;
  }).join("\n");
  const line = (pct: number, name: string) =>
    `<line x1="${x(pct)}" y1="${pad - 4}" x2="${x(pct)}" y2="${
      height - 6
    }" stroke="#57606a" stroke-dasharray="4 3"/>` +
    `<text x="${x(pct)}" y="${pad - 10}" text-anchor="middle">${name} ${pct}%</text>`;
  return `<svg role="img" aria-label="Prefix utilization" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui,sans-serif" font-size="12">
${bars}
${line(t.warning, "warning")}
${line(t.error, "error")}
</svg>
<p class="desc">The ${top.length} most utilized of ${usage.length} prefixes in scope.</p>`;
}

/**
 * The one-line summary of a run (what audit-ips prints to stderr, and per scheduled run).
 *
 * @param s the summary
 * @returns e.g. `audit-ips: 2026-12-02T06:00:00.000Z 3 findings (1 error, 2 warning, 0 info) in 812 ms`
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { auditSummaryLine } from "./report.ts";
 * const line = auditSummaryLine({
 *   findings: 1, by_severity: { error: 1, warning: 0, info: 0 }, by_rule: {}, fail_on: "error",
 *   needs_attention: true, started_at: "2026-12-02T06:00:00.000Z", duration_ms: 812, analysed: {}, rules: [],
 * });
 * assert(line === "audit-ips: 2026-12-02T06:00:00.000Z 1 finding (1 error, 0 warning, 0 info) in 812 ms; needs attention (fail-on error)");
 * ```
 */
export function auditSummaryLine(s: AuditSummary): string {
  const parts = SEVERITIES.map((sev) => `${s.by_severity[sev]} ${sev}`).join(", ");
  const b = s.baseline;
  const since = b ? `; ${b.new} new, ${b.persisting} persisting, ${b.fixed} fixed` : "";
  return `audit-ips: ${s.started_at} ${s.findings} finding${s.findings === 1 ? "" : "s"} ` +
    `(${parts})${since} in ${s.duration_ms} ms${
      s.needs_attention ? `; needs attention (fail-on ${s.fail_on})` : ""
    }`;
}
