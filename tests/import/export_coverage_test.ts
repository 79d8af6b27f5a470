/**
 * Never a silent loss, against the newest NetBox the client knows: every field NetBox 4.7 accepts
 * on a model the export writes is written, or named (a warning, `--strict` exit 1) by the export,
 * or listed here with why it needs neither. The writable fields come from the typed tree
 * (`lib/client/models.ts`), which `tests/integration/models_test.ts` keeps equal to the live
 * schema — so a field a new NetBox adds fails here until the export carries or names it.
 */

import assert from "node:assert/strict";
import { EXPORT_FIELDS, genericField, NOT_EXPORTED } from "../../lib/import/_export_fields.ts";
import { modelByKey } from "../../lib/import/models.ts";

const MODELS_TS = new URL("../../lib/client/models.ts", import.meta.url);

/** Fields neither written nor warned about, per model ("*": every model), with the reason. */
const HANDLED: Record<string, Record<string, string>> = {
  "*": { owner: "warned about by the export for every model (owners have no natural key)" },
  "dcim.cables": {
    a_terminations: "written as the cable's a end (_rule_cables.ts)",
    b_terminations: "written as the cable's b end (_rule_cables.ts)",
  },
  "dcim.rear-ports": { front_ports: "the front ports' mappings, written on the front ports" },
  "dcim.rear-port-templates": { front_ports: "the front port templates' mappings" },
  "dcim.interfaces": { mac_address: "the primary MAC address's, written as a MAC object" },
  "virtualization.interfaces": { mac_address: "the primary MAC address's" },
  "ipam.asns": { sites: "the sites' asns, written on the sites" },
  "circuits.providers": { accounts: "the provider accounts, written as provider accounts" },
  "dcim.inventory-items": {
    component_type: "written as component: {<kind>: {device, name}}",
    component_id: "written as component",
  },
  "ipam.ip-addresses": {
    assigned_object_type: "written as interface / vminterface",
    assigned_object_id: "written as interface / vminterface",
  },
  "dcim.mac-addresses": {
    assigned_object_type: "written as interface / vminterface",
    assigned_object_id: "written as interface / vminterface",
  },
  "vpn.l2vpn-terminations": {
    assigned_object_type: "written as the assigned object by kind",
    assigned_object_id: "written as the assigned object by kind",
  },
  "ipam.fhrp-group-assignments": {
    interface_type: "written as interface / vminterface",
    interface_id: "written as interface / vminterface",
  },
  "tenancy.contact-assignments": {
    object_type: "written as the object by kind",
    object_id: "written as the object by kind",
  },
  "extras.config-templates": {
    auto_sync_enabled: "syncing from a data source, which the export names (data_source)",
  },
  "dcim.modules": {
    replicate_components: "write-only: how NetBox makes a new module's components",
    adopt_components: "write-only: how NetBox makes a new module's components",
  },
  "extras.event-rules": {
    action_object_type: "written as action_object",
    action_object_id: "written as action_object",
  },
};

/** The `write` type of an API path in the typed tree, and that type's property names. */
function writableFields(source: string, path: string): string[] | undefined {
  const entry = new RegExp(`^  "${path}": \\{\\n(?:    .*\\n)*?    write: (\\w+);`, "m").exec(
    source,
  );
  if (!entry) return undefined;
  const start = source.indexOf(`export type ${entry[1]} = {\n`);
  if (start < 0) return undefined;
  const body = source.slice(start, source.indexOf("\n};\n", start));
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]);
}

Deno.test("every field NetBox 4.7 accepts on an exported model is written or named", async () => {
  const source = await Deno.readTextFile(MODELS_TS);
  const missing: string[] = [];
  let checked = 0;
  for (const [key, written] of Object.entries(EXPORT_FIELDS)) {
    const model = modelByKey(key);
    const fields = writableFields(source, model.path.replace(/^\/+|\/+$/g, "") + "/");
    assert.ok(fields, `${key}: no write type for ${model.path} in lib/client/models.ts`);
    checked++;
    const covered = new Set([...written, ...Object.keys(NOT_EXPORTED[key] ?? {})]);
    for (const f of written) {
      const g = genericField(key, f);
      if (g) covered.add(g.type).add(g.id);
    }
    for (const f of fields) {
      if (covered.has(f) || HANDLED["*"][f] || HANDLED[key]?.[f]) continue;
      missing.push(`${key}.${f}`);
    }
  }
  assert.ok(checked >= 80, `only ${checked} models checked`);
  assert.deepEqual(
    missing,
    [],
    `fields NetBox accepts that the export would drop without a word: ${missing.join(", ")}`,
  );
});

Deno.test("writableFields() reads a write type's properties", () => {
  const source = [
    "export interface Paths {",
    '  "dcim/x/": {',
    "    read: X;",
    "    write: WritableX;",
    "  };",
    "}",
    "export type WritableX = {",
    "  name: string;",
    "  /** doc */",
    "  enabled?: boolean;",
    "  nested?: { a: number };",
    "};",
    "",
  ].join("\n");
  assert.deepEqual(writableFields(source, "dcim/x/"), ["name", "enabled", "nested"]);
  assert.equal(writableFields(source, "dcim/y/"), undefined);
});
