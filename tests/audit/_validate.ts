/**
 * Validators of the audit's machine formats, shared by unit and integration tests:
 * - SARIF against the official SARIF 2.1.0 JSON schema (shipped in `@microsoft/jest-sarif`) with
 *   ajv;
 * - JUnit XML parsed by fast-xml-parser and checked against the structure of Jenkins' JUnit
 *   schema (xunit plugin `junit-10.xsd`: elements, their order and multiplicity, required
 *   attributes and their types) plus the Ant schema's required `timestamp`/`hostname` shape;
 * - Prometheus text parsed by parse-prometheus-text-format, plus the line grammar of the
 *   exposition format (every family with HELP and TYPE, label syntax).
 */

import { Ajv, parsePrometheusTextFormat, sarifSchema, XMLParser, XMLValidator } from "../_deps.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

let sarifValidator: ((data: unknown) => boolean) & { errors?: unknown } | undefined;

/** Errors of a SARIF text against the official 2.1.0 schema (empty when valid). */
export function sarifErrors(text: string): string[] {
  if (!sarifValidator) {
    // The schema is draft-04: its root `id` is draft-07's `$id`; nothing else differs for it
    // (it uses no exclusiveMinimum/Maximum). Formats are checked, not ignored. One of its
    // patterns (the language tag) has a stray `]` that only non-unicode regexps accept.
    const { $schema: _s, id, ...rest } = sarifSchema as Any;
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    ajv.addFormat(
      "date-time",
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i,
    );
    ajv.addFormat("uri", (s: string) => URL.canParse(s));
    ajv.addFormat("uri-reference", (s: string) => !/\s/.test(s));
    sarifValidator = ajv.compile({ $id: id, ...rest }) as Any;
  }
  const ok = sarifValidator!(JSON.parse(text));
  return ok
    ? []
    : (sarifValidator!.errors as Any[]).map((e) =>
      `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`
    );
}

/** One element's rule: allowed children in order with multiplicity, required/typed attributes. */
interface ElementRule {
  children: [string, "?" | "*"][];
  required: string[];
  attrs: Record<string, "string" | "int" | "decimal" | "timestamp">;
  text?: boolean;
}

/** The structure of Jenkins' junit-10.xsd (with Ant's timestamp shape). */
const JUNIT: Record<string, ElementRule> = {
  testsuites: {
    children: [["testsuite", "*"]],
    required: [],
    attrs: {
      name: "string",
      time: "decimal",
      tests: "int",
      failures: "int",
      disabled: "int",
      errors: "int",
    },
  },
  testsuite: {
    children: [["properties", "?"], ["testcase", "*"], ["system-out", "?"], ["system-err", "?"]],
    required: ["name", "tests"],
    attrs: {
      name: "string",
      tests: "int",
      failures: "int",
      errors: "int",
      time: "decimal",
      disabled: "int",
      skipped: "int",
      timestamp: "timestamp",
      hostname: "string",
      id: "string",
      package: "string",
    },
  },
  properties: { children: [["property", "*"]], required: [], attrs: {} },
  property: {
    children: [],
    required: ["name", "value"],
    attrs: { name: "string", value: "string" },
  },
  testcase: {
    children: [
      ["skipped", "?"],
      ["error", "*"],
      ["failure", "*"],
      ["system-out", "*"],
      ["system-err", "*"],
    ],
    required: ["name"],
    attrs: {
      name: "string",
      assertions: "string",
      time: "decimal",
      classname: "string",
      status: "string",
    },
  },
  failure: { children: [], required: [], attrs: { type: "string", message: "string" }, text: true },
  error: { children: [], required: [], attrs: { type: "string", message: "string" }, text: true },
  skipped: { children: [], required: [], attrs: { type: "string", message: "string" }, text: true },
  "system-out": { children: [], required: [], attrs: {}, text: true },
  "system-err": { children: [], required: [], attrs: {}, text: true },
};

const TYPE_RE = {
  string: /^[\s\S]*$/,
  int: /^-?\d+$/,
  decimal: /^-?\d+(\.\d+)?$/,
  timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/,
};

/** The parsed JUnit document (attributes as `@_name`), after checking it; throws on a problem. */
export function checkJunit(text: string): Any {
  const wellFormed = XMLValidator.validate(text);
  if (wellFormed !== true) {
    throw new Error(`JUnit XML is not well-formed: ${JSON.stringify(wellFormed)}`);
  }
  const ordered = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    preserveOrder: true,
    parseAttributeValue: false,
    parseTagValue: false,
  }).parse(text) as Any[];
  const roots = ordered.filter((n) => !("?xml" in n));
  if (roots.length !== 1 || !("testsuites" in roots[0])) {
    throw new Error("JUnit XML must have one <testsuites> root");
  }
  const visit = (node: Any, path: string) => {
    const name = Object.keys(node).find((k) => k !== ":@")!;
    const rule = JUNIT[name];
    if (!rule) throw new Error(`${path}: unknown element <${name}>`);
    const attrs: Record<string, string> = node[":@"] ?? {};
    for (const r of rule.required) {
      if (!(r in attrs)) throw new Error(`${path}/${name}: missing attribute ${r}`);
    }
    for (const [k, v] of Object.entries(attrs)) {
      const type = rule.attrs[k];
      if (!type) throw new Error(`${path}/${name}: attribute ${k} not in the schema`);
      if (!TYPE_RE[type].test(v)) throw new Error(`${path}/${name}: ${k}="${v}" is not ${type}`);
    }
    const children = (node[name] as Any[]).filter((c) => !("#text" in c));
    if (
      !rule.text && (node[name] as Any[]).some((c) => "#text" in c && String(c["#text"]).trim())
    ) {
      throw new Error(`${path}/${name}: text content not allowed`);
    }
    // Children in schema order, with their multiplicity.
    let at = 0;
    for (const [child, mult] of rule.children) {
      let count = 0;
      while (at < children.length && Object.keys(children[at]).find((k) => k !== ":@") === child) {
        visit(children[at], `${path}/${name}`);
        at++;
        count++;
      }
      if (mult === "?" && count > 1) throw new Error(`${path}/${name}: more than one <${child}>`);
    }
    if (at < children.length) {
      const bad = Object.keys(children[at]).find((k) => k !== ":@");
      throw new Error(`${path}/${name}: <${bad}> not allowed here`);
    }
  };
  visit(roots[0], "");
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    isArray: (tag: string) => ["testsuite", "testcase", "failure", "property"].includes(tag),
  }).parse(text);
}

/** The samples of a Prometheus text by metric name, after checking the exposition grammar. */
export function checkPrometheus(
  text: string,
): Map<string, { labels: Record<string, string>; value: string }[]> {
  if (!text.endsWith("\n")) throw new Error("exposition text must end with a line feed");
  const families = new Map<string, { help: boolean; type: boolean; samples: number }>();
  const label = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
  const sample = new RegExp(
    String
      .raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:${label}(?:,${label})*)?\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$`,
  );
  for (const line of text.slice(0, -1).split("\n")) {
    const help = line.match(/^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/);
    const type = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|untyped)$/);
    const f = (name: string) => {
      if (!families.has(name)) families.set(name, { help: false, type: false, samples: 0 });
      return families.get(name)!;
    };
    if (help) f(help[1]).help = true;
    else if (type) f(type[1]).type = true;
    else {
      const m = line.match(sample);
      if (!m) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
      const fam = families.get(m[1]);
      if (!fam?.help || !fam.type) throw new Error(`${m[1]}: sample before its HELP and TYPE`);
      fam.samples++;
    }
  }
  const parsed = parsePrometheusTextFormat(text) as Any[];
  const out = new Map<string, { labels: Record<string, string>; value: string }[]>();
  for (const fam of parsed) {
    if (!fam.help || fam.type !== "GAUGE") throw new Error(`${fam.name}: no HELP or not a gauge`);
    out.set(fam.name, fam.metrics.map((m: Any) => ({ labels: m.labels ?? {}, value: m.value })));
  }
  for (const [name, fam] of families) {
    if (fam.samples && !out.has(name)) throw new Error(`${name}: the parser did not see it`);
  }
  return out;
}
