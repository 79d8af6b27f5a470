/**
 * Regenerates the client's typed tree from the OpenAPI schema of a real NetBox: for every list
 * endpoint of NetBox's core schema (plugins aside), `lib/client/models.ts` holds its read shape
 * (`IPAddress`, `Device`, …, with the brief shapes they nest and choice values as string-literal
 * unions), its brief shape, its write shape (`WritableIPAddress`: what POST and PATCH accept,
 * relations as ids or attribute dicts), its filter names with their lookups (`IPAddressFilters`)
 * and its place in the tree (`EndpointPaths`: `client.ipam.ipAddresses` is
 * `ipam/ip-addresses/`); `lib/client/_endpoint_table.ts` holds the same paths for run time and
 * the first NetBox version of each endpoint NetBox 4.3 lacks (from `filter_index.json`). The
 * models are type-only: they cost nothing at run time.
 *
 * Usage:
 *   deno run --allow-net=127.0.0.1 --allow-env --allow-read --allow-write=lib \
 *     --allow-run=deno scripts/gen_models.ts [--url URL] [--out-dir DIR] [--schema FILE]
 *
 * The URL defaults to NETBOX_URL, then NETBOX_TEST_URL; a token (NETBOX_TOKEN or
 * NETBOX_TEST_TOKEN) is sent when set. `--schema FILE` reads a saved
 * `/api/schema/?format=json` instead (the version is then read from its `info.version`).
 * The checked-in files are generated from NetBox 4.7 (the newest of the version matrix): an
 * endpoint an older NetBox lacks refuses with "needs NetBox ≥ X" there. `--out-dir` writes the
 * two files elsewhere (default `lib/client/`).
 *
 * The text is formatted with `deno fmt` (the repository's settings), so the checked-in files are
 * exactly what this script writes and `tests/integration/models_test.ts` can compare them.
 *
 * @module
 */

import { extractListFilters } from "../lib/client/filter_names.ts";

const ROOT = new URL("../", import.meta.url);
const CLIENT = new URL("lib/client/", ROOT);
const INDEX = new URL("filter_index.json", CLIENT);

/**
 * Endpoints that arrived in NetBox 4.4, which the filter index (4.3, 4.5, …) does not cover: the
 * index alone would say 4.5. From NetBox's 4.4 release notes (`/api/core/object-types/`, #19829)
 * and the 4.4 migration of config context profiles (`extras` 0132, August 2025).
 */
const SINCE_4_4 = ["core/object-types/", "extras/config-context-profiles/"];

/**
 * The endpoints typed first (the toolkit's own models): a choice set several models share is
 * named after the first model that uses it, so these keep the names they have had since they
 * were the whole table (`SiteStatus`, not `LocationStatus`; `InterfaceType`, not
 * `InterfaceTemplateType`). Every other endpoint follows in path order.
 */
const FIRST_NAMED = [
  "dcim/sites/",
  "dcim/regions/",
  "dcim/locations/",
  "dcim/racks/",
  "dcim/manufacturers/",
  "dcim/device-types/",
  "dcim/device-roles/",
  "dcim/platforms/",
  "dcim/devices/",
  "dcim/interfaces/",
  "ipam/vrfs/",
  "ipam/prefixes/",
  "ipam/ip-ranges/",
  "ipam/ip-addresses/",
  "ipam/vlans/",
  "ipam/vlan-groups/",
  "ipam/roles/",
  "virtualization/cluster-types/",
  "virtualization/clusters/",
  "virtualization/virtual-machines/",
  "virtualization/interfaces/",
  "tenancy/tenants/",
  "extras/tags/",
];

// deno-lint-ignore no-explicit-any
type Node = any;

interface OpenApi {
  info?: { version?: string };
  paths: Record<string, Record<string, Node>>;
  components: { schemas: Record<string, Node> };
}

/**
 * The list paths of NetBox's core schema: every list operation under `/api/` (the paths of the
 * filter index) that pages through objects, without plugins (`plugins/…` differ between
 * installations). Not `dcim/connected-device/`: a look-up that answers a bare array.
 */
export function listPaths(schema: OpenApi): string[] {
  const paged = (path: string) => {
    const ref = schema.paths[`/api/${path}`]?.get?.responses?.["200"]?.content
      ?.["application/json"]?.schema?.$ref;
    return typeof ref === "string" && !!schema.components.schemas[refName(ref)]?.properties
      ?.results;
  };
  return Object.keys(extractListFilters(schema))
    .filter((path) => !path.startsWith("plugins/") && paged(path))
    .sort();
}

/** Fetches `/api/status/` and the OpenAPI schema of the server at `url`. */
export async function fetchSchema(
  url: string,
  token?: string,
): Promise<{ version: string; schema: OpenApi; schemaMs: number }> {
  const api = url.replace(/\/+$/, "").replace(/\/api$/, "") + "/api/";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `${token.startsWith("nbt_") ? "Bearer" : "Token"} ${token}`;
  const get = async (path: string) => {
    const res = await fetch(api + path, { headers });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`Cannot read ${path}: HTTP ${res.status}`);
    }
    return await res.json();
  };
  const status = await get("status/");
  const started = performance.now();
  const schema = await get("schema/?format=json");
  return {
    version: String(status["netbox-version"]),
    schema,
    schemaMs: performance.now() - started,
  };
}

const refName = (ref: string): string => ref.replace(/^#\/components\/schemas\//, "");
const pascal = (s: string): string =>
  s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
const quoteKey = (k: string): string =>
  /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k);
const literal = (v: unknown): string => JSON.stringify(v);
const union = (parts: string[]): string => {
  const uniq = [...new Set(parts)];
  if (uniq.includes("unknown")) return "unknown";
  return uniq.length ? uniq.join(" | ") : "never";
};

/** One line of documentation from a schema description (choice lists and markup dropped). */
function docLine(node: Node): string | undefined {
  const text = String(node?.description ?? node?.title ?? "")
    .split(/\n\s*\n/)[0]
    .split("\n")
    .filter((l) => !/^\s*\* `/.test(l))
    .join(" ")
    .replace(/\s+/g, " ")
    .replace(/\*\//g, "*\\/")
    .trim();
  return text ? text : undefined;
}

/** A JSDoc block, wrapped to the repository's line width. */
function jsDoc(text: string, indent = ""): string[] {
  const width = 100 - indent.length - 3;
  if (text.length + 7 <= width) return [`${indent}/** ${text} */`];
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`];
}

/** Names the lookup suffix sets that NetBox's filter sets use. */
function lookupName(suffixes: string[], taken: Set<string>): string {
  const has = (s: string) => suffixes.includes(s);
  let name = has("ic") && has("empty")
    ? "TextLookup"
    : has("ic")
    ? "TextLookupNoEmpty"
    : has("gt") && has("empty")
    ? "NumberLookup"
    : has("gte") && has("lte") && !has("n")
    ? "RangeLookup"
    : has("any")
    ? "ArrayLookup"
    : suffixes.join() === "n"
    ? "NegatedLookup"
    : "Lookup";
  if (taken.has(name)) {
    let n = 2;
    while (taken.has(`${name}${n}`)) n++;
    name = `${name}${n}`;
  }
  taken.add(name);
  return name;
}

/** The generated types of one list endpoint, and its place in the client's tree. */
export interface EndpointTypes {
  /** The list path, e.g. `"ipam/ip-addresses/"`. */
  path: string;
  /** The app (`client.<app>`), e.g. `"ipam"`. */
  app: string;
  /** The endpoint's name in the app (`client.ipam.<name>`), e.g. `"ipAddresses"`. */
  name: string;
  /** The read type. */
  read: string;
  /** The brief read type (`?brief=1`; the read type when NetBox has none). */
  brief: string;
  /** The write type, `"never"` for a read-only endpoint. */
  write: string;
  /** The filters type. */
  filters: string;
}

/**
 * Generates the text of `models.ts` (not yet formatted) from an OpenAPI document.
 *
 * @param schema NetBox's OpenAPI schema (`/api/schema/?format=json`).
 * @param version The NetBox version the schema came from, e.g. `"4.7.3"`.
 * @param paths The list paths to generate types for, e.g. `["ipam/ip-addresses/"]`.
 *   @default {every list path of the schema but plugins'}
 * @param since The first NetBox version of each path older versions lack (for the docs).
 * @returns The TypeScript source and the type names per path.
 */
export function generateModels(
  schema: OpenApi,
  version: string,
  paths: string[] = listPaths(schema),
  since: Readonly<Record<string, string>> = {},
): { text: string; endpoints: EndpointTypes[] } {
  const components = schema.components.schemas;
  const [major, minor] = version.split(".");
  const minorVersion = `${major}.${minor}`;

  // Type names: read components keep NetBox's names; the top-level write shapes become
  // `Writable<Model>`; everything else keeps its component name.
  const emitted = new Map<string, string>(); // component → TS text
  const docs = new Map<string, string>(); // component → JSDoc line
  const rename = new Map<string, string>(); // component → exported name
  const queue: { name: string; write: boolean }[] = [];
  const choiceByKey = new Map<string, { name: string; values: unknown[] }>();
  const choiceById = new Map<string, string>(); // x-spec-enum-id → choice type name
  const usedNames = new Set<string>(Object.keys(components));
  const readModels = new Set<string>();
  const writeModels = new Set<string>();

  const nameOf = (component: string) => rename.get(component) ?? component;
  const isLookupRequest = (name: string) => /^(Brief|Nested)\w+Request$/.test(name);

  function choiceType(values: unknown[], id: string | undefined, owner: string, field: string) {
    const real = values.filter((v) => v !== "" && v !== null);
    const key = id ?? JSON.stringify(real);
    let choice = choiceByKey.get(key);
    if (!choice) {
      let name = `${owner.replace(/Request$/, "")}${pascal(field)}`;
      if (usedNames.has(name)) name = `${name}Choice`;
      usedNames.add(name);
      choice = { name, values: real };
      choiceByKey.set(key, choice);
    }
    if (id) choiceById.set(id, choice.name);
    return choice.name;
  }

  function want(name: string, write: boolean) {
    if (!emitted.has(name) && !queue.some((q) => q.name === name)) queue.push({ name, write });
  }

  function typeOf(node: Node, ctx: { owner: string; field: string; write: boolean }): string {
    if (node === undefined || node === null) return "unknown";
    const nullable = node.nullable === true;
    let t: string;
    if (node.$ref) {
      const name = refName(node.$ref);
      want(name, ctx.write);
      t = ctx.write && isLookupRequest(name) ? `number | ${nameOf(name)}` : nameOf(name);
    } else if (node.allOf?.length === 1) {
      t = typeOf(node.allOf[0], ctx);
    } else if (node.oneOf || node.anyOf) {
      t = union((node.oneOf ?? node.anyOf).flatMap((n: Node) => typeOf(n, ctx).split(" | ")));
    } else if (Array.isArray(node.enum)) {
      const name = choiceType(node.enum, node["x-spec-enum-id"], ctx.owner, ctx.field);
      const extra = node.enum.filter((v: unknown) => v === "" || v === null).map(literal);
      t = union([name, ...extra]);
    } else if (
      node.type === "object" && node.properties?.value && node.properties?.label &&
      Object.keys(node.properties).length === 2 && Array.isArray(node.properties.value.enum)
    ) {
      const values: unknown[] = node.properties.value.enum;
      const name = choiceType(
        values,
        node.properties.value["x-spec-enum-id"],
        ctx.owner,
        ctx.field,
      );
      t = `Choice<${name}>`;
      if (values.includes("")) t += " | null"; // NetBox reads a blank choice as null
    } else if (
      node.type === "array" && node.minItems === node.maxItems && node.maxItems <= 4
    ) {
      t = `[${Array(node.maxItems).fill(typeOf(node.items, ctx)).join(", ")}]`;
    } else if (node.type === "array") {
      const inner = typeOf(node.items, ctx);
      t = inner.includes(" ") ? `(${inner})[]` : `${inner}[]`;
    } else if (node.type === "object" || node.properties || node.additionalProperties) {
      if (node.properties && Object.keys(node.properties).length) {
        t = objectType(node, ctx.owner, ctx.write, false, false);
      } else t = "Record<string, unknown>";
    } else if (node.type === "string") t = "string";
    else if (node.type === "integer" || node.type === "number") t = "number";
    else if (node.type === "boolean") t = "boolean";
    else t = "unknown";
    if (nullable && t !== "unknown" && !t.split(" | ").includes("null")) t = `${t} | null`;
    return t;
  }

  function objectType(
    node: Node,
    owner: string,
    write: boolean,
    allOptional: boolean,
    withDocs: boolean,
  ): string {
    const required = new Set<string>(node.required ?? []);
    const lines: string[] = [];
    for (const key of Object.keys(node.properties ?? {})) {
      const prop = node.properties[key];
      const t = typeOf(prop, { owner, field: key, write });
      let doc = withDocs ? docLine(prop) : undefined;
      const plain = (x: string) => x.toLowerCase().replace(/[^a-z0-9]/g, "");
      if (doc && plain(doc) === plain(key)) doc = undefined;
      if (doc) lines.push(...jsDoc(doc, "  "));
      const optional = allOptional || !required.has(key) ? "?" : "";
      lines.push(`${quoteKey(key)}${optional}: ${t};`);
    }
    return `{\n${lines.join("\n")}\n}`;
  }

  function emit(name: string, write: boolean) {
    if (emitted.has(name)) return;
    const node = components[name];
    if (!node) throw new Error(`Cannot generate models: the schema has no component ${name}`);
    emitted.set(name, ""); // reserve (recursive references)
    const top = readModels.has(name) || writeModels.has(name);
    const lookup = write && isLookupRequest(name);
    emitted.set(
      name,
      node.properties
        ? objectType(node, name, write, lookup, top)
        : typeOf(node, { owner: name, field: "", write }),
    );
    if (!docs.has(name)) {
      const base = name.replace(/^(Brief|Nested)/, "").replace(/Request$/, "");
      docs.set(
        name,
        lookup
          ? `Attributes that identify one ${base} on write (any subset); an id does too.`
          : /^(Brief|Nested)/.test(name)
          ? `NetBox's ${base} as nested in other objects (brief form).`
          : `NetBox's ${name} as nested in other objects.`,
      );
    }
  }

  // Pass 1: the endpoint models (names first, so references see the renamed write types).
  const endpoints: EndpointTypes[] = [];
  const seenPaths = new Set<string>();
  const filterParams = new Map<string, Node[]>();
  const order = [
    ...FIRST_NAMED.filter((path) => paths.includes(path)),
    ...paths.filter((path) => !FIRST_NAMED.includes(path)),
  ];
  for (const path of order) {
    if (seenPaths.has(path)) continue;
    seenPaths.add(path);
    const list = schema.paths[`/api/${path}`];
    if (!list?.get) throw new Error(`Cannot generate models: the schema has no /api/${path}`);
    const detail = schema.paths[`/api/${path}{id}/`];
    const page = refName(list.get.responses["200"].content["application/json"].schema.$ref);
    const read = refName(components[page].properties.results.items.$ref);
    if (readModels.has(read)) {
      throw new Error(`Cannot generate models: ${read} is read from two list paths`);
    }
    readModels.add(read);
    const brief = components[`Brief${read}`] ? `Brief${read}` : read;
    docs.set(read, `NetBox's ${read} as read from \`/api/${path}\` (NetBox ${minorVersion}).`);
    filterParams.set(path, [
      ...(list.parameters ?? []),
      ...(list.get.parameters ?? []),
    ]);
    const [app, segment] = path.split("/");
    const name = segment.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const body = list.post?.requestBody?.content?.["application/json"]?.schema;
    if (!body) {
      // Read-only (jobs, changelog, object types, …): nothing to create or update.
      endpoints.push({ path, app, name, read, brief, write: "never", filters: `${read}Filters` });
      continue;
    }
    const writeRef = refName((body.oneOf?.[0] ?? body).$ref);
    const patchSchema = detail?.patch?.requestBody?.content?.["application/json"]?.schema;
    if (patchSchema) {
      const patchRef = refName(patchSchema.$ref);
      const wProps = Object.keys(components[writeRef].properties ?? {}).sort().join();
      const pProps = Object.keys(components[patchRef].properties ?? {}).sort().join();
      if (wProps !== pProps) {
        throw new Error(`Cannot generate models: ${patchRef} differs from ${writeRef}`);
      }
    }
    const writeName = `Writable${writeRef.replace(/^Writable/, "").replace(/Request$/, "")}`;
    rename.set(writeRef, writeName);
    usedNames.add(writeName);
    writeModels.add(writeRef);
    docs.set(
      writeRef,
      `What \`/api/${path}\` accepts on create (POST); \`Partial\` of it on update (PATCH). ` +
        `Relations take an id or a dict of attributes identifying the object.`,
    );
    endpoints.push({ path, app, name, read, brief, write: writeName, filters: `${read}Filters` });
  }
  const drain = () => {
    while (queue.length) {
      const { name, write } = queue.shift()!;
      emit(name, write);
    }
  };
  const firstNamed = endpoints.filter((e) => FIRST_NAMED.includes(e.path));
  for (const group of [firstNamed, endpoints.filter((e) => !firstNamed.includes(e))]) {
    for (const e of group) {
      emit(e.read, false);
      if (e.write !== "never") emit([...rename].find(([, v]) => v === e.write)![0], true);
    }
    drain();
  }
  for (const e of endpoints) if (e.brief !== e.read) want(e.brief, false);
  drain();

  // Filters: names grouped by base and lookup set; choice filters typed by their enum.
  const lookupSets = new Map<string, string>(); // "empty ic …" → type name
  const lookupNames = new Set<string>();
  const filterTypes = new Map<string, string>();
  for (const e of endpoints) {
    const params = filterParams.get(e.path)!.map((p: Node) =>
      p.$ref
        ? (schema.components as Node).parameters
          ?.[p.$ref.replace(/^#\/components\/parameters\//, "")]
        : p
    ).filter((p: Node) => p?.in === "query" && typeof p.name === "string");
    const byName = new Map<string, Node>(params.map((p: Node) => [p.name, p]));
    const names = [...byName.keys()].filter((n) => !n.startsWith("cf_")).sort();
    const typed: string[] = [];
    for (const name of names) {
      const suffix = name.includes("__") ? name.slice(name.lastIndexOf("__") + 2) : "";
      if (suffix !== "" && suffix !== "n") continue;
      const id = byName.get(name)?.schema?.items?.["x-spec-enum-id"] ??
        byName.get(name)?.schema?.["x-spec-enum-id"];
      const choice = id && choiceById.get(id);
      if (choice) typed.push(`${quoteKey(name)}?: ChoiceFilter<${choice}>;`);
    }
    const groups = new Map<string, string[]>();
    for (const name of names) {
      const at = name.lastIndexOf("__");
      const [base, suffix] = at > 0 ? [name.slice(0, at), name.slice(at + 2)] : [name, ""];
      if (!groups.has(base)) groups.set(base, []);
      groups.get(base)!.push(suffix);
    }
    const plain: string[] = [];
    const bySet = new Map<string, string[]>();
    for (const [base, suffixes] of groups) {
      const set = suffixes.filter((s) => s !== "").sort();
      if (!suffixes.includes("") || set.length === 0) {
        plain.push(...suffixes.map((s) => (s ? `${base}__${s}` : base)));
        continue;
      }
      const key = set.join(" ");
      if (!bySet.has(key)) bySet.set(key, []);
      bySet.get(key)!.push(base);
    }
    const parts = plain.map(literal);
    for (const key of [...bySet.keys()].sort()) {
      if (!lookupSets.has(key)) lookupSets.set(key, lookupName(key.split(" "), lookupNames));
      const bases = bySet.get(key)!.map(literal).join(" | ");
      parts.push(`WithLookups<${bases}, ${lookupSets.get(key)}>`);
    }
    const typedPart = typed.length ? `, {\n${typed.join("\n")}\n}` : "";
    filterTypes.set(
      e.filters,
      `FiltersOf<${parts.length ? parts.join(" | ") : "never"}${typedPart}>`,
    );
  }

  // The text, by list path.
  endpoints.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const out: string[] = [];
  out.push(
    `// Generated by scripts/gen_models.ts from the OpenAPI schema of NetBox ${version}. ` +
      `Do not edit.`,
    "",
    "/**",
    ` * Types of the NetBox ${minorVersion} models behind the client's typed endpoint table,`,
    " * generated from NetBox's OpenAPI schema: read shapes (`IPAddress`, `Device`, …), write",
    " * shapes (`WritableIPAddress`, what create and update accept) and the filters of each list",
    " * endpoint (`IPAddressFilters`). Type-only: importing it costs nothing at run time.",
    " *",
    " * Regenerate with `deno run --allow-net=127.0.0.1 --allow-env --allow-read",
    " * --allow-write=lib --allow-run=deno scripts/gen_models.ts --url URL` (it writes",
    " * `_endpoint_table.ts` too).",
    " *",
    " * @module",
    " */",
    "",
    `import type { ChoiceFilter, FiltersOf, WithLookups } from "./filter_types.ts";`,
    "",
    `/** The NetBox version these types were generated from. */`,
    `export type ModelsVersion = ${literal(version)};`,
    "",
    "/** A choice field as NetBox reads it: the stored value and its label. */",
    "export type Choice<V> = { value: V; label: string };",
    "",
    "/**",
    " * The read, brief, write and filter types of each endpoint of the table, by list path",
    " * (`write` is `never` for a read-only endpoint).",
    " */",
    "export interface ModelsByPath {",
  );
  for (const e of endpoints) {
    out.push(
      `  /** \`/api/${e.path}\` */`,
      `  ${literal(e.path)}: {`,
      `    read: ${e.read};`,
      `    brief: ${e.brief};`,
      `    write: ${e.write};`,
      `    filters: ${e.filters};`,
      `  };`,
    );
  }
  out.push("}", "");
  out.push(
    "/**",
    " * The client's typed tree: each app of NetBox's API and the list path of each of its",
    " * endpoints (`client.ipam.ipAddresses` is `ipam/ip-addresses/`).",
    " */",
    "export interface EndpointPaths {",
  );
  for (const app of [...new Set(endpoints.map((e) => e.app))]) {
    out.push(`  /** The \`/api/${app}/\` endpoints. */`, `  ${quoteKey(app)}: {`);
    for (const e of endpoints.filter((x) => x.app === app)) {
      const needs = since[e.path] ? ` Needs NetBox ≥ ${since[e.path]}.` : "";
      const readOnly = e.write === "never" ? " Read-only." : "";
      out.push(
        ...jsDoc(`\`/api/${e.path}\`: ${e.read} objects.${readOnly}${needs}`, "    "),
        `    ${quoteKey(e.name)}: ${literal(e.path)};`,
      );
    }
    out.push("  };");
  }
  out.push("}", "");
  const section = (title: string) => out.push(`// ${title}`, "");
  const typeDecl = (name: string, doc: string, body: string) =>
    out.push(...jsDoc(doc), `export type ${name} = ${body};`, "");

  section("Models of the endpoint table");
  for (const e of endpoints) {
    typeDecl(e.read, docs.get(e.read)!, emitted.get(e.read)!);
    if (e.write !== "never") {
      const writeRef = [...rename].find(([, v]) => v === e.write)![0];
      typeDecl(e.write, docs.get(writeRef)!, emitted.get(writeRef)!);
    }
    typeDecl(
      e.filters,
      `The filters of \`/api/${e.path}\`: its filter names with their lookups, the common ` +
        `list parameters and \`cf_*\`. Any other name is a compile error.`,
      filterTypes.get(e.filters)!,
    );
  }
  section("Nested shapes");
  const top = new Set([...readModels, ...writeModels]);
  for (const name of [...emitted.keys()].filter((n) => !top.has(n)).sort()) {
    typeDecl(nameOf(name), docs.get(name)!, emitted.get(name)!);
  }
  section("Choice values");
  for (
    const { name, values } of [...choiceByKey.values()].sort((a, b) => a.name < b.name ? -1 : 1)
  ) {
    typeDecl(name, `The values of NetBox's ${name} choice.`, union(values.map(literal)));
  }
  section("Filter lookups");
  for (const [key, name] of [...lookupSets].sort(([, a], [, b]) => a < b ? -1 : 1)) {
    typeDecl(
      name,
      `Lookup suffixes of a filter name: ${key.split(" ").map((s) => `\`__${s}\``).join(", ")}.`,
      union(key.split(" ").map(literal)),
    );
  }
  return { text: out.join("\n"), endpoints };
}

/** Formats TypeScript source with `deno fmt` and the repository's settings. */
export async function formatTs(text: string): Promise<string> {
  const child = new Deno.Command("deno", {
    args: ["fmt", "--ext=ts", "-"],
    cwd: new URL(".", ROOT).pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`Cannot format the models: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The minor versions of the filter index, oldest first, and the list paths of each. */
export async function indexedPaths(): Promise<[string, Set<string>][]> {
  const index: Record<string, { paths: Record<string, string> }> = JSON.parse(
    await Deno.readTextFile(INDEX),
  );
  const minor = (v: string) => v.split(".").map(Number);
  return Object.keys(index)
    .sort((a, b) => minor(a)[0] - minor(b)[0] || minor(a)[1] - minor(b)[1])
    .map((v) => [v, new Set(Object.keys(index[v].paths))]);
}

/**
 * The first NetBox version of each path the oldest indexed version lacks: the first minor
 * version of the filter index that has it (4.4, which the index lacks, from `SINCE_4_4`).
 */
export function sinceVersions(
  paths: readonly string[],
  indexed: readonly [string, Set<string>][],
): Record<string, string> {
  const since: Record<string, string> = {};
  for (const path of paths) {
    const first = indexed.find(([, have]) => have.has(path))?.[0];
    if (first === indexed[0]?.[0]) continue;
    since[path] = SINCE_4_4.includes(path) ? "4.4" : first ?? "";
    if (!since[path]) throw new Error(`Cannot generate models: ${path} is in no filter index`);
  }
  return since;
}

/** The text of `_endpoint_table.ts`: the typed tree's paths at run time, and their versions. */
export function generateEndpointTable(
  endpoints: readonly EndpointTypes[],
  version: string,
  since: Readonly<Record<string, string>>,
): string {
  const out = [
    `// Generated by scripts/gen_models.ts from the OpenAPI schema of NetBox ${version}. ` +
    `Do not edit.`,
    "",
    "/**",
    " * The client's typed tree at run time: the list path of each endpoint by app and name (the",
    " * values of `EndpointPaths` in `models.ts`), and the first NetBox version of the endpoints",
    " * older versions lack.",
    " *",
    " * @module",
    " */",
    "",
    `import type { EndpointPaths } from "./models.ts";`,
    "",
    "/** The list path of each typed endpoint: `client.<app>.<name>`. */",
    "export const ENDPOINT_TABLE: EndpointPaths = {",
  ];
  for (const app of [...new Set(endpoints.map((e) => e.app))]) {
    out.push(`${quoteKey(app)}: {`);
    for (const e of endpoints.filter((x) => x.app === app)) {
      out.push(`${quoteKey(e.name)}: ${literal(e.path)},`);
    }
    out.push("},");
  }
  out.push(
    "};",
    "",
    "/**",
    " * The first NetBox version of each typed endpoint that NetBox 4.3 lacks (every other one is",
    " * in 4.3 already). Used against an older server, such an endpoint refuses before sending.",
    " */",
    "export const ENDPOINT_SINCE: Readonly<Record<string, string>> = {",
    ...Object.keys(since).sort().map((path) => `${literal(path)}: ${literal(since[path])},`),
    "};",
    "",
  );
  return out.join("\n");
}

/** The generated files, by name under `lib/client/`, formatted as checked in. */
export async function renderGenerated(
  schema: OpenApi,
  version: string,
): Promise<Record<string, string>> {
  const paths = listPaths(schema);
  const since = sinceVersions(paths, await indexedPaths());
  const { text, endpoints } = generateModels(schema, version, paths, since);
  return {
    "models.ts": await formatTs(text),
    "_endpoint_table.ts": await formatTs(generateEndpointTable(endpoints, version, since)),
  };
}

async function main(args: string[]): Promise<number> {
  const flag = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const outDir = flag("--out-dir")
    ? new URL(flag("--out-dir")!.replace(/\/*$/, "/"), `file://${Deno.cwd()}/`)
    : CLIENT;
  let schema: OpenApi;
  let version: string;
  const file = flag("--schema");
  if (file) {
    schema = JSON.parse(await Deno.readTextFile(file));
    version = String(schema.info?.version ?? "").split(" ")[0];
  } else {
    const url = flag("--url") ?? Deno.env.get("NETBOX_URL") ?? Deno.env.get("NETBOX_TEST_URL");
    if (!url) {
      console.error("Cannot generate the models: no URL; pass --url or set NETBOX_URL");
      return 2;
    }
    const token = Deno.env.get("NETBOX_TOKEN") ?? Deno.env.get("NETBOX_TEST_TOKEN");
    const live = await fetchSchema(url, token);
    schema = live.schema;
    version = live.version;
    console.error(`schema fetched in ${Math.round(live.schemaMs)} ms`);
  }
  if (!/^\d+\.\d+/.test(version)) {
    console.error(`Cannot generate the models: no NetBox version (got "${version}")`);
    return 2;
  }
  for (const [name, text] of Object.entries(await renderGenerated(schema, version))) {
    const out = new URL(name, outDir);
    await Deno.writeTextFile(out, text);
    console.error(`NetBox ${version}: wrote ${out.pathname} (${text.length} bytes)`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
