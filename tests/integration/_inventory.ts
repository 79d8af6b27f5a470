/** The example inventory for import tests: its fixtures, per-run names, a temporary folder. */

/** The folder of the example inventory and the import fixtures. */
export const FIXTURES = new URL("../fixtures/import/", import.meta.url).pathname;

const WORDS = [
  "Matrix Cluster",
  "Proxmox VE",
  "proxmox-node",
  "proxmox-ve",
  "ceph-node",
  "proxmox",
  "production",
  "matrix",
  "Supermicro",
  "supermicro",
  "sys-1019",
  "SYS-1019",
  "Hypervisor",
  "hypervisor",
  "foxtrot",
  "golf",
  "hotel",
  "dns01",
  "monitoring01",
  "management",
];

/**
 * Appends `-<suffix>` to every name of the example inventory, so concurrent runs and the seed
 * inventory do not collide.
 */
export function uniquify(text: string, suffix: string): string {
  const re = new RegExp(`\\b(${WORDS.join("|")})\\b`, "g");
  return text.replace(re, `$1-${suffix}`);
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix = "nbtk-",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
