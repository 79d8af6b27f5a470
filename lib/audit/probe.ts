/**
 * Live checks of `audit-ips --probe tcp:22,443`: a TCP connect to each address in scope, a few at
 * a time, each attempt bounded by a timeout. An address that accepts the connection or refuses it
 * (a TCP reset is an answer) is live; one that does not answer in time is not. The sightings feed
 * the network rules like observations from a file (source `tcp:PORT`). Probes go out through
 * this host's routing table, whatever VRF NetBox puts the address in.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import { mapLimit } from "../base/limit.ts";
import { formatIp } from "../ipam/ip.ts";
import { parseAddress } from "./_index.ts";
import type { Observation } from "./observed.ts";

/** Connects to `host:port`: resolves when the host answered (accepted or refused). */
export type TcpConnect = (host: string, port: number, timeoutMs: number) => Promise<boolean>;

/**
 * The system's TCP connect (`Deno.connect`, needs `--allow-net`): `true` when the connection is
 * accepted or refused, `false` on timeout or an unreachable host.
 *
 * @param host the address
 * @param port the TCP port
 * @param timeoutMs how long to wait
 * @returns whether the host answered
 *
 * @example
 * ```ts ignore
 * import { systemConnect } from "./probe.ts";
 * console.log(await systemConnect("127.0.0.1", 22, 500));
 * ```
 */
export const systemConnect: TcpConnect = async (
  host: string,
  port: number,
  timeoutMs: number,
): Promise<boolean> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const conn = await Promise.race([attempt, timeout]);
    if (conn === "timeout") {
      attempt.then((c) => c.close(), () => {}); // a late connection is closed, not leaked
      return false;
    }
    conn.close();
    return true;
  } catch (err) {
    return err instanceof Deno.errors.ConnectionRefused;
  } finally {
    clearTimeout(timer);
  }
};

/** Options of {@linkcode probeAddresses}. */
export interface ProbeOptions {
  /** The TCP ports tried, in order, until one answers. */
  ports: readonly number[];
  /** Connects in flight. @default {32} */
  concurrency?: number;
  /** Each attempt's timeout in milliseconds. @default {1000} */
  timeoutMs?: number;
  /** The connect. @default {systemConnect} */
  connect?: TcpConnect;
  /** The time of the sightings. @default {new Date()} */
  now?: Date;
}

/**
 * Parses `--probe`: `tcp:PORT[,PORT…]`.
 *
 * @param spec the flag's value
 * @returns the ports
 * @throws {InputError} when it is not `tcp:` and ports 1–65535
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseProbeSpec } from "./probe.ts";
 * assert(parseProbeSpec("tcp:22,443").join() === "22,443");
 * ```
 */
export function parseProbeSpec(spec: string): number[] {
  const m = spec.match(/^tcp:(.+)$/);
  const ports = m ? m[1].split(",").map((p) => p.trim()) : [];
  if (!ports.length || !ports.every((p) => /^\d+$/.test(p) && +p >= 1 && +p <= 65535)) {
    throw new InputError(
      `Cannot parse --probe "${spec}": expected tcp:PORT[,PORT…] with ports 1-65535`,
    );
  }
  return [...new Set(ports.map(Number))];
}

/**
 * Probes every address (its host, without the mask): a few at a time, each port until one
 * answers. Takes at most about `ceil(n / concurrency) × ports × timeout`.
 *
 * @param ips the addresses (NetBox's)
 * @param options ports, concurrency, timeout, connect
 * @returns a sighting per address that answered, its VRF given by id
 *
 * @example With a connect that only 10.0.0.1 answers
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { probeAddresses } from "./probe.ts";
 * const seen = await probeAddresses(
 *   [{ address: "10.0.0.1/24" }, { address: "10.0.0.2/24" }],
 *   { ports: [22], connect: (host) => Promise.resolve(host === "10.0.0.1") },
 * );
 * assert(seen.length === 1 && seen[0].source === "tcp:22");
 * ```
 */
export async function probeAddresses(
  ips: readonly { address: string; vrf?: { id: number } | null }[],
  options: ProbeOptions,
): Promise<Observation[]> {
  const { ports } = options;
  const connect = options.connect ?? systemConnect;
  const timeoutMs = options.timeoutMs ?? 1000;
  const seenAt = (options.now ?? new Date()).toISOString();
  const hosts = new Map<string, { family: 4 | 6; host: bigint; vrf: string | null }>();
  for (const ip of ips) {
    const parsed = parseAddress(ip.address);
    if (!parsed) continue;
    const address = formatIp({ family: parsed.family, value: parsed.host });
    const vrf = ip.vrf ? String(ip.vrf.id) : null;
    hosts.set(`${vrf}/${address}`, { family: parsed.family, host: parsed.host, vrf });
  }
  const list = [...hosts.entries()];
  const answers = await mapLimit(list, options.concurrency ?? 32, async ([key]) => {
    const address = key.slice(key.indexOf("/") + 1);
    for (const port of ports) {
      if (await connect(address, port, timeoutMs)) return port;
    }
    return undefined;
  });
  const out: Observation[] = [];
  list.forEach(([key, h], i) => {
    const port = answers[i];
    if (port === undefined) return;
    out.push({
      address: key.slice(key.indexOf("/") + 1),
      family: h.family,
      host: h.host,
      mac: null,
      seen_at: seenAt,
      source: `tcp:${port}`,
      format: "tcp-probe",
      vrf: h.vrf,
    });
  });
  return out;
}
