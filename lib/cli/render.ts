/**
 * Rendering of result documents (table, JSON, YAML, CSV) and atomic `--output` files.
 *
 * @module
 */

import { csvStringify, yamlStringify } from "../deps.ts";

/** A rendered result document, the shape of every task's JSON/YAML output. */
export interface ResultDoc {
  netbox: { url: string; version: string | null };
  summary: Record<string, unknown>;
  items: Record<string, unknown>[];
  [extra: string]: unknown;
}

/**
 * Writes a file atomically: a temporary file in the same directory, then a rename.
 *
 * @param path the destination
 * @param text the content
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { writeAtomic } from "./render.ts";
 * const dir = await Deno.makeTempDir();
 * await writeAtomic(`${dir}/out.json`, "{}\n");
 * assert(await Deno.readTextFile(`${dir}/out.json`) === "{}\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  const tmp = `${dir}/.${path.slice(slash + 1)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
  } catch (err) {
    // Name the file the user asked for, not our temporary sibling, in the permission hint.
    if (err instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(`Requires write access to "${path}" and its directory`);
    }
    throw err;
  }
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/**
 * Renders a result document in one of the common formats.
 *
 * @param doc the document
 * @param format `table`, `json`, `yaml`, `csv`, or a key of `renderers`
 * @param columns the item fields shown in table and CSV output
 * @param renderers extra formats
 * @returns the text, ending with a newline
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderDoc } from "./render.ts";
 * const text = renderDoc(
 *   { netbox: { url: "http://127.0.0.1", version: "4.7.3" }, summary: {}, items: [{ a: 1, b: "x" }] },
 *   "csv", ["a", "b"],
 * );
 * assert(text === "a,b\n1,x\n");
 * ```
 */
export function renderDoc(
  doc: ResultDoc,
  format: string,
  columns: string[],
  renderers: Record<string, (doc: ResultDoc) => string> = {},
): string {
  const custom = renderers[format];
  if (custom) return custom(doc);
  switch (format) {
    case "json":
      return JSON.stringify(doc, null, 2) + "\n";
    case "yaml":
      return yamlStringify(doc, { noRefs: true, lineWidth: -1 });
    case "csv":
      return csvStringify(doc.items.map((item) => columns.map((c) => cellText(item[c]))), {
        header: true,
        columns,
      });
    default:
      return renderTable(doc.items, columns);
  }
}

/**
 * Renders items as an aligned text table.
 *
 * @param items the rows
 * @param columns the fields to show, in order
 * @returns the table text (empty string for no items)
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderTable } from "./render.ts";
 * assert(renderTable([{ a: "x", b: 10 }], ["a", "b"]) === "A  B\nx  10\n");
 * ```
 */
export function renderTable(items: Record<string, unknown>[], columns: string[]): string {
  if (items.length === 0) return "";
  const rows = items.map((item) => columns.map((c) => cellText(item[c])));
  const head = columns.map((c) => c.toUpperCase());
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(cellText).join(",");
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    return String(o.display ?? o.name ?? o.address ?? o.value ?? JSON.stringify(o));
  }
  return String(value);
}
