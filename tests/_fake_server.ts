/**
 * A scripted fake HTTP server on 127.0.0.1 (random port) for fault tests: a queue of scripted
 * answers (status, headers, JSON or raw body, delay), connection resets, hangs and truncated
 * bodies, and a record of every request received. Built on a raw TCP listener so it can break
 * connections the way real networks do; every answer closes its connection.
 *
 * @module
 */

/** One scripted answer. */
export type Scripted =
  | {
    status?: number;
    headers?: Record<string, string>;
    /** A string is sent raw; anything else as JSON. `undefined` sends an empty body. */
    body?: unknown;
    /** Wait this long (real time) before answering. */
    delayMs?: number;
  }
  /** Close the connection after reading the request, without answering. */
  | { reset: true }
  /** Never answer (the connection closes when the server does). */
  | { hang: true }
  /** Send the status line, headers and half of the body, then close. */
  | { truncate: true; status?: number; body: unknown };

/** One request the server received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/api/dcim/sites/?limit=1`. */
  path: string;
  headers: Headers;
  body: string;
}

/** Options of {@linkcode startFakeServer}. */
export interface FakeServerOptions {
  /**
   * Answer `GET /api/status/` with this NetBox version when the queue does not script it
   * (the request is still recorded). `null` disables the automatic answer.
   * @default {"4.7.3"}
   */
  version?: string | null;
  /** Answers requests once the queue is empty. @default {404 {"detail": "Not found."}} */
  fallback?: (request: RecordedRequest) => Scripted;
}

/** A running fake server. */
export interface FakeServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** `"GET /api/status/"` lines, for compact sequence assertions. */
  lines(): string[];
  /** Appends answers to the queue (answered in order, after the automatic status answer). */
  push(...answers: Scripted[]): void;
  /** Stops the server and closes every open connection. */
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Starts a fake server on 127.0.0.1 with a random port.
 *
 * @example
 * ```ts
 * import { startFakeServer } from "./_fake_server.ts";
 * await using server = startFakeServer();
 * server.push({ status: 503 }, { body: { ok: true } });
 * ```
 */
export function startFakeServer(options: FakeServerOptions = {}): FakeServer {
  const { version = "4.7.3", fallback = () => ({ status: 404, body: { detail: "Not found." } }) } =
    options;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const queue: Scripted[] = [];
  const requests: RecordedRequest[] = [];
  const open = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  const timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  let closed = false;

  const answerFor = (request: RecordedRequest): Scripted => {
    if (version !== null && request.method === "GET" && request.path === "/api/status/") {
      return { body: { "netbox-version": version, "django-version": "5.2" } };
    }
    return queue.shift() ?? fallback(request);
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const id = setTimeout(() => {
        timers.delete(id);
        resolve();
      }, ms);
      timers.set(id, resolve);
    });

  const serve = async (conn: Deno.Conn) => {
    try {
      const request = await readRequest(conn);
      if (!request) return;
      requests.push(request);
      const answer = answerFor(request);
      if ("reset" in answer) return;
      if ("hang" in answer) {
        await new Promise<void>((resolve) => hangs.add(resolve));
        return;
      }
      if ("truncate" in answer) {
        const body = encoder.encode(JSON.stringify(answer.body));
        await writeAll(conn, head(answer.status ?? 200, {}, body.length, "application/json"));
        await writeAll(conn, body.slice(0, Math.floor(body.length / 2)));
        return;
      }
      if (answer.delayMs) await sleep(answer.delayMs);
      if (closed) return;
      const raw = typeof answer.body === "string";
      const body = answer.body === undefined
        ? new Uint8Array()
        : encoder.encode(raw ? answer.body as string : JSON.stringify(answer.body));
      const type = answer.body === undefined ? undefined : raw ? "text/html" : "application/json";
      await writeAll(conn, head(answer.status ?? 200, answer.headers ?? {}, body.length, type));
      await writeAll(conn, body);
    } catch {
      // the client went away: nothing to answer
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };

  const hangs = new Set<() => void>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        const handler = serve(conn);
        handlers.add(handler);
        handler.finally(() => handlers.delete(handler));
      }
    } catch {
      // listener closed
    }
  })();

  const close = async () => {
    if (closed) return;
    closed = true;
    listener.close();
    for (const [id, resolve] of timers) {
      clearTimeout(id);
      resolve();
    }
    timers.clear();
    for (const resolve of hangs) resolve();
    hangs.clear();
    await accepting;
    await Promise.all([...handlers]);
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    lines: () => requests.map((r) => `${r.method} ${r.path}`),
    push: (...answers) => queue.push(...answers),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function head(
  status: number,
  headers: Record<string, string>,
  length: number,
  type: string | undefined,
): Uint8Array {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}`];
  const all: Record<string, string> = { "Connection": "close", "Content-Length": String(length) };
  if (type) all["Content-Type"] = type;
  all["X-Request-ID"] = crypto.randomUUID();
  Object.assign(all, headers);
  for (const [name, value] of Object.entries(all)) lines.push(`${name}: ${value}`);
  return encoder.encode(lines.join("\r\n") + "\r\n\r\n");
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

async function readRequest(conn: Deno.Conn): Promise<RecordedRequest | undefined> {
  let buffer: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(16 * 1024);
  let headerEnd = -1;
  while (headerEnd < 0) {
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    buffer = concat(buffer, chunk.subarray(0, n));
    headerEnd = indexOfCrlfCrlf(buffer);
  }
  const headText = decoder.decode(buffer.subarray(0, headerEnd));
  const [requestLine, ...headerLines] = headText.split("\r\n");
  const [method, path] = requestLine.split(" ");
  const headers = new Headers();
  for (const line of headerLines) {
    const at = line.indexOf(":");
    if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? 0);
  let body: Uint8Array = buffer.subarray(headerEnd + 4);
  while (body.length < length) {
    const n = await conn.read(chunk);
    if (n === null) break;
    body = concat(body, chunk.subarray(0, n));
  }
  return { method, path, headers, body: decoder.decode(body) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfCrlfCrlf(data: Uint8Array): number {
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) return i;
  }
  return -1;
}

/** A fake clock: `sleep` returns at once and moves time forward; every wait is recorded. */
export interface FakeClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Every `sleep` duration, in order. */
  readonly sleeps: number[];
}

/**
 * A clock for tests that never sleeps.
 *
 * @example
 * ```ts
 * import { fakeClock } from "./_fake_server.ts";
 * const clock = fakeClock();
 * await clock.sleep(2000);
 * console.assert(clock.sleeps[0] === 2000);
 * ```
 */
export function fakeClock(start = Date.parse("2025-01-01T00:00:00Z")): FakeClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    sleeps,
  };
}
