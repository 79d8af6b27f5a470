/**
 * NetBox's calls beyond the list endpoints: detail actions (`render-config` of devices and
 * virtual machines, `trace` of cable paths, the `available-*` pools), custom scripts run as
 * background jobs and polled to their end, and GraphQL queries (with the client's token and, in
 * a branch, the branch header).
 *
 * @module
 */

import { InputError, NetBoxError } from "./errors.ts";
import { getOne } from "./where.ts";
import type { NetBoxObject, Transport } from "./types.ts";

/**
 * The detail actions NetBox has, by list path: `render-config` (POST), `trace` and `paths`
 * (GET), and the `available-*` pools (GET lists, POST allocates).
 */
export const DETAIL_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  "dcim/devices/": ["render-config"],
  "virtualization/virtual-machines/": ["render-config"],
  "dcim/interfaces/": ["trace"],
  "dcim/console-ports/": ["trace"],
  "dcim/console-server-ports/": ["trace"],
  "dcim/power-ports/": ["trace"],
  "dcim/power-outlets/": ["trace"],
  "dcim/power-feeds/": ["trace"],
  "dcim/front-ports/": ["paths"],
  "dcim/rear-ports/": ["paths"],
  "circuits/circuit-terminations/": ["paths"],
  "ipam/prefixes/": ["available-ips", "available-prefixes"],
  "ipam/ip-ranges/": ["available-ips"],
  "ipam/vlan-groups/": ["available-vlans"],
  "ipam/asn-ranges/": ["available-asns"],
};

/** Options of {@linkcode detailAction}. */
export interface DetailActionOptions {
  /** The method. @default {POST for render-config, else GET} */
  method?: "GET" | "POST";
  /** The JSON body of a POST (render-config's extra context, an allocation's fields). */
  body?: unknown;
  /** Query parameters (e.g. `limit` for available-ips). */
  query?: Record<string, string>;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/**
 * Calls a detail action of one object: `dcim/devices/12/render-config/`,
 * `dcim/interfaces/7/trace/`, `ipam/prefixes/3/available-ips/`.
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param id The object's id.
 * @param action One of {@linkcode DETAIL_ACTIONS} for that path.
 * @param options Method, body, query.
 * @returns NetBox's answer as it is.
 * @throws {InputError} For an action the model does not have (naming those it has).
 *
 * @example
 * ```ts
 * import { equal, rejects } from "node:assert/strict";
 * import { detailAction } from "./actions.ts";
 * import type { Transport } from "./types.ts";
 * let seen = "";
 * const transport = { request: (m: string, p: string) => Promise.resolve(seen = `${m} ${p}`) } as unknown as Transport;
 * await detailAction(transport, "dcim/devices/", 12, "render-config");
 * equal(seen, "POST dcim/devices/12/render-config/");
 * await rejects(detailAction(transport, "dcim/sites/", 1, "trace"), /dcim\/sites\/ has no detail action "trace"/);
 * ```
 */
export async function detailAction(
  transport: Transport,
  path: string,
  id: number,
  action: string,
  options: DetailActionOptions = {},
): Promise<unknown> {
  const known = DETAIL_ACTIONS[path] ?? [];
  if (!known.includes(action)) {
    throw new InputError(
      `Cannot call ${path}${id}/${action}/: ${path} has no detail action "${action}"` +
        (known.length ? `; it has ${known.join(", ")}` : ""),
    );
  }
  if (!Number.isInteger(id) || id < 1) {
    throw new InputError(`Cannot call ${path}…/${action}/: ${id} is not a valid object id`);
  }
  const method = options.method ?? (action === "render-config" ? "POST" : "GET");
  return await transport.request(method, `${path}${id}/${action}/`, {
    body: method === "POST" ? options.body ?? {} : undefined,
    query: options.query,
    signal: options.signal,
    action: `${action} ${path}${id}/`,
  });
}

/** A GraphQL answer: `data`, and NetBox's `errors` when some of the query failed. */
export interface GraphqlResult {
  /** The data, as queried. */
  data: unknown;
  /** Errors NetBox reported next to (partial) data. */
  errors?: { message: string; [k: string]: unknown }[];
}

/**
 * Runs a GraphQL query (`POST /graphql/`) with the client's token; in a branch
 * (`ClientOptions.branch`) the branch header goes along like any write's.
 *
 * @param transport The client's transport.
 * @param query The query text.
 * @param variables The query's variables.
 * @param signal Aborts the request.
 * @returns `data` and any `errors`.
 * @throws {NetBoxError} When NetBox returned errors and no data at all (naming the first).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { graphql } from "./actions.ts";
 * import type { Transport } from "./types.ts";
 * const transport = { request: () => Promise.resolve({ data: { site_list: [{ name: "matrix" }] } }) } as unknown as Transport;
 * const r = await graphql(transport, "{ site_list { name } }");
 * equal((r.data as { site_list: { name: string }[] }).site_list[0].name, "matrix");
 * ```
 */
export async function graphql(
  transport: Transport,
  query: string,
  variables?: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<GraphqlResult> {
  if (!query.trim()) throw new InputError("Cannot run a GraphQL query: the query is empty");
  // `/graphql/` sits beside `/api/`; the URL resolves `..` before it is sent.
  const answer = await transport.request<GraphqlResult>("POST", "../graphql/", {
    body: { query, ...(variables ? { variables } : {}) },
    signal,
    action: "run the GraphQL query",
  });
  if ((answer?.data === null || answer?.data === undefined) && answer?.errors?.length) {
    throw new NetBoxError(`Cannot run the GraphQL query: ${answer.errors[0].message}`);
  }
  return {
    data: answer?.data ?? null,
    ...(answer?.errors?.length ? { errors: answer.errors } : {}),
  };
}

/** Options of {@linkcode runScript}. */
export interface RunScriptOptions {
  /** The script's input variables. @default {{}} */
  data?: Record<string, unknown>;
  /** Commit the script's changes (else NetBox rolls them back). @default {false} */
  commit?: boolean;
  /** Poll the job until it ends. @default {true} */
  wait?: boolean;
  /** Pause between polls, in ms. @default {1000} */
  pollMs?: number;
  /** Give up waiting after this long, in ms (the job keeps running). @default {600000} */
  timeoutMs?: number;
  /** Aborts the requests and the waiting. */
  signal?: AbortSignal;
}

/** A script's job, as far as it got. */
export interface ScriptRun {
  /** The script (id, name, module). */
  script: NetBoxObject;
  /** The job's id. */
  jobId: number;
  /** `pending`, `running`, `completed`, `errored`, `failed` (or `scheduled`). */
  status: string;
  /** The job's log lines (`{status, message, …}`). */
  log: { status?: string; message?: string; [k: string]: unknown }[];
  /** What the script returned. */
  output?: unknown;
  /** The job's error, if any. */
  error?: string;
  /** The job as NetBox shows it. */
  job: NetBoxObject;
}

const ENDED = new Set(["completed", "errored", "failed"]);

/**
 * Runs a custom script as a NetBox job and (by default) polls the job to its end. NetBox needs a
 * running RQ worker for that (else 503/400 "Unable to process request: RQ worker process not
 * running").
 *
 * @param transport The client's transport.
 * @param script The script's id, `module.ClassName`, or its name (looked up).
 * @param options Data, commit, waiting.
 * @returns The job: status, log, output.
 * @throws {MatchError} When the name matches no script or several.
 */
export async function runScript(
  transport: Transport,
  script: number | string,
  options: RunScriptOptions = {},
): Promise<ScriptRun> {
  const { signal } = options;
  const found = typeof script === "number" || /^\d+$/.test(script)
    ? await getOne(transport, "extras/scripts/", Number(script), { signal })
    : script.includes(".")
    ? await transport.request<NetBoxObject>(
      "GET",
      `extras/scripts/${encodeURIComponent(script)}/`,
      { signal },
    )
    : await getOne(transport, "extras/scripts/", { name: script }, { signal });
  const started = await transport.request<{ result?: { url?: string; id?: number } }>(
    "POST",
    `extras/scripts/${found.id}/`,
    {
      body: { data: options.data ?? {}, commit: !!options.commit },
      signal,
      action: `run script ${String(found.name ?? found.id)}`,
    },
  );
  const jobId = started?.result?.id ??
    Number(/\/jobs\/(\d+)\/?$/.exec(started?.result?.url ?? "")?.[1]);
  if (!Number.isInteger(jobId) || jobId < 1) {
    throw new NetBoxError(`Cannot follow script ${String(found.name)}: NetBox named no job`);
  }
  const read = () =>
    transport.request<
      NetBoxObject & { status?: { value?: string } | string; data?: unknown; error?: string }
    >(
      "GET",
      `core/jobs/${jobId}/`,
      { signal, action: `read job ${jobId}` },
    );
  let job = await read();
  const statusOf = () =>
    typeof job.status === "object" ? String(job.status?.value) : String(job.status);
  const deadline = transport.clock.now() + (options.timeoutMs ?? 600_000);
  while ((options.wait ?? true) && !ENDED.has(statusOf()) && transport.clock.now() < deadline) {
    await transport.clock.sleep(options.pollMs ?? 1000, signal);
    job = await read();
  }
  const data = (job.data ?? {}) as { log?: ScriptRun["log"]; output?: unknown };
  return {
    script: found,
    jobId,
    status: statusOf(),
    log: Array.isArray(data.log) ? data.log : [],
    ...(data.output !== undefined && data.output !== null && data.output !== ""
      ? { output: data.output }
      : {}),
    ...(job.error ? { error: String(job.error) } : {}),
    job,
  };
}
