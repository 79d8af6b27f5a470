/**
 * The planner's last phase: circular references, invalid entries making what depends on them
 * invalid, and the write order (every item after the new items it needs, then model order).
 *
 * @module
 */

import type { PlanState, Work } from "./_plan_types.ts";

/** Circular references among new items: a problem on each item of the circle. */
export function checkCycles(s: PlanState): void {
  const state = new Map<number, 1 | 2>();
  const visit = (item: Work, path: Work[]): void => {
    const seen = state.get(item.uid);
    if (seen === 2) return;
    if (seen === 1) {
      const cycle = path.slice(path.indexOf(item));
      const names = [...cycle, item].map((i) => `${i.model.key} ${i.label}`).join(" → ");
      for (const i of cycle) {
        i.problems.push({ loc: i.entry.loc, message: `circular reference: ${names}` });
      }
      return;
    }
    state.set(item.uid, 1);
    for (const d of item.deps) visit(s.items[d], [...path, item]);
    state.set(item.uid, 2);
  };
  for (const item of s.items) visit(item, []);
}

/** An item that depends on an invalid one is invalid too. */
export function propagateInvalid(s: PlanState): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const item of s.items) {
      if (item.problems.length || item.action === "invalid") continue;
      for (const d of [...item.deps, ...item.deferredDeps]) {
        const dep = s.items[d];
        if (dep.problems.length || dep.action === "invalid") {
          const l = dep.entry.loc;
          item.problems.push({
            loc: item.entry.loc,
            message:
              `depends on the invalid ${dep.model.key} entry at ${l.file}:${l.line}:${l.column}`,
          });
          changed = true;
          break;
        }
      }
    }
  }
}

/** Items sorted so every item comes after the new items it depends on (then model order). */
export function writeOrder(s: PlanState): Work[] {
  const level = new Map<number, number>();
  const depth = (item: Work, guard: Set<number>): number => {
    const known = level.get(item.uid);
    if (known !== undefined) return known;
    if (guard.has(item.uid)) return 0;
    guard.add(item.uid);
    let l = 0;
    for (const d of item.deps) l = Math.max(l, depth(s.items[d], guard) + 1);
    level.set(item.uid, l);
    return l;
  };
  for (const item of s.items) depth(item, new Set());
  return [...s.items].sort((a, b) =>
    level.get(a.uid)! - level.get(b.uid)! || a.model.order - b.model.order || a.uid - b.uid
  );
}
