/**
 * The readers of each observation format (ARP and neighbour tables, DHCP leases, nmap XML, plain
 * CSV/JSON), private to `observed.ts`. Each reader returns rows `{line, address, mac, seen_at}` or
 * `null` for an entry that is not a sighting (incomplete ARP, expired lease, host down), and
 * throws {@linkcode LineError} on a line it cannot read: the caller names file:line.
 *
 * @module
 */

/** A line the reader cannot read. */
export class LineError extends Error {
  /** @param line 1-based line number @param reason what was expected */
  constructor(readonly line: number, reason: string) {
    super(reason);
  }
}

/** One sighting as a reader returns it (the address not yet checked). */
export interface RawSighting {
  /** 1-based line of the entry. */
  line: number;
  /** The address as written (no mask). */
  address: string;
  /** The MAC as written, or `null`. */
  mac: string | null;
  /** When it was seen (ISO 8601), or `null` for "when the file was read". */
  seen_at: string | null;
  /** A source named in the file (plain CSV/JSON), else `null`. */
  source?: string | null;
}

/** A reader: the file's text and the time the file is read at (for lease expiry). */
export type Reader = (text: string, now: Date) => RawSighting[];

const MAC_ANY =
  /^(?:[0-9a-f]{1,2}(?:[:-][0-9a-f]{1,2}){5}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})$/i;

/**
 * A MAC in NetBox's form (`00:1A:2B:3C:4D:5E`) from `001a.2b3c.4d5e`, `0:1a:2b:3c:4d:5e`,
 * `00-1a-…`, or `null` when it is not one.
 */
export function normalizeMac(text: string): string | null {
  const t = text.trim();
  if (!MAC_ANY.test(t)) return null;
  const hex = t.includes(".")
    ? t.replaceAll(".", "").match(/../g)!
    : t.split(/[:-]/).map((p) => p.padStart(2, "0"));
  return hex.join(":").toUpperCase();
}

function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Linux `ip neigh` / `ip -6 neigh`: `ADDR dev IF [lladdr MAC] [router] STATE`. */
export const ipNeigh: Reader = (text) => {
  const out: RawSighting[] = [];
  lines(text).forEach((raw, i) => {
    const l = raw.trim();
    if (l === "") return;
    const m = l.match(/^(\S+)\s+dev\s+\S+(?:\s+lladdr\s+(\S+))?(?:\s+\S+)*$/);
    if (!m) throw new LineError(i + 1, "expected `ADDRESS dev IFACE [lladdr MAC] STATE`");
    const state = l.split(/\s+/).at(-1)!.toUpperCase();
    if (!m[2] || state === "INCOMPLETE" || state === "FAILED") return;
    out.push({ line: i + 1, address: m[1], mac: m[2], seen_at: null });
  });
  return out;
};

/** `arp -an` (Linux and BSD): `? (ADDR) at MAC [ether] on IF`, `at <incomplete>`. */
export const arpAn: Reader = (text) => {
  const out: RawSighting[] = [];
  lines(text).forEach((raw, i) => {
    const l = raw.trim();
    if (l === "") return;
    const m = l.match(/^\S+\s+\(([^)]+)\)\s+at\s+(\S+)/);
    if (!m) throw new LineError(i + 1, "expected `? (ADDRESS) at MAC … on IFACE`");
    if (m[2].startsWith("<") || m[2] === "(incomplete)") return;
    out.push({ line: i + 1, address: m[1], mac: m[2], seen_at: null });
  });
  return out;
};

/**
 * A table with a header line: rows before the header and lines matching `noise` are skipped;
 * each row after it goes through `row` (which returns `null` for an entry that is no sighting).
 */
function table(
  header: RegExp,
  noise: RegExp,
  row: (cells: string[], line: number) => RawSighting | null,
  what: string,
): Reader {
  return (text) => {
    const out: RawSighting[] = [];
    let started = false;
    lines(text).forEach((raw, i) => {
      const l = raw.trim();
      if (!started) {
        if (header.test(l)) started = true;
        else if (l !== "" && !noise.test(l)) {
          throw new LineError(i + 1, `expected the header of ${what}`);
        }
        return;
      }
      if (l === "" || noise.test(l)) return;
      const got = row(l.split(/\s+/), i + 1);
      if (got) out.push(got);
    });
    if (!started) throw new LineError(1, `expected the header of ${what}`);
    return out;
  };
}

const CISCO_NOISE =
  /^(?:\S+[#>]\s*show\b.*|Flags:.*|[*+#A-Z]\s+-\s.*|IP ARP Table.*|Total (?:number of )?entries.*|#.*)$/i;

/** Cisco IOS `show ip arp`: `Internet ADDR AGE MAC ARPA IF`; `Incomplete` rows skipped. */
export const iosArp: Reader = table(
  /^Protocol\s+Address\s+Age/i,
  CISCO_NOISE,
  (c, line) => {
    if (c[0] !== "Internet" || c.length < 4) {
      throw new LineError(line, "expected `Internet ADDRESS AGE MAC TYPE [IFACE]`");
    }
    if (/^incomplete$/i.test(c[3])) return null;
    return { line, address: c[1], mac: c[3], seen_at: null };
  },
  "`show ip arp` (Protocol Address Age …)",
);

/** Cisco NX-OS `show ip arp`: `ADDR AGE MAC IF`; `INCOMPLETE` rows skipped. */
export const nxosArp: Reader = table(
  /^Address\s+Age\s+MAC Address\s+Interface/i,
  CISCO_NOISE,
  (c, line) => {
    if (c.length < 3) throw new LineError(line, "expected `ADDRESS AGE MAC IFACE`");
    if (/^incomplete$/i.test(c[2])) return null;
    return { line, address: c[0].replace(/\*$/, ""), mac: c[2], seen_at: null };
  },
  "NX-OS `show ip arp` (Address Age MAC Address Interface)",
);

/** Cisco `show ipv6 neighbors`: `ADDR AGE MAC STATE IF`; `INCMP` rows skipped. */
export const ciscoIpv6: Reader = table(
  /^IPv6 Address\s+Age\s+Link-layer Addr/i,
  CISCO_NOISE,
  (c, line) => {
    if (c.length < 4) throw new LineError(line, "expected `ADDRESS AGE MAC STATE IFACE`");
    if (/^INCMP$/i.test(c[3]) || c[2] === "-") return null;
    return { line, address: c[0], mac: c[2], seen_at: null };
  },
  "`show ipv6 neighbors` (IPv6 Address Age Link-layer Addr …)",
);

/** Junos `show arp no-resolve`: `MAC ADDR IF FLAGS`. */
export const junosArp: Reader = table(
  /^MAC Address\s+Address\s+Interface/i,
  /^(?:Total entries:.*|\S+@\S+[>#].*|\{.*\})$/i,
  (c, line) => {
    if (c.length < 3) throw new LineError(line, "expected `MAC ADDRESS IFACE FLAGS`");
    return { line, address: c[1], mac: c[0], seen_at: null };
  },
  "`show arp no-resolve` (MAC Address Address Interface Flags)",
);

/** `YYYY/MM/DD HH:MM:SS` (UTC) or `epoch N` of dhcpd.leases, as a Date; `null` for `never`. */
function dhcpdTime(value: string): Date | null | undefined {
  if (/^never$/i.test(value)) return null;
  const epoch = value.match(/^epoch\s+(\d+)/);
  if (epoch) return new Date(Number(epoch[1]) * 1000);
  const m = value.match(/^\d\s+(\d{4})\/(\d{2})\/(\d{2})\s+(\d{2}):(\d{2}):(\d{2})/);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/**
 * ISC dhcpd `dhcpd.leases`: `lease ADDR { … }` blocks (also `iaaddr` of IPv6 leases). A lease
 * whose binding state is not active, or whose `ends` is past, is no sighting. The last block of
 * an address wins (dhcpd appends).
 */
export const dhcpdLeases: Reader = (text, now) => {
  const found = new Map<string, RawSighting | null>();
  let cur:
    | {
      line: number;
      depth: number;
      address: string;
      mac: string | null;
      ends?: Date | null;
      state?: string;
    }
    | undefined;
  let depth = 0;
  const all = lines(text);
  all.forEach((raw, i) => {
    const l = raw.replace(/#.*$/, "").trim();
    if (l === "") return;
    const open = l.match(/^(?:lease|iaaddr)\s+(\S+)\s*\{$/);
    if (open) {
      if (cur) throw new LineError(i + 1, "a lease inside a lease: expected `}` first");
      cur = { line: i + 1, depth: ++depth, address: open[1], mac: null };
      return;
    }
    if (/\{$/.test(l)) return void depth++;
    if (l === "}") {
      if (depth === 0) throw new LineError(i + 1, "a `}` without a block");
      if (cur && depth === cur.depth) {
        const live = cur.state === undefined || cur.state === "active";
        const ended = cur.ends instanceof Date && cur.ends.getTime() < now.getTime();
        found.delete(cur.address);
        found.set(
          cur.address,
          live && !ended
            ? { line: cur.line, address: cur.address, mac: cur.mac, seen_at: null }
            : null,
        );
        cur = undefined;
      }
      depth--;
      return;
    }
    if (!/;$/.test(l)) throw new LineError(i + 1, "expected a statement ending in `;`");
    if (!cur) return; // server-duid, authoring-byte-order, failover state …
    const ends = l.match(/^ends\s+(.+);$/);
    if (ends) {
      const t = dhcpdTime(ends[1]);
      if (t === undefined) throw new LineError(i + 1, "expected `ends W YYYY/MM/DD HH:MM:SS;`");
      cur.ends = t;
      return;
    }
    const state = l.match(/^binding state\s+(\S+);$/);
    if (state) cur.state = state[1].toLowerCase();
    const hw = l.match(/^hardware ethernet\s+(\S+);$/);
    if (hw) cur.mac = hw[1];
  });
  if (cur || depth !== 0) throw new LineError(all.length, "the file ends inside a block");
  return [...found.values()].filter((s): s is RawSighting => s !== null);
};

/** A CSV line split on commas, with `"…"` quoting. */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') cell += c, i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") cells.push(cell), cell = "";
    else cell += c;
  }
  cells.push(cell);
  return cells.map((s) => s.trim());
}

/** A CSV with a header row: each row as an object by column name. */
function csvRows(
  text: string,
): { header: string[]; rows: { line: number; get: (col: string) => string }[] } {
  const all = lines(text);
  const first = all.findIndex((l) => l.trim() !== "");
  const header = csvCells(all[first]).map((h) => h.toLowerCase());
  const rows = [];
  for (let i = first + 1; i < all.length; i++) {
    if (all[i].trim() === "") continue;
    const cells = csvCells(all[i]);
    if (cells.length < header.length - 2 || cells.length > header.length) {
      throw new LineError(i + 1, `expected ${header.length} columns (${header.join(",")})`);
    }
    rows.push({ line: i + 1, get: (col: string) => cells[header.indexOf(col)] ?? "" });
  }
  return { header, rows };
}

/**
 * Kea memfile lease CSV, v4 (`address,hwaddr,…,expire,…,state`) or v6 (`address,duid,…`).
 * A lease in a state other than 0 (declined, expired-reclaimed) or past its `expire` is no
 * sighting; the last row of an address wins (Kea appends).
 */
export const keaCsv: Reader = (text, now) => {
  const { rows } = csvRows(text);
  const found = new Map<string, RawSighting | null>();
  for (const r of rows) {
    const expire = Number(r.get("expire"));
    const state = r.get("state") === "" ? 0 : Number(r.get("state"));
    if (!Number.isFinite(expire) || !Number.isInteger(state)) {
      throw new LineError(r.line, "expected numbers in `expire` and `state`");
    }
    const live = state === 0 && expire * 1000 >= now.getTime();
    const address = r.get("address");
    found.delete(address);
    found.set(
      address,
      live ? { line: r.line, address, mac: r.get("hwaddr") || null, seen_at: null } : null,
    );
  }
  return [...found.values()].filter((s): s is RawSighting => s !== null);
};

/**
 * dnsmasq leases: `EXPIRY MAC ADDR HOST CLIENT-ID` (IPv4) and, after `duid …`, `EXPIRY IAID ADDR
 * HOST CLIENT-ID` (IPv6, no MAC). Expiry 0 never expires; a past one is no sighting.
 */
export const dnsmasqLeases: Reader = (text, now) => {
  const out: RawSighting[] = [];
  lines(text).forEach((raw, i) => {
    const l = raw.trim();
    if (l === "" || /^duid\s+\S+$/.test(l)) return;
    const c = l.split(/\s+/);
    if (c.length !== 5 || !/^\d+$/.test(c[0])) {
      throw new LineError(i + 1, "expected `EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID`");
    }
    const expiry = Number(c[0]);
    if (expiry !== 0 && expiry * 1000 < now.getTime()) return;
    const mac = c[2].includes(":") && !c[2].includes(".") ? null : c[1];
    out.push({
      line: i + 1,
      address: c[2],
      mac: mac && normalizeMac(mac) ? mac : null,
      seen_at: null,
    });
  });
  return out;
};

function lineAt(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function attr(tag: string, name: string): string | undefined {
  return tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
}

/** nmap XML (`-oX`): `<host>` blocks with `<status state="up">`; others are no sighting. */
export const nmapXml: Reader = (text) => {
  if (!/<nmaprun[\s>]/.test(text)) throw new LineError(1, "expected an <nmaprun> document");
  if (!/<\/nmaprun>/.test(text)) {
    throw new LineError(lineAt(text, text.length), "the document ends before </nmaprun>");
  }
  const out: RawSighting[] = [];
  for (const m of text.matchAll(/<host[\s>][\s\S]*?<\/host>/g)) {
    const block = m[0];
    const line = lineAt(text, m.index!);
    const status = block.match(/<status\s[^>]*>/)?.[0];
    if (!status) throw new LineError(line, "expected <status state=…> in <host>");
    if (attr(status, "state") !== "up") continue;
    const addrs = [...block.matchAll(/<address\s[^>]*>/g)].map((a) => a[0]);
    const ip = addrs.find((a) => /addrtype="ipv[46]"/.test(a));
    if (!ip) throw new LineError(line, 'expected <address addrtype="ipv4|ipv6"> in <host>');
    const mac = addrs.find((a) => /addrtype="mac"/.test(a));
    const end = attr(block.match(/<host[^>]*>/)![0], "endtime");
    out.push({
      line,
      address: attr(ip, "addr") ?? "",
      mac: mac ? attr(mac, "addr") ?? null : null,
      seen_at: end && /^\d+$/.test(end) ? new Date(Number(end) * 1000).toISOString() : null,
    });
  }
  return out;
};

function plainTime(value: string, line: number): string | null {
  if (value === "") return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new LineError(line, `seen_at "${value}" is not a date (ISO 8601)`);
  return new Date(t).toISOString();
}

/** Plain CSV with a header naming `address` and optionally `mac`, `seen_at`, `source`. */
export const plainCsv: Reader = (text) => {
  const { header, rows } = csvRows(text);
  if (!header.includes("address")) throw new LineError(1, "expected a column `address`");
  return rows.map((r) => ({
    line: r.line,
    address: r.get("address"),
    mac: r.get("mac") || null,
    seen_at: plainTime(r.get("seen_at"), r.line),
    source: r.get("source") || null,
  }));
};

/** Plain JSON: a list (or `{observations: […]}`) of `{address, mac?, seen_at?, source?}`. */
export const plainJson: Reader = (text) => {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LineError(1, `not JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { observations?: unknown })?.observations;
  if (!Array.isArray(list)) throw new LineError(1, "expected a list of {address, mac, seen_at}");
  return list.map((o, i) => {
    const where = `item ${i}`;
    if (typeof o !== "object" || o === null || typeof o.address !== "string") {
      throw new LineError(1, `${where}: expected an object with a string \`address\``);
    }
    for (const k of ["mac", "seen_at", "source"]) {
      if (o[k] !== undefined && o[k] !== null && typeof o[k] !== "string") {
        throw new LineError(1, `${where}: \`${k}\` must be a string`);
      }
    }
    let seen: string | null = null;
    try {
      seen = plainTime(o.seen_at ?? "", 1);
    } catch {
      throw new LineError(1, `${where}: seen_at "${o.seen_at}" is not a date (ISO 8601)`);
    }
    return { line: 1, address: o.address, mac: o.mac ?? null, seen_at: seen, source: o.source };
  });
};
