/** Assertion helpers shared by the tests. */

/**
 * What `p` rejects with; throws when it resolves instead.
 *
 * @param p the promise that must reject
 * @returns its rejection reason
 */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}
