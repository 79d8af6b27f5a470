/**
 * Child process of the audit case: the audit-ips pipeline in-process with a stopwatch on each
 * part — fetch (`fetchAuditData`, every listing), analysis (`analyzeAudit`), rendering the JSON
 * document — and the peak RSS sampled every 20 ms. Prints
 * `{"fetch_ms", "analysis_ms", "render_ms", "total_ms", "peak_rss_mb", "ips", "prefixes", "findings"}`.
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=NETBOX_TOKEN bench/_audit_probe.ts URL`
 *
 * @module
 */

import { createClient } from "../mod.ts";
import { fetchAuditData } from "../lib/audit/data.ts";
import { analyzeAudit } from "../lib/audit/analyze.ts";
import { defaultAuditConfig } from "../lib/audit/rules.ts";

if (Deno.args[0] === "--warm") Deno.exit(0); // only load the modules (cache warm-up)

const [url] = Deno.args;
let peak = Deno.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, Deno.memoryUsage().rss);
}, 20);
const client = createClient({ url, token: Deno.env.get("NETBOX_TOKEN") ?? "", timeoutMs: 600_000 });
try {
  const t0 = performance.now();
  const data = await fetchAuditData(client);
  const t1 = performance.now();
  const result = analyzeAudit(data, defaultAuditConfig());
  const t2 = performance.now();
  const text = JSON.stringify({ summary: {}, items: result.findings }, null, 2);
  const t3 = performance.now();
  peak = Math.max(peak, Deno.memoryUsage().rss);
  console.log(JSON.stringify({
    fetch_ms: Math.round(t1 - t0),
    analysis_ms: Math.round(t2 - t1),
    render_ms: Math.round(t3 - t2),
    total_ms: Math.round(t3 - t0),
    peak_rss_mb: Math.round(peak / 1048576),
    ips: data.ips.length,
    prefixes: data.prefixes.length,
    findings: result.findings.length,
    bytes: text.length,
  }));
} finally {
  clearInterval(sampler);
  client.close();
}
