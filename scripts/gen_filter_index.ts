/**
 * Regenerates `lib/client/filter_index.json`: the filter names of every list operation of a real NetBox
 * server, read from its OpenAPI schema and stored compactly under the server's minor version
 * (other versions already in the file are kept).
 *
 * Usage:
 *   deno run --allow-net=127.0.0.1 --allow-env --allow-read=lib --allow-write=lib \
 *     scripts/gen_filter_index.ts [--url URL]
 *
 * The URL defaults to NETBOX_URL, then NETBOX_TEST_URL; a token (NETBOX_TOKEN or
 * NETBOX_TEST_TOKEN) is sent when set, in case the server requires login for the schema.
 *
 * @module
 */

import { encodeNames, extractListFilters } from "../lib/client/filter_names.ts";
import { fetchSchema } from "./gen_models.ts";

const INDEX = new URL("../lib/client/filter_index.json", import.meta.url);

/**
 * Fetches the schema and status of the server at `url`; returns names, version and timing. Only
 * NetBox's own list paths: a plugin's (`plugins/…`) differ between installations, so the guard
 * reads them from the live schema instead.
 */
export async function readServer(url: string, token?: string) {
  const { version, schema, schemaMs } = await fetchSchema(url, token);
  const [major, minor] = version.split(".");
  const names = Object.fromEntries(
    Object.entries(extractListFilters(schema)).filter(([path]) => !path.startsWith("plugins/")),
  );
  return { version, minor: `${major}.${minor}`, names, schemaMs };
}

async function main(args: string[]): Promise<number> {
  const at = args.indexOf("--url");
  const url = at >= 0
    ? args[at + 1]
    : Deno.env.get("NETBOX_URL") ?? Deno.env.get("NETBOX_TEST_URL");
  if (!url) {
    console.error("Cannot generate the filter index: no URL; pass --url or set NETBOX_URL");
    return 2;
  }
  const token = Deno.env.get("NETBOX_TOKEN") ?? Deno.env.get("NETBOX_TEST_TOKEN");
  const { version, minor, names, schemaMs } = await readServer(url, token);
  const index = JSON.parse(await Deno.readTextFile(INDEX));
  index[minor] = encodeNames(names);
  const sorted = Object.fromEntries(Object.keys(index).sort().map((k) => [k, index[k]]));
  const text = JSON.stringify(sorted, null, 2) + "\n";
  await Deno.writeTextFile(INDEX, text);
  const count = Object.values(names).reduce((n, list) => n + list.length, 0);
  console.error(
    `NetBox ${version}: ${Object.keys(names).length} list paths, ${count} filter names; ` +
      `schema fetched in ${Math.round(schemaMs)} ms; index ${text.length} bytes`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
