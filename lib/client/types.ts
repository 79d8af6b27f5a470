/**
 * Shared types of the client: options, filters, list/bulk options and results, and the
 * endpoint interfaces every task programs against.
 *
 * @module
 */

import type { Filters } from "./filter_types.ts";
import type * as M from "./models.ts";
import type { EndpointPaths, ModelsByPath } from "./models.ts";

export type {
  ChoiceFilter,
  CommonFilterName,
  Filters,
  FiltersOf,
  FilterValue,
  WithLookups,
} from "./filter_types.ts";

/** A branch as the plugin's API shows it. */
export interface BranchInfo {
  /** The branch's id. */
  id: number;
  /** Its name (unique). */
  name: string;
  /** The value of the `X-NetBox-Branch` header. */
  schemaId: string;
  /** `ready`, `provisioning`, `merged`, … */
  status: string;
  /** The branch's page in NetBox's web UI: review its changes and merge there. */
  webUrl: string;
}

/** A log function: receives one line (no trailing newline). Never receives the token. */
export type LogFn = (line: string) => void;

/** A clock, injectable so tests never sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds (or rejects when `signal` aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Options of {@linkcode createClient}. */
export interface ClientOptions {
  /** NetBox base URL, with or without `/api` and trailing slash. */
  url: string;
  /** API token (v2 `nbt_…` or v1 40-hex). Never printed. */
  token: string;
  /** Per-request timeout in milliseconds. @default {30000} */
  timeoutMs?: number;
  /** Retries per request (attempts = retries + 1). @default {4} */
  retries?: number;
  /** Requests in flight for parallel listing and bulk writes. @default {4} */
  concurrency?: number;
  /** Page size for list requests; clamped by the server's MAX_PAGE_SIZE. @default {1000} */
  pageSize?: number;
  /** The fetch implementation. @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Extra CA certificates (PEM strings) trusted for TLS. */
  caCerts?: string[];
  /** Aborts every request of this client. */
  signal?: AbortSignal;
  /** Check filter names against the server's schema before listing. @default {true} */
  strictFilters?: boolean;
  /** The User-Agent header. @default {"netbox-toolkit/<version>"} */
  userAgent?: string;
  /** Receives warnings and, when set, a request log line per request. @default {console.error for warnings} */
  log?: LogFn;
  /** Log every request (method, path, status, ms) through `log`. @default {false} */
  verbose?: boolean;
  /** The clock used for retry back-off. @default {the real clock} */
  clock?: Clock;
  /** Total time budget for one request including retries, in ms. @default {120000} */
  retryBudgetMs?: number;
  /**
   * After a write whose answer was lost in a way NetBox may still act on (a timeout, a gateway's
   * 502/504, a connection broken after sending): how long read-backs keep looking for it before
   * its outcome is called unknown (see `settle`), in ms. @default {twice `timeoutMs`}
   */
  settleMs?: number;
  /**
   * Memory for the pages a streaming listing holds at once — in flight and buffered for the
   * consumer — counted as the JSON bytes NetBox sent (the parsed objects take 2–3× that). The
   * window of pages is sized from the measured page size and the consumer's speed within it.
   * @default {4194304} (4 MiB: four pages of 1,000 full IP addresses)
   */
  memoryBudget?: number;
  /** Called after every write request that got a response (for audit logs). */
  onWrite?: (event: WriteEvent) => void;
  /**
   * NetBox Branching: send every write into this branch (the plugin's `X-NetBox-Branch`
   * header). The branch is found by name, or created, and waited for until ready on the first
   * write. Main stays untouched until the branch is merged.
   */
  branch?: string;
  /** With `branch`: reads come from the branch too (they stay on main otherwise). @default {false} */
  branchReads?: boolean;
  /**
   * With `branch`: create the branch when it is missing. With `false` a missing branch leaves
   * every request on main (a dry run creates nothing). @default {true}
   */
  branchCreate?: boolean;
}

/** One write request, as reported to {@linkcode ClientOptions.onWrite}. */
export interface WriteEvent {
  /** When the response arrived (ISO 8601). */
  time: string;
  /** HTTP method. */
  method: string;
  /** Request path under the server root. */
  path: string;
  /** HTTP status of the response. */
  status: number;
  /** NetBox's `X-Request-ID`, to find the changelog entry. */
  requestId?: string;
  /** Ids of the objects the response names (created/updated/deleted). */
  ids: number[];
}

/** Options of a single request. */
export interface RequestOptions {
  /** Query parameters. */
  query?: Filters | URLSearchParams;
  /** JSON body. */
  body?: unknown;
  /** Aborts this request. */
  signal?: AbortSignal;
  /** Words for error messages: "Cannot <action>: <reason>". @default {"<method> <path>"} */
  action?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Receives the headers of the successful response (e.g. its `ETag`). */
  onHeaders?: (headers: Headers) => void;
  /**
   * Turns the text of a successful answer into the result; an error it throws is reported as
   * an answer that is not JSON. @default {JSON.parse}
   */
  parse?: (text: string) => unknown;
}

/** The server's `/api/status/` answer plus the parsed version. */
export interface NetBoxStatus {
  /** e.g. "4.7.3" */
  version: string;
  /** Major version number. */
  major: number;
  /** Minor version number. */
  minor: number;
  /** Patch version number. */
  patch: number;
  /** The raw status document. */
  raw: Record<string, unknown>;
}

/** Options of list requests. */
export interface ListOptions {
  /** `?brief=1`: minimal representation. */
  brief?: boolean;
  /** `?fields=a,b`: only these fields. */
  fields?: string[];
  /** `?omit=a,b` (NetBox ≥ 4.5.2). */
  omit?: string[];
  /** `?exclude=config_context` (devices, VMs). */
  excludeConfigContext?: boolean;
  /** Page size for this listing. @default {client pageSize} */
  pageSize?: number;
  /** Fetch pages in parallel (order kept). @default {true} */
  parallel?: boolean;
  /** Requests in flight for this listing. @default {client concurrency} */
  concurrency?: number;
  /** Bytes of page data held at once (see `ClientOptions.memoryBudget`). @default {client memoryBudget} */
  memoryBudget?: number;
  /** `?ordering=`; forces offset mode. */
  ordering?: string;
  /** Aborts the listing. */
  signal?: AbortSignal;
}

/** Options of `get` and `find`. */
export interface GetOptions {
  /** `?brief=1`: minimal representation. */
  brief?: boolean;
  /** `?fields=a,b`: only these fields. */
  fields?: string[];
  /** `?omit=a,b` (NetBox ≥ 4.5.2). */
  omit?: string[];
  /** `?exclude=config_context` (devices, VMs). */
  excludeConfigContext?: boolean;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Options of bulk writes. */
export interface BulkOptions {
  /** Objects per request. @default {200} */
  chunkSize?: number;
  /** Requests in flight. @default {client concurrency} */
  concurrency?: number;
  /** Aborts the writes not yet sent. */
  signal?: AbortSignal;
  /**
   * Stops gracefully: once it fires no new chunk is sent, the chunks in flight finish, and the
   * items not sent fail with `NotSentError` (Ctrl-C in a task).
   */
  stop?: AbortSignal;
  /** Called after each chunk with (done items, total items). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called when the chunk size adapts to the timeout (a request took more than about a third of
   * it: smaller chunks; fast requests: larger again, up to `chunkSize`). The change is also
   * written to the client's request log when `verbose` is on.
   */
  onChunkSize?: (change: ChunkSizeChange) => void;
  /**
   * Updates: the ETag each item was read with (`etagOf`), aligned with the items. An item whose
   * object changed since fails with `NetBoxChangedError` and nothing of it is written (NetBox's
   * If-Match on 4.6+, a `last_updated` check before); the others still land.
   */
  ifMatch?: readonly (string | undefined)[];
}

/** A change of the chunk size of a bulk write, after one measured request. */
export interface ChunkSizeChange {
  /** The request's method: POST, PATCH or DELETE. */
  method: string;
  /** The list path, e.g. `"ipam/ip-addresses/"`. */
  path: string;
  /** Objects in the measured request. */
  objects: number;
  /** How long it took, in ms. */
  ms: number;
  /** The client's per-request timeout, in ms. */
  timeoutMs: number;
  /** Objects per chunk from now on. */
  size: number;
  /** Objects per chunk before. */
  previous: number;
}

/** One item's outcome in a bulk write, in input order. */
export type BulkItemResult<T> =
  | { index: number; ok: true; value: T }
  | {
    index: number;
    ok: false;
    /** NetBox's messages for this item, e.g. `{ address: ["Duplicate IP address…"] }`. */
    messages: Record<string, string[]>;
    /** The error, when the whole request failed (network, 5xx …). */
    error: Error;
  };

/** The outcome of a bulk write. */
export interface BulkResult<T> {
  /** One entry per input item, in input order. */
  items: BulkItemResult<T>[];
  /** The values of the items that succeeded, in input order. */
  succeeded: T[];
  /** The items that failed, in input order. */
  failed: Extract<BulkItemResult<T>, { ok: false }>[];
  /** Ids sent in an update/delete that NetBox silently skipped (not found / not visible). */
  skippedIds: number[];
}

/** A re-iterable, streaming listing. */
export interface Listing<T> extends AsyncIterable<T> {
  /** Collects every item. */
  all(): Promise<T[]>;
}

/** A NetBox object as returned by the API: always has `id`, `url`, `display`. */
export interface NetBoxObject {
  /** The object's id. */
  id: number;
  /** The object's API URL. */
  url: string;
  /** NetBox's display string. */
  display?: string;
  /** Every other field, in NetBox's read shape. */
  [field: string]: unknown;
}

/**
 * The verbs of one list endpoint, e.g. `client.ipam.ipAddresses`.
 *
 * `T` is what the endpoint reads (`IPAddress`), `W` what create accepts (`WritableIPAddress`;
 * update takes `Partial<W>`) and `F` its filters (`IPAddressFilters`: unknown names are compile
 * errors). The defaults (`NetBoxObject`, `Record<string, unknown>`, `Filters`) accept anything,
 * as `client.endpoint("plugins/…")` does.
 */
export interface Endpoint<
  T extends NetBoxObject = NetBoxObject,
  W extends Record<string, unknown> = Record<string, unknown>,
  F extends Filters = Filters,
> {
  /** Path under `/api/`, e.g. `"ipam/ip-addresses/"`. */
  readonly path: string;
  /** Streams every matching object (re-iterable). */
  list(filters?: F, options?: ListOptions): Listing<T>;
  /** Collects every matching object. */
  all(filters?: F, options?: ListOptions): Promise<T[]>;
  /** One object by id; a 404 throws `NetBoxHttpError`. */
  get(id: number, options?: GetOptions): Promise<T>;
  /** The one object matching the filters, or `undefined`; more than one throws. */
  find(filters: F, options?: GetOptions): Promise<T | undefined>;
  /** How many objects match (asks the server). */
  count(filters?: F, options?: { signal?: AbortSignal }): Promise<number>;
  /** Creates one object (throws on failure). */
  create(body: W, options?: { signal?: AbortSignal }): Promise<T>;
  /** Creates many objects in chunks; never throws for item failures. */
  create(bodies: W[], options?: BulkOptions): Promise<BulkResult<T>>;
  /**
   * Patches one object. With `ifMatch` (an object as read, or its ETag) the write happens only
   * if nobody changed the object since: otherwise `NetBoxChangedError` (412), nothing written.
   */
  update(id: number, patch: Partial<W>, options?: UpdateOptions): Promise<T>;
  /** Patches many objects (each with `id`) in chunks. */
  update(items: ({ id: number } & Partial<W>)[], options?: BulkOptions): Promise<BulkResult<T>>;
  /** Deletes one object. */
  delete(id: number, options?: { signal?: AbortSignal }): Promise<void>;
  /** Deletes many objects in chunks. */
  delete(ids: number[], options?: BulkOptions): Promise<BulkResult<{ id: number }>>;
}

/** Options of a single-object `update()`. */
export interface UpdateOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
  /**
   * Write only if the object is unchanged since it was read: the object as `get()`/`list()`
   * returned it, or its ETag (`etagOf`). NetBox 4.6 and newer check it (`If-Match`); before 4.6
   * the client compares `last_updated` just before writing.
   */
  ifMatch?: string | object;
}

/** The typed endpoint of a list path of the table, from the generated {@linkcode ModelsByPath}. */
export type EndpointOf<P extends keyof ModelsByPath> = Endpoint<
  ModelsByPath[P]["read"],
  ModelsByPath[P]["write"],
  ModelsByPath[P]["filters"]
>;

/** A free address as listed by `available-ips`. */
export interface AvailableIp {
  /** 4 or 6. */
  family: number;
  /** The address with the parent's mask, e.g. `192.168.3.11/24`. */
  address: string;
  /** The VRF, or `null` for the global table. */
  vrf: { id: number; name: string; [k: string]: unknown } | null;
}

/** A detail helper such as `prefixes.availableIps(id)`. */
export interface Available<TFree, TCreated> {
  /** What the server lists as available (at most MAX_PAGE_SIZE for IPs). */
  list(options?: { limit?: number; signal?: AbortSignal }): Promise<TFree[]>;
  /** Allocates one (object) or N (array) under the server's lock; 409 → `AllocationError`. */
  create(
    body: Record<string, unknown> | Record<string, unknown>[],
    options?: { signal?: AbortSignal },
  ): Promise<TCreated[]>;
}

/** A prefix endpoint with its detail helpers. */
export interface PrefixEndpoint extends EndpointOf<"ipam/prefixes/"> {
  /** `/api/ipam/prefixes/{id}/available-ips/`. */
  availableIps(id: number): Available<AvailableIp, M.IPAddress>;
  /** `/api/ipam/prefixes/{id}/available-prefixes/`. */
  availablePrefixes(
    id: number,
  ): Available<{ family: number; prefix: string; vrf: unknown }, M.Prefix>;
}

/** An IP range endpoint with its detail helper. */
export interface IpRangeEndpoint extends EndpointOf<"ipam/ip-ranges/"> {
  /** `/api/ipam/ip-ranges/{id}/available-ips/`. */
  availableIps(id: number): Available<AvailableIp, M.IPAddress>;
}

/** A VLAN group endpoint with its detail helper. */
export interface VlanGroupEndpoint extends EndpointOf<"ipam/vlan-groups/"> {
  /** `/api/ipam/vlan-groups/{id}/available-vlans/`. */
  availableVlans(id: number): Available<{ vid: number; group: unknown }, M.VLAN>;
}

/**
 * The core round trip every endpoint sits on: URL building, auth, JSON, timeout, retry, error
 * mapping, the version handshake.
 */
export interface Transport {
  /** e.g. `"https://netbox.example.com"` (no trailing slash, no `/api`). */
  readonly baseUrl: string;
  /** `baseUrl + "/api/"`. */
  readonly apiUrl: string;
  /** 2 for `nbt_` tokens, else 1. */
  readonly tokenVersion: 1 | 2;
  /** Resolved defaults. */
  readonly concurrency: number;
  /** Page size for listings. */
  readonly pageSize: number;
  /** Bytes of page data a listing holds at once (`ClientOptions.memoryBudget`). */
  readonly memoryBudget: number;
  /** Whether unknown filter names are refused before listing. */
  readonly strictFilters: boolean;
  /** How long read-backs look for a write that may still land, in ms (`ClientOptions.settleMs`). */
  readonly settleMs: number;
  /** The client's clock: pauses between read-backs, back-off. */
  readonly clock: Clock;
  /**
   * The per-request timeout in ms (`ClientOptions.timeoutMs`); bulk writes size their chunks to
   * fit it. Without it, chunks keep their size.
   */
  readonly timeoutMs?: number;
  /** Writes a line to the request log when `verbose` is on (and nowhere otherwise). */
  logVerbose?(line: string): void;
  /**
   * One request. `path` is relative to `/api/` (`"ipam/prefixes/"`, a leading `/api/` is
   * stripped) and keeps its trailing slash. Resolves to the parsed JSON body (`undefined` for
   * 204). Throws `NetBoxHttpError` for non-2xx, `NetBoxNetworkError`/`NetBoxTimeoutError` after
   * retries.
   */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** `/api/status/`, fetched once per client and cached. */
  status(): Promise<NetBoxStatus>;
  /** The NetBox Branching branch this client writes into (`ClientOptions.branch`), if any. */
  readonly branchName: string | undefined;
  /**
   * That branch, found or created and ready (cached); `undefined` without `branch`, or when it
   * is missing and `branchCreate` is false.
   */
  branch(): Promise<BranchInfo | undefined>;
  /**
   * Whether the token may write: `false` for a token with `write_enabled: false`, `true` when
   * it may, `undefined` when NetBox does not say (cached).
   */
  canWrite(): Promise<boolean | undefined>;
  /** Writes a warning once per distinct message through the client's log. */
  warn(message: string): void;
  /** Releases the TLS client, if any. */
  close(): void;
}

/**
 * The endpoint of a list path of the typed tree: {@linkcode EndpointOf} of it, with the detail
 * helpers of prefixes, IP ranges and VLAN groups.
 */
export type TypedEndpoint<P extends keyof ModelsByPath> = P extends "ipam/prefixes/"
  ? PrefixEndpoint
  : P extends "ipam/ip-ranges/" ? IpRangeEndpoint
  : P extends "ipam/vlan-groups/" ? VlanGroupEndpoint
  : EndpointOf<P>;

/**
 * Every app of NetBox's API with its typed endpoints, generated from NetBox's schema
 * ({@linkcode EndpointPaths}): `client.circuits.circuits`, `client.vpn.tunnels`,
 * `client.wireless.wirelessLans`, `client.core.jobs`, …
 */
export type TypedApps = {
  readonly [A in keyof EndpointPaths]: {
    readonly [E in keyof EndpointPaths[A]]: EndpointPaths[A][E] extends keyof ModelsByPath
      ? TypedEndpoint<EndpointPaths[A][E]>
      : never;
  };
};

/**
 * The client: the transport plus the typed tree — one object per app of NetBox's API, one typed
 * endpoint per list path (`client.ipam.ipAddresses` is `/api/ipam/ip-addresses/`). An endpoint
 * that the server's NetBox version lacks refuses with "needs NetBox ≥ X" before sending.
 */
export interface NetBoxClient extends Transport, TypedApps {
  /** Any list endpoint by path, e.g. `client.endpoint("plugins/foo/bars/")`. */
  endpoint<T extends NetBoxObject = NetBoxObject>(path: string): Endpoint<T>;
}
