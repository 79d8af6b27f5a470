/**
 * Look-ups the IP tasks share: a VRF, tenant or tag named by the user (name, slug, RD or id)
 * resolved to the NetBox object, with clear "Cannot …" errors for none or several.
 *
 * @module
 */

import { type ErrorKind, NetBoxError } from "../client/errors.ts";
import type { Tag, Tenant, VRF } from "../client/models.ts";
import type { Endpoint, NetBoxClient, NetBoxObject } from "../client/types.ts";

/**
 * A reference did not match exactly one object (NetBox holds no such object, or several): kind
 * `not-found`, exit code 3.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { LookupError } from "./lookup.ts";
 * const err = new LookupError("Cannot find VRF \"blue\": no VRF has that name or RD", []);
 * assert(err.candidates.length === 0 && err.kind === "not-found");
 * ```
 */
export class LookupError extends NetBoxError {
  /** The matching objects when there were several. */
  readonly candidates: NetBoxObject[];
  /** Creates the error. */
  constructor(message: string, candidates: NetBoxObject[]) {
    super(message);
    this.candidates = candidates;
  }

  /** Always `not-found`. */
  override get kind(): ErrorKind {
    return "not-found";
  }
}

/** A short description of an object for messages: `name (id 7)`. */
export function describeObject(o: NetBoxObject): string {
  // Any model: the first of its naming fields it has, as NetBox sent it.
  const label = o.display ?? o.name ?? o.address ?? o.prefix ?? `#${o.id}`;
  return `${label} (id ${o.id})`;
}

/**
 * Finds exactly one object by id (all digits) or by the first of `fields` that matches.
 *
 * @param endpoint The endpoint.
 * @param ref What the user typed.
 * @param fields Filter names tried in order, e.g. `["name", "rd"]`.
 * @param what Words for messages, e.g. `"VRF"`.
 * @returns The object.
 * @throws {LookupError} When nothing or several objects match.
 */
export async function findOne<T extends NetBoxObject>(
  endpoint: Endpoint<T>,
  ref: string,
  fields: string[],
  what: string,
): Promise<T> {
  if (/^\d+$/.test(ref)) {
    const hits = await endpoint.all({ id: Number(ref) });
    if (hits.length === 1) return hits[0];
  }
  for (const field of fields) {
    const hits = await endpoint.all({ [field]: ref });
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) {
      throw new LookupError(
        `Cannot choose a ${what} for "${ref}": ${hits.length} match by ${field}: ${
          hits.map(describeObject).join(", ")
        }`,
        hits,
      );
    }
  }
  throw new LookupError(
    `Cannot find ${what} "${ref}": no ${what} has that ${["id", ...fields].join(" or ")}`,
    [],
  );
}

/**
 * Resolves a VRF by id, name or RD.
 *
 * @param client The client.
 * @param ref Id, name or route distinguisher.
 * @returns The VRF.
 */
export function resolveVrf(client: NetBoxClient, ref: string): Promise<VRF> {
  return findOne(client.ipam.vrfs, ref, ["name", "rd"], "VRF");
}

/**
 * Resolves a tenant by id, slug or name.
 *
 * @param client The client.
 * @param ref Id, slug or name.
 * @returns The tenant.
 */
export function resolveTenant(client: NetBoxClient, ref: string): Promise<Tenant> {
  return findOne(client.tenancy.tenants, ref, ["slug", "name"], "tenant");
}

/**
 * Turns a tag name into a slug the way NetBox's UI would.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { slugify } from "./lookup.ts";
 * assert(slugify("Production DNS!") === "production-dns");
 * ```
 */
export function slugify(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]+/g, "-").replace(/^-+|-+$/g, "") || "tag";
}

/** The outcome of {@linkcode resolveTags}. */
export interface ResolvedTags {
  /** The tags, in the order asked (created ones included unless `dryRun`). */
  tags: Tag[];
  /** Names of tags that do not exist (and were created unless `dryRun`). */
  missing: string[];
}

/**
 * Resolves tags by name or slug; creates the missing ones when asked.
 *
 * @param client The client.
 * @param refs Names or slugs.
 * @param options `create`: create missing tags; `dryRun`: report, create nothing.
 * @returns The tags and which were missing. Without `create`, missing tags are only reported.
 */
export async function resolveTags(
  client: NetBoxClient,
  refs: string[],
  options: { create?: boolean; dryRun?: boolean } = {},
): Promise<ResolvedTags> {
  if (refs.length === 0) return { tags: [], missing: [] };
  const found = [
    ...await client.extras.tags.all({ name: refs }),
    ...await client.extras.tags.all({ slug: refs }),
  ];
  const tags: Tag[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    const tag = found.find((t) => t.name === ref || t.slug === ref);
    if (tag) tags.push(tag);
    else missing.push(ref);
  }
  if (missing.length && options.create && !options.dryRun) {
    for (const name of missing) {
      tags.push(await client.extras.tags.create({ name, slug: slugify(name) }));
    }
  }
  return { tags, missing };
}
