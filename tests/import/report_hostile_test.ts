/** The bulk-import text report with values NetBox (or the input) holds that a terminal would obey. */
import assert from "node:assert/strict";
import { type ImportReport, renderImportText, renderProblems } from "../../lib/import/report.ts";

Deno.test("renderImportText() shows control characters in names, old values and messages", () => {
  const report: ImportReport = {
    summary: {
      dry_run: true,
      models: { "dcim.devices": { create: 0, update: 1, unchanged: 0, failed: 0, invalid: 0 } },
      create: 0,
      update: 1,
      unchanged: 0,
      failed: 0,
      invalid: 0,
      delete: 0,
    },
    items: [{
      model: "dcim.devices",
      name: "sw1\u202e",
      action: "update",
      id: 7,
      location: "inv.yaml:3:5",
      changes: [{ field: "description", old: "old\x1b[2J\x1b]0;pwned\x07", new: "new" }],
      message: "NetBox says \x9b31mred",
    }],
  };
  const lines = renderImportText(report).split("\n");
  assert.deepEqual(lines.slice(-4), [
    "~ update dcim.devices sw1\\u202e  (inv.yaml:3:5)",
    "    description: old\\x1b[2J\\x1b]0;pwned\\x07 → new",
    "    NetBox says \\x9b31mred",
    "",
  ]);
});

Deno.test("renderProblems() keeps one line per problem, whatever the message holds", () => {
  const text = renderProblems([
    { loc: { file: "a.yaml", line: 2, column: 3 }, message: "unknown site \x1b]0;x\x07\nforged" },
  ]);
  assert.equal(text, "a.yaml:2:3: unknown site \\x1b]0;x\\x07\\x0aforged\n");
});
