/**
 * Rendering of result documents (table, JSON, YAML, CSV) and atomic `--output` files.
 *
 * Text from NetBox is made harmless where it is shown to people: table cells show control
 * characters and bidi overrides visibly ({@linkcode escapeControls}), CSV cells that a
 * spreadsheet would read as a formula get a leading `'` ({@linkcode neutralizeCsvCell}); JSON
 * and YAML stay exact.
 *
 * @module
 */

import { csvStringify, yamlStringify } from "../deps.ts";
import { escapeControls, neutralizeCsvCell } from "../base/safe_text.ts";

/** A rendered result document, the shape of every task's JSON/YAML output. */
export interface ResultDoc {
  netbox: { url: string; version: string | null; branch?: { name: string; url: string } };
  summary: Record<string, unknown>;
  items: Record<string, unknown>[];
  [extra: string]: unknown;
}

/**
 * Writes a file atomically: a temporary file in the same directory, then a rename. A new file is
 * created with mode 0600 (owner only: results name the network); a file that exists keeps its
 * mode. The temporary file is never more open than the result: it is created 0600 and given the
 * existing file's mode before the rename.
 *
 * @param path the destination
 * @param text the content, whole or in pieces (written as they come)
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { writeAtomic } from "./render.ts";
 * const dir = await Deno.makeTempDir();
 * await writeAtomic(`${dir}/out.json`, "{}\n");
 * assert(await Deno.readTextFile(`${dir}/out.json`) === "{}\n");
 * assert(Deno.build.os === "windows" || ((await Deno.stat(`${dir}/out.json`)).mode! & 0o777) === 0o600);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeAtomic(path: string, text: string | Iterable<string>): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  const tmp = `${dir}/.${path.slice(slash + 1)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const mode = await existingMode(path);
  let file: Deno.FsFile | undefined;
  try {
    // createNew: never write through something already at the temporary name (a symlink).
    file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      const encoder = new TextEncoder();
      for (const piece of typeof text === "string" ? [text] : text) {
        const bytes = encoder.encode(piece);
        for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
      }
    } finally {
      file.close();
    }
  } catch (err) {
    if (file) await Deno.remove(tmp).catch(() => {});
    // Name the file the user asked for, not our temporary sibling, in the permission hint.
    if (err instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(`Requires write access to "${path}" and its directory`);
    }
    throw err;
  }
  try {
    if (mode !== undefined && mode !== 0o600) await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** The permission bits of an existing file (undefined when there is none, and on Windows). */
async function existingMode(path: string): Promise<number | undefined> {
  if (Deno.build.os === "windows") return undefined;
  try {
    const mode = (await Deno.stat(path)).mode;
    // Permission bits only: setuid/setgid/sticky never carry over to new content.
    return mode === null ? undefined : mode & 0o777;
  } catch {
    // Missing (or not readable to us): a new file's mode, 0600, is the safe choice.
    return undefined;
  }
}

/**
 * Renders a result document in one of the common formats.
 *
 * @param doc the document
 * Table cells show control characters visibly; CSV cells starting with `=`, `+`, `-`, `@`, a tab
 * or a carriage return get a leading `'`; JSON and YAML are exact.
 *
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
 * const formula = renderDoc(
 *   { netbox: { url: "", version: null }, summary: {}, items: [{ a: "=1+1", b: -2 }] },
 *   "csv", ["a", "b"],
 * );
 * assert(formula === "a,b\n'=1+1,'-2\n");
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
      return csvStringify(
        doc.items.map((item) => columns.map((c) => neutralizeCsvCell(cellText(item[c])))),
        { header: true, columns },
      );
    default:
      return renderTable(doc.items, columns);
  }
}

/** Items stringified at a time by {@linkcode renderDocChunks}. */
const ITEMS_PER_CHUNK = 1000;

/**
 * Renders a result document like {@linkcode renderDoc}, in pieces: JSON comes out a thousand
 * items at a time (the same bytes as `JSON.stringify(doc, null, 2)`), so a result of a million
 * items never exists as one string; the other formats come out whole.
 *
 * @param doc the result document
 * @param format as for {@linkcode renderDoc}
 * @param columns as for {@linkcode renderDoc}
 * @param renderers as for {@linkcode renderDoc}
 * @returns the text's pieces, in order
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderDoc, renderDocChunks } from "./render.ts";
 * const doc = { netbox: { url: "", version: null }, summary: { n: 2 }, items: [{ a: 1 }, { a: [2] }] };
 * assert([...renderDocChunks(doc, "json", [])].join("") === renderDoc(doc, "json", []));
 * ```
 */
export function* renderDocChunks(
  doc: ResultDoc,
  format: string,
  columns: string[],
  renderers: Record<string, (doc: ResultDoc) => string> = {},
): Generator<string> {
  if (format !== "json" || renderers[format] || doc.items.length <= ITEMS_PER_CHUNK) {
    yield renderDoc(doc, format, columns, renderers);
    return;
  }
  // The document with a marker in place of its items (same key order), split at the marker.
  const marker = `\u0000items-${crypto.randomUUID()}`;
  const text = JSON.stringify({ ...doc, items: marker }, null, 2) + "\n";
  const at = text.indexOf(`\n  "items": ${JSON.stringify(marker)}`);
  const cut = at + `\n  "items": `.length;
  yield text.slice(0, cut) + "[\n";
  const { items } = doc;
  for (let i = 0; i < items.length; i += ITEMS_PER_CHUNK) {
    const piece = items.slice(i, i + ITEMS_PER_CHUNK).map((item) =>
      "    " + (JSON.stringify(item, null, 2) ?? "null").replaceAll("\n", "\n    ")
    );
    yield piece.join(",\n") + (i + ITEMS_PER_CHUNK < items.length ? ",\n" : "\n  ]");
  }
  yield text.slice(cut + JSON.stringify(marker).length);
}

/**
 * Renders items as an aligned text table. Control characters and bidi overrides in cells are
 * shown visibly (`\x1b`, `\u202e`; see {@linkcode escapeControls}).
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
 * assert(renderTable([{ a: "\x1b[2J" }], ["a"]) === "A\n\\x1b[2J\n");
 * ```
 */
export function renderTable(items: Record<string, unknown>[], columns: string[]): string {
  if (items.length === 0) return "";
  const rows = items.map((item) => columns.map((c) => escapeControls(cellText(item[c]))));
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
