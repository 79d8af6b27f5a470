/**
 * Text from NetBox is written by anyone who may edit NetBox, and our outputs carry it to other
 * people: into terminals (table, Markdown, warnings and error messages) and into spreadsheets
 * (CSV). These two functions make such text harmless there; JSON and YAML stay exact.
 *
 * - {@linkcode escapeControls}: every C0 control (U+0000–U+001F), DEL (U+007F) and C1 control
 *   (U+0080–U+009F) becomes `\xHH`, and every bidi embedding/override/isolate (U+202A–U+202E,
 *   U+2066–U+2069) becomes `\uHHHH` (lower-case hex), so an escape sequence can neither clear
 *   the screen nor retitle the terminal, and a bidi override cannot reorder what is shown.
 *   Backslashes are left alone: a name that really reads `\x1b` looks the same as an escaped
 *   ESC, which is harmless, and ordinary names keep their text.
 * - {@linkcode neutralizeCsvCell}: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
 *   carriage return gets a leading `'` (as OWASP recommends against CSV/formula injection), so
 *   a spreadsheet shows it as text instead of evaluating it. That includes values such as
 *   `-5`: the toolkit's CSV columns hold no negative numbers, and a rule without exceptions is
 *   one an operator can rely on. Quoting (separators, quotes, line breaks) stays the CSV
 *   writer's job.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
// deno-lint-ignore no-control-regex
const CONTROLS_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Options of {@linkcode escapeControls}. */
export interface EscapeControlsOptions {
  /**
   * Leave line feeds (`\n`) as they are: for text that is already a sequence of lines (a log
   * stream). A single message or table cell escapes them too. @default {false}
   */
  keepNewlines?: boolean;
}

/**
 * Shows control characters and bidi overrides visibly: C0 controls, DEL and C1 controls as
 * `\xHH`, U+202A–U+202E and U+2066–U+2069 as `\uHHHH`. Everything else is returned unchanged.
 *
 * @param text the text, e.g. a device name from NetBox
 * @param options whether to keep line feeds
 * @returns the text, safe to print on a terminal
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { escapeControls } from "./safe_text.ts";
 * assert(escapeControls("sw1\x1b[2J") === "sw1\\x1b[2J");
 * assert(escapeControls("a\u202eb") === "a\\u202eb");
 * assert(escapeControls("line 1\nline 2", { keepNewlines: true }) === "line 1\nline 2");
 * ```
 */
export function escapeControls(text: string, options: EscapeControlsOptions = {}): string {
  return text.replace(options.keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS, visible);
}

/** The first characters that make a spreadsheet read a CSV cell as a formula (OWASP). */
export const CSV_FORMULA_LEADERS: readonly string[] = ["=", "+", "-", "@", "\t", "\r"];

/**
 * Neutralises a CSV cell that a spreadsheet would read as a formula: one starting with `=`, `+`,
 * `-`, `@`, a tab or a carriage return gets a leading `'`. Other cells are returned unchanged.
 *
 * @param text the cell's text
 * @returns the text to write into the cell
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { neutralizeCsvCell } from "./safe_text.ts";
 * assert(neutralizeCsvCell('=HYPERLINK("http://evil.example","x")') === `'=HYPERLINK("http://evil.example","x")`);
 * assert(neutralizeCsvCell("2001:db8::1/64") === "2001:db8::1/64");
 * assert(neutralizeCsvCell("-5") === "'-5");
 * ```
 */
export function neutralizeCsvCell(text: string): string {
  return text !== "" && CSV_FORMULA_LEADERS.includes(text[0]) ? `'${text}` : text;
}
