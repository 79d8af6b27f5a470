/**
 * Batch files of the tasks: a YAML or JSON list of records (or a mapping with the list under one
 * key, `rows:`), or CSV with a header line; every record remembers the line it starts on, so a
 * bad row is reported as `file:line: reason`. YAML/JSON positions come from
 * `lib/import/parse.ts`, the one reader of source positions. And the files of an import, read
 * into the documents `lib/import` plans.
 *
 * @module
 */

import { csvParse, yamlParse } from "../deps.ts";
import { csvStartLine, formatFromPath, type InputFormat, listItemLocs } from "../import/parse.ts";
import type { ImportDocument } from "../import/import.ts";
import { UsageError } from "./exit.ts";

/** Options of {@linkcode readRecords}. */
export interface ReadRecordsOptions {
  /** The top-level key a YAML/JSON mapping may hold the list under. @default {"rows"} */
  key?: string;
}

/**
 * Reads a batch file into items: a YAML or JSON list of records (or a mapping with the list under
 * `key`), or CSV with a header line (by the `.csv` extension; `-` and others are read as
 * YAML/JSON). Each record is turned into an item by `toItem`, which throws an `Error` whose
 * message says what is wrong with it; every such problem is collected with its line.
 *
 * @param text The file's contents.
 * @param file The file name, for messages (its extension picks CSV).
 * @param toItem Turns one record (and the line it starts on) into an item; throws to reject it.
 * @param options The key of the list inside a mapping.
 * @returns The items, in file order.
 * @throws {UsageError} `Cannot read <file>: …` for syntax errors, a document that is no list, no
 *   records, or records `toItem` rejects (`<file>:<line>: <reason>`, all of them).
 *
 * @example
 * ```ts
 * import { ok as assert, throws } from "node:assert/strict";
 * import { readRecords } from "./records.ts";
 * const lines = (text: string, file: string) =>
 *   readRecords(text, file, (_record, line) => line).join();
 * assert(lines("vm,address\na,10.0.0.1/24\n\nb,10.0.0.2/24\n", "x.csv") === "2,4");
 * assert(lines("rows:\n  - vm: a\n  - vm: b\n", "x.yaml") === "2,3");
 * throws(
 *   () => readRecords("- vm: a\n- 7\n", "x.yaml", (r) => {
 *     if (typeof r !== "object") throw new Error("a row must be a mapping");
 *     return r;
 *   }),
 *   /x\.yaml:2: a row must be a mapping/,
 * );
 * ```
 */
export function readRecords<T>(
  text: string,
  file: string,
  toItem: (record: unknown, line: number) => T,
  options: ReadRecordsOptions = {},
): T[] {
  const key = options.key ?? "rows";
  const problems: string[] = [];
  const items: T[] = [];
  const add = (record: unknown, line: number) => {
    try {
      items.push(toItem(record, line));
    } catch (err) {
      problems.push(`${file}:${line}: ${(err as Error).message}`);
    }
  };
  if (/\.csv$/i.test(file)) {
    let records: { record: Record<string, string>; info: { lines: number }; raw: string }[];
    try {
      records = csvParse(text, {
        columns: true,
        skip_empty_lines: true,
        trim: true,
        info: true,
        raw: true,
      }) as typeof records;
    } catch (err) {
      throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
    }
    for (const row of records) add(row.record, csvStartLine(row));
  } else {
    let doc: unknown;
    let locs: { line: number }[] | undefined;
    try {
      doc = yamlParse(text);
      locs = listItemLocs(text, file);
    } catch (err) {
      throw new UsageError(`Cannot read ${file}: ${(err as Error).message.split("\n")[0]}`);
    }
    let list: unknown[];
    if (Array.isArray(doc)) {
      list = doc;
    } else if (
      doc && typeof doc === "object" && Array.isArray((doc as Record<string, unknown>)[key])
    ) {
      list = (doc as Record<string, unknown[]>)[key];
      locs = listItemLocs(text, file, key);
    } else {
      throw new UsageError(`Cannot read ${file}: expected a list of ${key} (or ${key}: [...])`);
    }
    list.forEach((record, i) => add(record, locs?.[i]?.line ?? i + 1));
  }
  if (problems.length) throw new UsageError(`Cannot read ${file}: ${problems.join("; ")}`);
  if (items.length === 0) throw new UsageError(`Cannot read ${file}: no ${key}`);
  return items;
}

/**
 * A yes/no field of a record: a boolean, or `true`/`yes`/`1`/`y` and `false`/`no`/`0`/`n`/empty
 * in any case.
 *
 * @param value The value as read.
 * @param what The field's name, for the message.
 * @returns The boolean.
 * @throws {Error} `<what>: expected true or false, got "<value>"`.
 *
 * @example
 * ```ts
 * import { ok as assert, throws } from "node:assert/strict";
 * import { fieldBoolean } from "./records.ts";
 * assert(fieldBoolean("Yes", "oob") === true && fieldBoolean("", "oob") === false);
 * throws(() => fieldBoolean("maybe", "oob"), /oob: expected true or false/);
 * ```
 */
export function fieldBoolean(value: unknown, what: string): boolean {
  if (typeof value === "boolean") return value;
  const text = String(value ?? "").trim().toLowerCase();
  if (["", "false", "no", "0", "n"].includes(text)) return false;
  if (["true", "yes", "1", "y"].includes(text)) return true;
  throw new Error(`${what}: expected true or false, got "${value}"`);
}

/**
 * A positive integer field of a record or flag (a number, or its digits as text).
 *
 * @param value The value as read.
 * @param what The field or flag, for the message.
 * @returns The integer.
 * @throws {Error} `<what>: expected a positive integer`.
 *
 * @example
 * ```ts
 * import { ok as assert, throws } from "node:assert/strict";
 * import { fieldPositiveInt } from "./records.ts";
 * assert(fieldPositiveInt(" 12 ", "vm_id") === 12);
 * throws(() => fieldPositiveInt("0", "--vm-id"), /--vm-id: expected a positive integer/);
 * ```
 */
export function fieldPositiveInt(value: unknown, what: string): number {
  const n = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: expected a positive integer`);
  return n;
}

/** Options of {@linkcode readImportFiles}. */
export interface ReadImportFilesOptions {
  /** The format of every file (`--input-format`). @default by each file's extension */
  format?: InputFormat;
  /** CSV: the model of every row (`--model`). @default from each file's name */
  model?: string;
}

/**
 * Reads the files of an import (`-` is standard input) into the documents `lib/import` plans,
 * in one pass down: the format is known (or refused) before a file is read.
 *
 * @param paths the files, in order
 * @param read reads one file (`TaskContext.readInput`: unreadable → UsageError)
 * @param options `--input-format` and `--model`
 * @returns one document per file
 * @throws {UsageError} `Cannot read <file>: unknown format…` for a file whose format is not known
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { readImportFiles } from "./records.ts";
 * const docs = await readImportFiles(["-"], () => Promise.resolve("[]"), { format: "json" });
 * assert(docs[0].file === "<stdin>" && docs[0].format === "json");
 * ```
 */
export async function readImportFiles(
  paths: readonly string[],
  read: (path: string) => Promise<string>,
  options: ReadImportFilesOptions = {},
): Promise<ImportDocument[]> {
  const documents: ImportDocument[] = [];
  for (const path of paths) {
    const format = options.format ?? formatFromPath(path);
    if (!format) {
      throw new UsageError(
        `Cannot read ${path}: unknown format; name it .yaml/.json/.csv or pass --input-format`,
      );
    }
    const text = await read(path);
    const file = path === "-" ? "<stdin>" : path;
    documents.push({ text, file, format, model: format === "csv" ? options.model : undefined });
  }
  return documents;
}
