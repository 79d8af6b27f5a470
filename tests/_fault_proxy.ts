/**
 * A fault-injecting HTTP proxy on 127.0.0.1 for tests against the real NetBox: it forwards each
 * request and, for a seeded random share of them, fails the way networks and gateways do —
 * before NetBox sees the request (429, 503) or after NetBox has acted and only the answer is lost
 * (a gateway's 502, a connection broken in the body, an answer slower than the client's timeout),
 * or NetBox acts only after the client gave up (`deliver-late`: the request reaches NetBox
 * `lateMs` after it was sent, as behind a gateway whose worker commits after the gateway's 504).
 * It counts what it did, so a test can report faults per kind.
 *
 * @module
 */

/** What the proxy can do to one request. */
export type FaultKind =
  | "before-429"
  | "before-503"
  | "reset-before"
  | "lost-502"
  | "lost-reset"
  | "lost-timeout"
  | "deliver-late";

/** Options of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** The NetBox base URL to forward to. */
  target: string;
  /** Share of the requests of `methods` that get a fault, 0–1. */
  rate: number;
  /** Seed of the random choices (same seed, same sequence). */
  seed: number;
  /** The faults to choose from. @default every kind */
  kinds?: FaultKind[];
  /** Methods that may get a fault. @default {["POST", "PATCH", "PUT", "DELETE"]} */
  methods?: string[];
  /** How long `lost-timeout` holds the answer (longer than the client's timeout). @default {1500} */
  holdMs?: number;
  /**
   * How long `deliver-late` holds the request before forwarding it to NetBox (longer than the
   * client's timeout; the client has given up by then, NetBox still acts). @default {6000}
   */
  lateMs?: number;
  /**
   * A slow NetBox: each write (any method but GET/HEAD) whose body is a JSON list is held this
   * many ms per object in the list before it is forwarded (NetBox still acts if the client has
   * given up meanwhile). @default {0}
   */
  slowPerObjectMs?: number;
  /**
   * Chooses the fault of each request instead of `rate` (a scripted fault: "the first POST to
   * the VRFs"); `undefined` passes the request through.
   */
  script?: (method: string, path: string) => FaultKind | undefined;
  /** Called when a request gets a fault, before the fault is played (e.g. to interrupt a task). */
  onFault?: (kind: FaultKind, method: string, path: string) => void;
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Faults made, per kind, and requests passed through untouched. */
  readonly counts: Record<FaultKind | "passed", number>;
  /** Every write with a JSON list body, in arrival order: method, path and objects in the list. */
  readonly bulkWrites: { method: string; path: string; objects: number }[];
  /** Stops the proxy. */
  /**
   * Sends every held `deliver-late` request on now, instead of at `lateMs`: a test holds a write
   * for as long as a task runs (a long `lateMs`) and lets it land once the task has exited.
   */
  releaseLate(): void;
  close(): Promise<void>;
}

const ALL: FaultKind[] = [
  "before-429",
  "before-503",
  "reset-before",
  "lost-502",
  "lost-reset",
  "lost-timeout",
];

/** Not in the random choice unless asked for (`kinds`): it changes what NetBox holds when. */
const LATE: FaultKind = "deliver-late";

/** A body that breaks off: the client sees the connection fail while reading the answer. */
function broken(start: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(start);
      controller.error(new Error("connection reset by the fault proxy"));
    },
  });
}

/** Objects in the JSON list body of a write; `undefined` for reads and other bodies. */
function listLength(method: string, body: ArrayBuffer | null): number | undefined {
  if (method === "GET" || method === "HEAD" || !body) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(body));
    return Array.isArray(value) ? value.length : undefined;
  } catch {
    return undefined;
  }
}

/** mulberry32: a small seeded PRNG. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the proxy.
 *
 * @param options target, fault rate, seed, kinds
 * @returns the running proxy
 */
export function startFaultProxy(options: FaultProxyOptions): FaultProxy {
  const next = random(options.seed);
  const kinds = options.kinds ?? ALL;
  const methods = new Set(options.methods ?? ["POST", "PATCH", "PUT", "DELETE"]);
  const holdMs = options.holdMs ?? 1500;
  const lateMs = options.lateMs ?? 6000;
  const counts = Object.fromEntries([...ALL, LATE, "passed"].map((k) => [k, 0])) as FaultProxy[
    "counts"
  ];
  // Late deliveries still under way: close() waits for them (NetBox gets each one).
  const late = new Set<Promise<unknown>>();
  // Their timers' early ends, for releaseLate().
  const releases = new Set<() => void>();
  const bulkWrites: FaultProxy["bulkWrites"] = [];
  const closing = new AbortController();
  const target = options.target.replace(/\/+$/, "");

  const forward = async (request: Request, body: ArrayBuffer | null) => {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("host");
    const upstream = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body,
    });
    const bytes = new Uint8Array(await upstream.arrayBuffer());
    const out = new Headers(upstream.headers);
    out.delete("content-length");
    out.delete("content-encoding");
    return { status: upstream.status, headers: out, bytes };
  };

  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      signal: closing.signal,
      onListen() {},
      onError: () => new Response("fault proxy error\n", { status: 500 }),
    },
    async (request) => {
      const body = request.body ? await request.arrayBuffer() : null;
      const objects = listLength(request.method, body);
      if (objects !== undefined) {
        bulkWrites.push({
          method: request.method,
          path: new URL(request.url).pathname,
          objects,
        });
        const slowMs = (options.slowPerObjectMs ?? 0) * objects;
        if (slowMs > 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
      }
      const kind = options.script
        ? options.script(request.method, new URL(request.url).pathname)
        : methods.has(request.method) && next() < options.rate
        ? kinds[Math.floor(next() * kinds.length)]
        : undefined;
      if (!kind) {
        counts.passed++;
        const r = await forward(request, body);
        return new Response(r.bytes, { status: r.status, headers: r.headers });
      }
      counts[kind]++;
      options.onFault?.(kind, request.method, new URL(request.url).pathname);
      const json = { "Content-Type": "application/json" };
      switch (kind) {
        case "before-429":
          return new Response('{"detail": "Request was throttled."}', {
            status: 429,
            headers: { ...json, "Retry-After": "0" },
          });
        case "before-503":
          return new Response('{"detail": "Service unavailable"}', { status: 503, headers: json });
        case "reset-before":
          // Broken before NetBox saw anything: the client cannot tell it from a lost answer.
          return new Response(broken(new TextEncoder().encode('{"id": ')), {
            status: 201,
            headers: json,
          });
        case "lost-502": {
          await forward(request, body);
          return new Response("Bad Gateway\n", { status: 502 });
        }
        case "lost-reset": {
          const r = await forward(request, body);
          const half = r.bytes.subarray(0, Math.floor(r.bytes.length / 2));
          return new Response(broken(half), { status: r.status, headers: r.headers });
        }
        case "lost-timeout": {
          const r = await forward(request, body);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, holdMs);
            closing.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve();
            });
          });
          return new Response(r.bytes, { status: r.status, headers: r.headers });
        }
        case "deliver-late": {
          // Held past the client's timeout, then sent on: NetBox acts although the client gave
          // up (it is not cancelled by the client's disconnect, nor by close()).
          const delivery = new Promise<void>((resolve) => {
            const release = () => {
              clearTimeout(timer);
              releases.delete(release);
              resolve();
            };
            const timer = setTimeout(release, lateMs);
            releases.add(release);
          }).then(() => forward(request, body));
          late.add(delivery);
          delivery.finally(() => late.delete(delivery)).catch(() => {});
          const r = await delivery;
          return new Response(r.bytes, { status: r.status, headers: r.headers });
        }
      }
    },
  );
  const close = async () => {
    await Promise.allSettled([...late]);
    closing.abort();
    await server.finished;
  };
  const releaseLate = () => {
    for (const release of [...releases]) release();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    counts,
    bulkWrites,
    releaseLate,
    close,
    [Symbol.asyncDispose]: close,
  };
}
