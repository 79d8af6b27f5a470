/**
 * Branch routing of the transport (NetBox Branching, lib/client/branching.ts): writes — and reads
 * with `branchReads` — carry the branch's header; the branch is found or created, and waited
 * for, on first use (a failed look is forgotten). The plugin's own API and `/api/status/` always
 * go to main.
 *
 * @module
 */

import { BRANCH_HEADER, checkBranchName, ensureBranch, findBranch } from "./branching.ts";
import type { BranchInfo, ClientOptions, Transport } from "./types.ts";

/** What branch routing needs of the client. */
export interface BranchRouteOptions
  extends Pick<ClientOptions, "branch" | "branchCreate" | "branchReads" | "signal"> {
  /** NetBox's base URL (no `/api`). */
  readonly baseUrl: string;
  /** A request on main: no branch header. */
  readonly requestMain: Transport["request"];
}

/** The routed request function and the branch it routes into. */
export interface BranchRoute {
  /** The checked branch name; `undefined` without `branch`. */
  readonly branchName: string | undefined;
  /** The branch, found or created and ready (cached). */
  branch(): Promise<BranchInfo | undefined>;
  /** A request, in the branch when it belongs there. */
  request: Transport["request"];
}

/** Creates the branch routing of a client over its request on main. */
export function createBranchRoute(options: BranchRouteOptions): BranchRoute {
  const { requestMain, baseUrl } = options;
  const branchName = options.branch === undefined ? undefined : checkBranchName(options.branch);
  let branchPromise: Promise<BranchInfo | undefined> | undefined;
  const branch = (): Promise<BranchInfo | undefined> => {
    if (branchName === undefined) return Promise.resolve(undefined);
    branchPromise ??= (async () => {
      const onMain = { request: requestMain, baseUrl };
      if (options.branchCreate === false && !(await findBranch(onMain, branchName))) {
        return undefined;
      }
      return await ensureBranch(onMain, branchName, { signal: options.signal });
    })().catch((err) => {
      branchPromise = undefined;
      throw err;
    });
    return branchPromise;
  };

  const request: Transport["request"] = async (method, path, requestOptions = {}) => {
    const verb = method.toUpperCase();
    const inBranch = branchName !== undefined &&
      (options.branchReads || (verb !== "GET" && verb !== "HEAD")) &&
      !/^\/?(api\/)?(status\/|plugins\/branching\/)/.test(path);
    if (!inBranch) return await requestMain(method, path, requestOptions);
    const active = await branch();
    if (!active) return await requestMain(method, path, requestOptions);
    return await requestMain(method, path, {
      ...requestOptions,
      headers: { ...requestOptions.headers, [BRANCH_HEADER]: active.schemaId },
    });
  };

  return { branchName, branch, request };
}
