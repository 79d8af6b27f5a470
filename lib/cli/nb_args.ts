/**
 * The words of `nb <model> <verb> …`: field values (`status=offline`, `site.slug=matrix`,
 * `vid=10`, `tags='[{"name":"prod"}]'`), filters (`site=matrix`, repeated keys OR'ed), ids, and
 * the records of a JSON/YAML/CSV/NDJSON file or standard input.
 *
 * The value rule, one for arguments and CSV cells alike: a value that parses as JSON is that JSON
 * (`10`, `true`, `null`, `[1,2]`, `{"slug":"matrix"}`, `"007"` for the text 007), anything else
 * is text. A dotted key builds a dict: `site.slug=matrix` sends `{"site": {"slug": "matrix"}}`,
 * `custom_fields.owner=ops` one custom field. Filters are always text (they go in the URL).
 *
 * @module
 */

import { UsageError } from "./exit.ts";
import { readRecords } from "./records.ts";
import type { Filters } from "../client/types.ts";

/**
 * One value as the rule says: JSON when it parses, else the text.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseValue } from "./nb_args.ts";
 * deepEqual([parseValue("10"), parseValue("true"), parseValue("null"), parseValue("matrix")], [10, true, null, "matrix"]);
 * deepEqual(parseValue('"007"'), "007");
 * deepEqual(parseValue('[{"name":"prod"}]'), [{ name: "prod" }]);
 * ```
 */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Sets `key` (dotted: nested dicts) to `value` in `target`. */
function setPath(target: Record<string, unknown>, key: string, value: unknown, what: string) {
  const parts = key.split(".");
  if (parts.some((p) => p === "")) throw new UsageError(`Cannot parse ${what}: empty field name`);
  let at = target;
  for (const part of parts.slice(0, -1)) {
    const next = at[part];
    if (next === undefined) at = (at[part] = {}) as Record<string, unknown>;
    else if (typeof next === "object" && next !== null && !Array.isArray(next)) {
      at = next as Record<string, unknown>;
    } else throw new UsageError(`Cannot parse ${what}: ${part} is given twice`);
  }
  const last = parts.at(-1)!;
  if (last in at) throw new UsageError(`Cannot parse ${what}: ${key} is given twice`);
  at[last] = value;
}

/**
 * `key=value` words as the fields of a write (values by the rule, dotted keys as dicts).
 *
 * @param words the words
 * @returns the fields
 * @throws {UsageError} For a word without `key=` or a key given twice.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseFields } from "./nb_args.ts";
 * deepEqual(parseFields(["status=offline", "site.slug=matrix", "vid=10"]), {
 *   status: "offline", site: { slug: "matrix" }, vid: 10,
 * });
 * ```
 */
export function parseFields(words: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`Cannot parse "${word}": expected field=value (e.g. status=active)`);
    }
    setPath(out, word.slice(0, eq), parseValue(word.slice(eq + 1)), `"${word}"`);
  }
  return out;
}

/**
 * `key=value` words as filters: text values, a repeated key a list (NetBox ORs it).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseFilterWords } from "./nb_args.ts";
 * deepEqual(parseFilterWords(["status=active", "status=planned", "site=matrix"]), {
 *   status: ["active", "planned"], site: "matrix",
 * });
 * ```
 */
export function parseFilterWords(words: readonly string[]): Filters {
  const out: Record<string, string[]> = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`Cannot parse filter "${word}": expected name=value (e.g. site=matrix)`);
    }
    (out[word.slice(0, eq)] ??= []).push(word.slice(eq + 1));
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
}

/**
 * Splits words into leading ids and the rest (`12 13 status=offline` → `[12, 13]`,
 * `["status=offline"]`).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { splitIds } from "./nb_args.ts";
 * deepEqual(splitIds(["12", "13", "status=offline"]), { ids: [12, 13], rest: ["status=offline"] });
 * ```
 */
export function splitIds(words: readonly string[]): { ids: number[]; rest: string[] } {
  let n = 0;
  while (n < words.length && /^\d+$/.test(words[n])) n++;
  const ids = words.slice(0, n).map(Number);
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id < 1) {
      throw new UsageError(`Cannot parse id "${id}": expected a positive whole number`);
    }
  }
  return { ids, rest: words.slice(n) };
}

/** The input formats of `--file`. */
export const RECORD_FORMATS = ["json", "yaml", "csv", "ndjson"] as const;

/**
 * The records of a file: a JSON/YAML list (or one object, or `rows: […]`), CSV with a header
 * line (cells by the value rule, dotted headers as dicts), or NDJSON (one object a line). The
 * format comes from `format` or the extension (`-`, standard input: JSON/YAML).
 *
 * @param text the file's contents
 * @param file its name, for messages and the extension
 * @param format the format, when not by extension
 * @returns the records
 * @throws {UsageError} Naming the file and line of a bad record.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseRecordFile } from "./nb_args.ts";
 * deepEqual(parseRecordFile("name,vid,group.slug\nweb,10,dc1\n", "v.csv"), [
 *   { name: "web", vid: 10, group: { slug: "dc1" } },
 * ]);
 * deepEqual(parseRecordFile('{"id":1}\n{"id":2}\n', "x.ndjson"), [{ id: 1 }, { id: 2 }]);
 * deepEqual(parseRecordFile('{"name":"a"}', "-"), [{ name: "a" }]);
 * ```
 */
export function parseRecordFile(
  text: string,
  file: string,
  format?: string,
): Record<string, unknown>[] {
  const kind = format ??
    (/\.(ndjson|jsonl)$/i.test(file) ? "ndjson" : /\.csv$/i.test(file) ? "csv" : "yaml");
  if (kind === "ndjson") {
    const out: Record<string, unknown>[] = [];
    text.split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new UsageError(`Cannot read ${file}:${i + 1}: ${(err as Error).message}`);
      }
      out.push(asRecord(value, `${file}:${i + 1}`));
    });
    if (!out.length) throw new UsageError(`Cannot read ${file}: no records`);
    return out;
  }
  if (kind !== "csv" && /^\s*\{/.test(text)) {
    try {
      return [asRecord(JSON.parse(text), file)];
    } catch (err) {
      if (err instanceof UsageError) throw err;
      // Not one JSON object: read as YAML below (which reports the position).
    }
  }
  // readRecords picks CSV by the name's extension.
  const name = kind === "csv"
    ? (/\.csv$/i.test(file) ? file : `${file}.csv`)
    : (/\.csv$/i.test(file) ? `${file}.yaml` : file);
  return readRecords(text, name, (record) => {
    const r = asRecord(record, "");
    if (kind !== "csv") return r;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (v !== "") setPath(out, k, parseValue(String(v)), `column ${k}`);
    }
    return out;
  });
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${where ? `Cannot read ${where}: ` : ""}expected an object of fields`);
  }
  return value as Record<string, unknown>;
}
