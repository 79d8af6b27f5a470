/**
 * Runs `audit-ips`' own `main()` in-process against an in-memory NetBox that serves the scale
 * bench's layout (`bench/scale_seed.ts`: N addresses, N/10 prefixes, 10 VRFs) as NetBox 4.7
 * JSON pages, so the client's work after the fetch (analysis and rendering) can be profiled in
 * seconds instead of the real server's minutes. The real figures come from `deno task bench
 * --scale`; this is the tool for working on them.
 *
 * `deno run -A bench/_audit_offline.ts [N=1000000] [audit-ips flags…]` prints one JSON line:
 * `fetch_ms`, `after_fetch_ms`, `peak_rss_mb`, `stdout_bytes`, `code`.
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { main } from "../tasks/audit-ips.ts";
import { OFFLINE_URL, offlineFetch } from "./_audit_offline_fetch.ts";

const n = Number(Deno.args[0] ?? 1_000_000);
const flags = Deno.args.length > 1 ? Deno.args.slice(1) : ["--format", "json"];
let fetchEnd = 0;
const fake = offlineFetch(n, () => (fetchEnd = performance.now()));
const BASE = OFFLINE_URL;

let peak = Deno.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 20);
let stdoutBytes = 0;
const io: TaskIO = {
  ...defaultIO(),
  env: (name) => ({ NETBOX_URL: BASE, NETBOX_TOKEN: "nbt_offline0000.offlinesecret" })[name],
  stdout: (text) =>
    void (stdoutBytes += text.length, Deno.env.get("SHOW") && console.error(text.slice(0, 1500))),
  stderr: (text) => void (Deno.env.get("SHOW") && console.error(text)),

  fetch: fake,
};
const t0 = performance.now();
const code = await main(flags, io);
const ms = performance.now() - t0;
clearInterval(sampler);
console.log(JSON.stringify({
  n,
  code,
  fetch_ms: Math.round(fetchEnd - t0),
  after_fetch_ms: Math.round(ms - (fetchEnd - t0)),
  peak_rss_mb: Math.round(Math.max(peak, Deno.memoryUsage().rss) / 1048576),
  stdout_bytes: stdoutBytes,
}));
Deno.exit(0);
