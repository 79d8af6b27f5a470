/**
 * The benchmark's results document (JSON) and its Markdown rendering: the set-up, one table per
 * case (median, min–max, in-process time, peak RSS) and the ratios with their targets.
 *
 * @module
 */

import { fmtMs, median, type Sample } from "./_measure.ts";

/** One measured row. */
export interface Row {
  id: string;
  label: string;
  samples: Sample[];
  note?: string;
  /** RSS over the run in MB (the peak of equal time slices), shown as a sparkline. */
  rssMb?: number[];
}

const BLOCKS = "▁▂▃▄▅▆▇█";

/**
 * A sparkline of `values` in Unicode block characters, scaled from 0 to the largest value so a
 * flat series reads as a flat bar at its height (not as noise stretched over the full range).
 *
 * @example
 * ```ts
 * import { sparkline } from "./_report.ts";
 * sparkline([10, 20, 40, 80]); // "▁▂▄█"
 * ```
 */
export function sparkline(values: readonly number[]): string {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return "";
  const top = Math.max(...finite);
  return values.map((v) => {
    if (!Number.isFinite(v)) return " ";
    if (top <= 0) return BLOCKS[0];
    const i = Math.ceil((Math.max(0, v) / top) * BLOCKS.length) - 1;
    return BLOCKS[Math.min(BLOCKS.length - 1, Math.max(0, i))];
  }).join("");
}

/** "RSS over the run: ▃▅▆▆▆▆ 41–63 MB (last/first 1.20×)" — empty without a series. */
export function rssLine(series: readonly number[] | undefined): string {
  if (!series?.length) return "";
  const lo = Math.min(...series), hi = Math.max(...series);
  const half = series.slice(Math.floor(series.length / 2));
  const firstHalf = series.slice(0, Math.max(1, Math.floor(series.length / 2)));
  const growth = Math.max(...half) / Math.max(...firstHalf);
  return `RSS over the run: \`${sparkline(series)}\` ${lo}–${hi} MB (peak of the second half / ` +
    `first half ${growth.toFixed(2)}×)`;
}

/** A ratio (or an absolute figure) checked against a target. */
export interface Check {
  name: string;
  /** The measured value: a ratio, ms, MB or a count. */
  value: number;
  unit: "×" | "ms" | "MB" | "writes";
  /** The value must be at most this (`<=`) or below it (`<`); with `atLeast`, at least this. */
  target: number;
  strict?: boolean;
  /** The target is a minimum (`>=`), e.g. a throughput ratio. */
  atLeast?: boolean;
  /** Where the time goes when the target is missed (rendered under the targets). */
  note?: string;
}

/** The whole results document. */
export interface Results {
  date: string;
  command: string;
  reps: number;
  quick: boolean;
  setup: Record<string, string | number>;
  cases: { id: string; title: string; rows: Row[]; notes: string[] }[];
  checks: Check[];
  warnings: string[];
  duration_s: number;
}

/** Whether a check meets its target. */
export function passes(c: Check): boolean {
  if (!Number.isFinite(c.value)) return false;
  if (c.atLeast) return c.strict ? c.value > c.target : c.value >= c.target;
  return c.strict ? c.value < c.target : c.value <= c.target;
}

function fmtValue(v: number, unit: Check["unit"]): string {
  if (!Number.isFinite(v)) return "–";
  if (unit === "×") return `${v.toFixed(2)}×`;
  if (unit === "ms") return fmtMs(v);
  if (unit === "MB") return `${v.toFixed(0)} MB`;
  return String(v);
}

function span(values: number[]): string {
  if (values.length < 2) return "";
  return `${fmtMs(Math.min(...values))} – ${fmtMs(Math.max(...values))}`;
}

function rowLine(r: Row): string {
  const ms = r.samples.map((s) => s.ms);
  const inner = r.samples.map((s) => s.innerMs).filter((v): v is number => v !== undefined);
  const rss = r.samples.map((s) => s.rssMb).filter((v): v is number => v !== undefined);
  return `| ${r.label} | **${fmtMs(median(ms))}** | ${span(ms)} | ${
    inner.length ? fmtMs(median(inner)) : ""
  } | ${rss.length ? `${median(rss).toFixed(0)} MB` : ""} | ${
    [r.note, rssLine(r.rssMb)].filter(Boolean).join(" · ")
  } |`;
}

/** Renders the results as Markdown. */
export function renderMarkdown(res: Results): string {
  const out: string[] = [];
  out.push(`# netbox-toolkit benchmark — ${res.date}`, "");
  out.push(
    `\`${res.command}\` · ${res.reps} rep(s)${res.quick ? " (quick smoke run)" : ""} · ${
      Math.round(res.duration_s)
    } s in all`,
    "",
  );
  out.push("| set-up | |", "|---|---|");
  for (const [k, v] of Object.entries(res.setup)) out.push(`| ${k} | ${v} |`);
  out.push("");
  out.push(
    "Every figure is the **median** over the reps; the variants of a case run interleaved (each",
    "rep runs every variant once, the order rotated each rep). Each variant is its own process:",
    "the time is wall time from spawn to exit (start-up included, as a user sees it); the",
    "in-process column is the time the process measured itself after its imports.",
    "",
  );
  out.push("## Targets", "", "| check | measured | target | |", "|---|---|---|---|");
  for (const c of res.checks) {
    out.push(
      `| ${c.name} | ${fmtValue(c.value, c.unit)} | ${
        c.atLeast ? (c.strict ? ">" : "≥") : c.strict ? "<" : "≤"
      } ${fmtValue(c.target, c.unit)} | ${passes(c) ? "✅" : "❌"} |`,
    );
  }
  out.push("");
  const explained = res.checks.filter((c) => c.note);
  if (explained.length) {
    for (const c of explained) out.push(`- **${c.name}**: ${c.note}`);
    out.push("");
  }
  for (const c of res.cases) {
    out.push(`## ${c.title}`, "");
    out.push("| variant | median | min – max | in-process | peak RSS | note |");
    out.push("|---|---|---|---|---|---|");
    for (const r of c.rows) out.push(rowLine(r));
    out.push("");
    for (const n of c.notes) out.push(`- ${n}`);
    if (c.notes.length) out.push("");
  }
  if (res.warnings.length) {
    out.push("## Warnings", "");
    for (const w of res.warnings) out.push(`- ${w}`);
    out.push("");
  }
  return out.join("\n");
}
