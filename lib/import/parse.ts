/**
 * Parsing of bulk-import input (YAML, JSON, CSV) into sections of entries that remember where in
 * the source each entry and each field came from, so every later problem can be reported as
 * `file:line:column: reason`.
 *
 * @module
 */

import { csvParse, yamlParse, yamlParseEvents, yamlScalarValue } from "../deps.ts";
import { InputError } from "../client/errors.ts";

/** A position in an input file; line and column are 1-based. */
export interface SourceLoc {
  /** The file name as given (`<stdin>` for standard input). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** One object of the input with the positions of its fields. */
export interface ImportEntry {
  /** Where the object starts. */
  loc: SourceLoc;
  /** The object as written (CSV: dotted headers already nested). */
  data: Record<string, unknown>;
  /**
   * Positions by dotted path (`"status"`, `"tags.1"`, `"interface.device"`): `key` is where a
   * mapping key is written, `value` where its value starts.
   */
  locs: Record<string, { key?: SourceLoc; value: SourceLoc }>;
}

/** The objects given under one top-level key (`sites:`), or one CSV file. */
export interface ImportSection {
  /** The key as written (`"sites"`, `"dcim.sites"`, `"dcim/sites"`). */
  key: string;
  /** Where the key (or the CSV header) is written. */
  loc: SourceLoc;
  /** The objects, in input order. */
  entries: ImportEntry[];
}

/** One problem found in the input. */
export interface ImportProblem {
  /** Where the problem is. */
  loc: SourceLoc;
  /** What is wrong and what was expected. */
  message: string;
}

/**
 * The input is invalid; `problems` lists every problem found, each with its position.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { ImportInputError } from "./parse.ts";
 * const err = new ImportInputError([{ loc: { file: "a.yaml", line: 2, column: 3 }, message: "unknown field \"x\"" }]);
 * assert(err.message.includes("a.yaml:2:3"));
 * ```
 */
export class ImportInputError extends InputError {
  /** Every problem, in input order. */
  readonly problems: ImportProblem[];
  /** Creates the error. */
  constructor(problems: ImportProblem[]) {
    super(`Cannot import: ${problems.map(formatProblem).join("; ")}`);
    this.problems = problems;
  }
}

/**
 * Formats a problem as `file:line:column: message`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { formatProblem } from "./parse.ts";
 * assert(formatProblem({ loc: { file: "a.csv", line: 4, column: 1 }, message: "bad" }) === "a.csv:4:1: bad");
 * ```
 */
export function formatProblem(p: ImportProblem): string {
  return `${p.loc.file}:${p.loc.line}:${p.loc.column}: ${p.message}`;
}

/** The input formats. */
export type InputFormat = "yaml" | "json" | "csv";

/**
 * The format of a file from its extension (`.yml`/`.yaml`, `.json`, `.csv`), or undefined.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { formatFromPath } from "./parse.ts";
 * assert(formatFromPath("inv/sites.CSV") === "csv");
 * assert(formatFromPath("-") === undefined);
 * ```
 */
export function formatFromPath(path: string): InputFormat | undefined {
  const m = /\.([A-Za-z]+)$/.exec(path);
  const ext = m?.[1].toLowerCase();
  if (ext === "yml" || ext === "yaml") return "yaml";
  if (ext === "json") return "json";
  if (ext === "csv") return "csv";
  return undefined;
}

/** Options of {@linkcode parseImport}. */
export interface ParseImportOptions {
  /** The file name used in positions. */
  file: string;
  /** The input format. */
  format: InputFormat;
  /** CSV only: the model key every row belongs to (`--model`). */
  model?: string;
}

/**
 * Parses one input file into sections of entries with source positions.
 *
 * @param text The file's contents.
 * @param options File name, format, and (CSV) model.
 * @returns The sections in file order.
 * @throws {ImportInputError} When the text is not valid YAML/JSON/CSV or not shaped as
 *   `{model: [objects]}`.
 *
 * @example Parsing YAML
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseImport } from "./parse.ts";
 * const [s] = parseImport("sites:\n  - name: Matrix\n    slug: matrix\n", { file: "a.yaml", format: "yaml" });
 * assert(s.key === "sites" && s.entries[0].data.slug === "matrix");
 * assert(s.entries[0].locs.slug.key?.line === 3);
 * ```
 */
export function parseImport(text: string, options: ParseImportOptions): ImportSection[] {
  if (options.format === "csv") {
    if (!options.model) {
      throw new ImportInputError([{
        loc: { file: options.file, line: 1, column: 1 },
        message: "a CSV file needs --model (e.g. --model dcim.sites)",
      }]);
    }
    return [parseCsv(text, options.file, options.model)];
  }
  if (options.format === "json") checkJson(text, options.file);
  return parseYamlLike(text, options.file);
}

// ---------------------------------------------------------------------------------------------
// positions

/** Maps character offsets to 1-based line/column. */
class LineIndex {
  readonly #starts: number[] = [0];
  constructor(readonly file: string, text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.#starts.push(i + 1);
  }
  at(offset: number): SourceLoc {
    let lo = 0, hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, column: offset - this.#starts[lo] + 1 };
  }
}

/** A node of the position tree built from js-yaml's event stream. */
type PosNode =
  | { kind: "scalar"; start: number; text: string }
  | { kind: "seq"; start: number; items: PosNode[] }
  | { kind: "map"; start: number; items: { key: PosNode; value: PosNode }[] }
  | { kind: "alias"; start: number };

const EV_SEQUENCE = 2, EV_MAPPING = 3, EV_SCALAR = 4, EV_ALIAS = 5, EV_POP = 6;

/** Builds the position tree of the first document (undefined for an empty one). */
function positionTree(text: string): PosNode | undefined {
  // deno-lint-ignore no-explicit-any
  const events = yamlParseEvents(text, {}) as any[];
  let i = 0;
  const read = (): PosNode | undefined => {
    const ev = events[i++];
    if (!ev) return undefined;
    const start = (off: number) => (ev.anchorStart >= 0 ? Math.min(off, ev.anchorStart) : off);
    if (ev.type === EV_SCALAR) {
      const quoted = ev.style === 2 || ev.style === 3;
      const s = quoted ? ev.valueStart - 1 : ev.valueStart;
      return { kind: "scalar", start: start(s), text: yamlScalarValue(text, ev) };
    }
    if (ev.type === EV_ALIAS) return { kind: "alias", start: ev.anchorStart - 1 };
    if (ev.type === EV_SEQUENCE) {
      const items: PosNode[] = [];
      while (events[i] && events[i].type !== EV_POP) items.push(read()!);
      i++;
      return { kind: "seq", start: start(ev.start), items };
    }
    if (ev.type === EV_MAPPING) {
      const items: { key: PosNode; value: PosNode }[] = [];
      while (events[i] && events[i].type !== EV_POP) {
        const key = read()!;
        const value = read()!;
        items.push({ key, value });
      }
      i++;
      return { kind: "map", start: start(ev.start), items };
    }
    return read(); // document start: descend to its content
  };
  return read();
}

/**
 * Where each item of a YAML/JSON list starts: the items of the top-level list, or with `key`, of
 * the list under that top-level key. The same position reader {@linkcode parseImport} uses, for
 * other readers of list files (a task's batch rows).
 *
 * @param text The file's contents (valid YAML or JSON; invalid text throws js-yaml's error).
 * @param file The file name put into the positions.
 * @param key A top-level key whose value is the list (e.g. `"rows"`); omitted: the document
 *   itself is the list.
 * @returns The start of every item, in order; `undefined` when there is no such list.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { listItemLocs } from "./parse.ts";
 * const top = listItemLocs("# rows\n- vm: a\n  address: 10.0.0.1/24\n- vm: b\n", "rows.yaml");
 * assert(top?.map((l) => l.line).join() === "2,4");
 * const under = listItemLocs('{"rows": [\n  {"vm": "a"},\n  {"vm": "b"}\n]}', "rows.json", "rows");
 * assert(under?.map((l) => `${l.line}:${l.column}`).join() === "2:3,3:3");
 * assert(listItemLocs("rows: 3\n", "rows.yaml", "rows") === undefined);
 * ```
 */
export function listItemLocs(text: string, file: string, key?: string): SourceLoc[] | undefined {
  let node = positionTree(text);
  if (key !== undefined) {
    node = node?.kind === "map"
      ? node.items.find((i) => i.key.kind === "scalar" && i.key.text === key)?.value
      : undefined;
  }
  if (node?.kind !== "seq") return undefined;
  const idx = new LineIndex(file, text);
  return node.items.map((item) => idx.at(item.start));
}

/** Records positions of every nested value of `node` under dotted `path`. */
function collectLocs(
  node: PosNode,
  path: string,
  idx: LineIndex,
  out: ImportEntry["locs"],
  keyLoc?: SourceLoc,
): void {
  if (path) out[path] = { key: keyLoc, value: idx.at(node.start) };
  const prefix = path ? path + "." : "";
  if (node.kind === "map") {
    for (const { key, value } of node.items) {
      if (key.kind !== "scalar") continue;
      collectLocs(value, prefix + key.text, idx, out, idx.at(key.start));
    }
  } else if (node.kind === "seq") {
    node.items.forEach((item, n) => collectLocs(item, prefix + n, idx, out));
  }
}

// ---------------------------------------------------------------------------------------------
// YAML / JSON

function yamlProblem(err: unknown, file: string): ImportProblem {
  // deno-lint-ignore no-explicit-any
  const e = err as any;
  const line = typeof e?.mark?.line === "number" ? e.mark.line + 1 : 1;
  const column = typeof e?.mark?.column === "number" ? e.mark.column + 1 : 1;
  const reason = String(e?.reason ?? e?.message ?? err);
  return { loc: { file, line, column }, message: `invalid YAML: ${reason}` };
}

/** JSON.parse gives the exact message JSON users expect; positions come from the YAML pass. */
function checkJson(text: string, file: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const lc = /\(line (\d+) column (\d+)\)/.exec(msg);
    let loc: SourceLoc = { file, line: 1, column: 1 };
    if (lc) loc = { file, line: Number(lc[1]), column: Number(lc[2]) };
    else {
      const pos = /at position (\d+)/.exec(msg);
      if (pos) loc = new LineIndex(file, text).at(Number(pos[1]));
    }
    const reason = msg.replace(/\s*\(line \d+ column \d+\)/, "").replace(
      / in JSON at position \d+/,
      "",
    );
    throw new ImportInputError([{ loc, message: `invalid JSON: ${reason}` }]);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseYamlLike(text: string, file: string): ImportSection[] {
  const idx = new LineIndex(file, text);
  let doc: unknown;
  let tree: PosNode | undefined;
  try {
    doc = text.trim() === "" ? null : yamlParse(text);
    tree = doc === null ? undefined : positionTree(text);
  } catch (err) {
    throw new ImportInputError([yamlProblem(err, file)]);
  }
  const top: SourceLoc = { file, line: 1, column: 1 };
  if (doc === null || doc === undefined) return [];
  if (!isPlainObject(doc) || tree?.kind !== "map") {
    throw new ImportInputError([{
      loc: top,
      message: 'expected a mapping from model (e.g. "sites") to a list of objects',
    }]);
  }
  const problems: ImportProblem[] = [];
  const sections: ImportSection[] = [];
  for (const { key, value } of tree.items) {
    if (key.kind !== "scalar") continue;
    const name = key.text;
    const list = doc[name];
    const loc = idx.at(key.start);
    if (list === null || list === undefined) {
      sections.push({ key: name, loc, entries: [] });
      continue;
    }
    if (!Array.isArray(list) || value.kind !== "seq") {
      problems.push({ loc: idx.at(value.start), message: `"${name}" must be a list of objects` });
      continue;
    }
    const entries: ImportEntry[] = [];
    list.forEach((item, n) => {
      const node = value.items[n];
      const at = idx.at(node?.start ?? value.start);
      if (!isPlainObject(item) || node?.kind !== "map") {
        problems.push({ loc: at, message: `item ${n + 1} of "${name}" must be an object` });
        return;
      }
      const locs: ImportEntry["locs"] = {};
      collectLocs(node, "", idx, locs);
      entries.push({ loc: at, data: item, locs });
    });
    sections.push({ key: name, loc, entries });
  }
  if (problems.length) throw new ImportInputError(problems);
  return sections;
}

// ---------------------------------------------------------------------------------------------
// CSV

/** Start columns (1-based) of each field of a single-line CSV record. */
function fieldColumns(raw: string): number[] {
  const cols = [1];
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) cols.push(i + 2);
    else if (c === "\n" || c === "\r") break;
  }
  return cols;
}

/** Splits `a, b,c` into trimmed non-empty parts. */
function splitList(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function setDotted(target: Record<string, unknown>, path: string[], value: unknown): void {
  let obj = target;
  for (const part of path.slice(0, -1)) {
    if (!isPlainObject(obj[part])) obj[part] = {};
    obj = obj[part] as Record<string, unknown>;
  }
  obj[path[path.length - 1]] = value;
}

/**
 * The line a CSV record starts on, from csv-parse's `info` and `raw` (`info.lines` is the line it
 * ends on, which differs for quoted fields that span lines). The one owner of CSV positions.
 *
 * @param row a record parsed with `{ info: true, raw: true }`
 * @returns the 1-based line
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { csvParse } from "../deps.ts";
 * import { csvStartLine } from "./parse.ts";
 * const rows = csvParse('a,b\n1,"x\ny"\n\n2,z\n', {
 *   info: true, raw: true, skip_empty_lines: true,
 * }) as unknown as { info: { lines: number }; raw: string }[];
 * assert(rows.map(csvStartLine).join() === "1,2,5");
 * ```
 */
export function csvStartLine(row: { info: { lines: number }; raw: string }): number {
  // `raw` also holds the empty lines skipped before the record: they are not part of it.
  const record = String(row.raw).replace(/^(\r?\n)+/, "");
  return row.info.lines - (record.match(/\n(?!$)/g)?.length ?? 0);
}

function parseCsv(text: string, file: string, model: string): ImportSection {
  // deno-lint-ignore no-explicit-any
  let rows: any[];
  try {
    rows = csvParse(text.replace(/^\uFEFF/, ""), {
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: true,
    });
  } catch (err) {
    // deno-lint-ignore no-explicit-any
    const e = err as any;
    const line = typeof e?.lines === "number" ? e.lines : 1;
    throw new ImportInputError([{
      loc: { file, line, column: 1 },
      message: `invalid CSV: ${String(e?.message ?? err).replace(/^Invalid [^:]*: /, "")}`,
    }]);
  }
  const top: SourceLoc = { file, line: 1, column: 1 };
  if (rows.length === 0) return { key: model, loc: top, entries: [] };
  const header: string[] = rows[0].record.map((h: string) => h.trim());
  const headerCols = fieldColumns(rows[0].raw);
  const problems: ImportProblem[] = [];
  header.forEach((h, n) => {
    const loc = { file, line: rows[0].info.lines, column: headerCols[n] ?? 1 };
    if (h === "") problems.push({ loc, message: `column ${n + 1} has an empty header` });
    else if (header.indexOf(h) !== n) problems.push({ loc, message: `duplicate column "${h}"` });
  });
  const entries: ImportEntry[] = [];
  for (const row of rows.slice(1)) {
    const line = csvStartLine(row);
    const cols = fieldColumns(row.raw);
    const cells: string[] = row.record;
    const at = (n: number): SourceLoc => ({ file, line, column: cols[n] ?? 1 });
    if (cells.length !== header.length) {
      problems.push({
        loc: at(Math.min(cells.length, header.length) - 1),
        message: `row has ${cells.length} fields but the header has ${header.length}`,
      });
      continue;
    }
    const data: Record<string, unknown> = {};
    const locs: ImportEntry["locs"] = {};
    header.forEach((h, n) => {
      const cell = cells[n].trim();
      if (cell === "" || h === "") return; // an empty cell leaves the field alone
      const path = h.split(".");
      const value = path[0] === "tags" || path[0] === "_match" ? splitList(cell) : cell;
      setDotted(data, path, value);
      for (let k = 1; k <= path.length; k++) {
        locs[path.slice(0, k).join(".")] ??= { key: at(n), value: at(n) };
      }
      if (Array.isArray(value)) value.forEach((_, m) => (locs[`${h}.${m}`] = { value: at(n) }));
    });
    entries.push({ loc: at(0), data, locs });
  }
  if (problems.length) throw new ImportInputError(problems);
  return { key: model, loc: top, entries };
}
