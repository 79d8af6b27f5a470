/** Clean-up helpers shared by the integration tests. */

import type { NetBoxClient } from "../../lib/client/types.ts";

/** Deletes a VRF with its addresses and prefixes; logs instead of throwing (never masks a failure). */
export async function dropVrf(nb: NetBoxClient, vrfId: number): Promise<void> {
  try {
    for (const ep of [nb.ipam.ipAddresses, nb.ipam.prefixes]) {
      const left = await ep.all({ vrf_id: vrfId }, { fields: ["id"] });
      if (left.length) await ep.delete(left.map((x) => x.id), { chunkSize: 100 });
    }
    await nb.ipam.vrfs.delete(vrfId);
  } catch (err) {
    console.error(`cleanup of VRF ${vrfId} failed: ${(err as Error).message.slice(0, 300)}`);
  }
}
