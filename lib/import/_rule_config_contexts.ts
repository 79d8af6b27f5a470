/**
 * A config context's `tags` are not its own tags but one of its assignment lists (the objects
 * carrying one of them get the context), and NetBox writes them by slug, not by id. They are
 * resolved like every tag list (so a tag of the same import is written first) and the body is
 * turned into slugs after resolving. The scope tag of an import is never added to them: it would
 * narrow the context to the objects carrying it.
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import type { PlanState } from "./_plan_types.ts";
import { NewRef } from "./_plan_types.ts";

/** Models whose `tags` field is an assignment list written by slug. */
export const TAGS_BY_SLUG = new Set(["extras.config-contexts"]);

/** Rewrites the tag ids of the bodies of config contexts as slugs. */
export function configContextTagSlugs(s: PlanState): void {
  const tags = s.byId.get("extras.tags");
  for (const key of TAGS_BY_SLUG) {
    for (const item of s.byModel.get(key) ?? []) {
      const body = item.body.tags;
      if (!Array.isArray(body)) continue;
      item.body.tags = body.map((t) => {
        if (typeof t === "number") {
          return (tags?.get(t) as NetBoxObject | undefined)?.slug ?? t;
        }
        if (t instanceof NewRef) {
          const tag = s.items[t.uid];
          return tag.body.slug ?? tag.entry.data.slug ?? t;
        }
        return t;
      });
      // NetBox reads them as slugs too: compare slugs, not the ids the resolver compared.
      const cur = item.existing?.tags;
      if (!Array.isArray(cur)) continue;
      const have = cur.map((t) => typeof t === "string" ? t : String((t as NetBoxObject).slug));
      const want = item.body.tags as unknown[];
      const same = have.length === want.length && want.every((t) => have.includes(String(t)));
      const change = item.changes.find((c) => c.field === "tags");
      if (change) change.old = have.length ? `[${have.join(", ")}]` : "∅";
      if (!same) continue;
      delete item.body.tags;
      item.changes = item.changes.filter((c) => c.field !== "tags");
      if (item.action === "update" && !item.changes.length) item.action = "unchanged";
    }
  }
}
