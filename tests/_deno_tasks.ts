/**
 * Test helper: the task entries of `deno.json`, parsed from the file (never copied), and the
 * plumbing to run a task script as a subprocess exactly the way its entry does — with its
 * permission flags, a cleared environment and a cheap invocation per task.
 *
 * @module
 */

/** The repository root (the directory holding `deno.json`). */
export const ROOT: string = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** One `deno.json` task entry that runs a `tasks/*.ts` script. */
export interface DenoTaskEntry {
  /** The task key, e.g. `"find-free-ip"`. */
  name: string;
  /** The command line as written in `deno.json`. */
  command: string;
  /** Every `deno run` flag between `run` and the script, in order. */
  denoFlags: string[];
  /** The permission grants among `denoFlags` (`--allow-*`, `-A`, `-P…`). */
  permissions: string[];
  /** The script path relative to the root, e.g. `"tasks/find-free-ip.ts"`. */
  script: string;
  /** Arguments after the script in the entry (usually none). */
  scriptArgs: string[];
}

/** `deno run` flags that take their value as the next word when written without `=`. */
const VALUE_FLAGS = new Set([
  "--config",
  "-c",
  "--import-map",
  "--lock",
  "--cert",
  "--location",
  "--seed",
  "--env-file",
  "--inspect",
]);

/**
 * Splits a command line into words the way a POSIX shell would for the simple commands found in
 * `deno.json` (quotes and backslashes; no expansions).
 *
 * @example
 * ```ts
 * import { splitWords } from "./_deno_tasks.ts";
 * console.assert(splitWords(`deno run 'a b' "c"`).join("|") === "deno|run|a b|c");
 * ```
 */
export function splitWords(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`Cannot split the command: unbalanced ${quote} in ${command}`);
  if (inWord) words.push(word);
  return words;
}

/** Whether a `deno run` flag grants a permission. */
export function isPermissionFlag(flag: string): boolean {
  return /^--allow-/.test(flag) || flag === "-A" || /^-P($|=)/.test(flag) ||
    /^--permission-set($|=)/.test(flag);
}

/**
 * Parses one task command. Returns `undefined` unless it is a single `deno run … tasks/<x>.ts`.
 *
 * @example
 * ```ts
 * import { parseTaskCommand } from "./_deno_tasks.ts";
 * const e = parseTaskCommand("x", "deno run --no-prompt --allow-net tasks/x.ts");
 * console.assert(e?.script === "tasks/x.ts" && e.permissions.join() === "--allow-net");
 * ```
 */
export function parseTaskCommand(name: string, command: string): DenoTaskEntry | undefined {
  if (/[;&|<>`$]/.test(command)) return undefined;
  const words = splitWords(command);
  if (words[0] !== "deno" || words[1] !== "run") return undefined;
  const denoFlags: string[] = [];
  let i = 2;
  for (; i < words.length && words[i].startsWith("-"); i++) {
    denoFlags.push(words[i]);
    if (VALUE_FLAGS.has(words[i]) && i + 1 < words.length) denoFlags.push(words[++i]);
  }
  const script = words[i]?.replace(/^\.\//, "");
  if (script === undefined || !/^tasks\/[A-Za-z0-9_-]+\.ts$/.test(script)) return undefined;
  return {
    name,
    command,
    denoFlags,
    permissions: denoFlags.filter(isPermissionFlag),
    script,
    scriptArgs: words.slice(i + 1),
  };
}

/**
 * Reads the entries of `deno.json` that run a `tasks/*.ts` script.
 *
 * @param configPath the `deno.json` to read
 * @returns the entries, in file order
 */
export async function readTaskEntries(
  configPath = `${ROOT}/deno.json`,
): Promise<DenoTaskEntry[]> {
  const config = JSON.parse(await Deno.readTextFile(configPath)) as {
    tasks?: Record<string, string | { command?: string }>;
  };
  const entries: DenoTaskEntry[] = [];
  for (const [name, value] of Object.entries(config.tasks ?? {})) {
    const command = typeof value === "string" ? value : value.command;
    if (command === undefined) continue;
    const entry = parseTaskCommand(name, command);
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * The entry that runs `tasks/<task>.ts`; throws when `deno.json` has none.
 *
 * @param entries the entries from {@linkcode readTaskEntries}
 * @param task the task name, e.g. `"find-free-ip"`
 * @returns its entry
 */
export function taskEntry(entries: DenoTaskEntry[], task: string): DenoTaskEntry {
  const entry = entries.find((e) => e.script === `tasks/${task}.ts`);
  if (!entry) throw new Error(`no deno.json entry runs tasks/${task}.ts`);
  return entry;
}

/** A set of permission flags with one grant taken away. */
export interface Removal {
  /** What was removed, e.g. `--allow-net` or `--allow-env: NETBOX_URL`. */
  label: string;
  /** The permission flags without it. */
  flags: string[];
}

/**
 * Every way of taking one grant away: a list-valued flag (`--allow-env=A,B`) loses one name at a
 * time (the flag goes when its last name goes); other flags are dropped whole.
 *
 * @example
 * ```ts
 * import { permissionRemovals } from "./_deno_tasks.ts";
 * const r = permissionRemovals(["--allow-net", "--allow-env=A,B"]);
 * console.assert(r.map((x) => x.flags.join(" ")).join("|") === "--allow-env=A,B|--allow-net --allow-env=B|--allow-net --allow-env=A");
 * ```
 */
export function permissionRemovals(flags: string[]): Removal[] {
  const removals: Removal[] = [];
  flags.forEach((flag, index) => {
    const others = (replacement?: string) =>
      flags.flatMap((f, j) => j !== index ? [f] : replacement === undefined ? [] : [replacement]);
    const eq = flag.indexOf("=");
    const values = eq < 0 ? [] : flag.slice(eq + 1).split(",").filter((v) => v !== "");
    if (values.length <= 1) {
      removals.push({ label: flag, flags: others() });
      return;
    }
    for (const value of values) {
      const rest = values.filter((v) => v !== value).join(",");
      removals.push({
        label: `${flag.slice(0, eq)}: ${value}`,
        flags: others(`${flag.slice(0, eq)}=${rest}`),
      });
    }
  });
  return removals;
}

/** The result of one subprocess run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The command line, for failure messages (no secrets: the token travels in the environment). */
  commandLine: string;
}

/**
 * What a child process keeps from this environment even when everything else is cleared: what
 * Deno needs to run (PATH, HOME, the cache location) and what reaches registries from behind a
 * TLS-inspecting or corporate proxy (an npm registry override, the proxy variables, and the CA
 * settings Deno reads: `NODE_EXTRA_CA_CERTS`, `DENO_CERT`, `DENO_TLS_CA_STORE`).
 */
export const PASSTHROUGH_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "NPM_CONFIG_REGISTRY",
  "NODE_EXTRA_CA_CERTS",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
];

/**
 * The environment of a task subprocess: {@linkcode PASSTHROUGH_ENV} plus `vars`. Everything else
 * is cleared.
 */
export function childEnv(vars: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSTHROUGH_ENV) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) env[name] = value;
  return env;
}

/**
 * Runs `deno <args>` with a cleared environment (see {@linkcode childEnv}).
 *
 * @param args the arguments after the `deno` executable
 * @param opts working directory, environment variables, stdin text, timeout
 */
export async function runDeno(
  args: string[],
  opts: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    stdin?: string;
    timeoutMs?: number;
  } = {},
): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env ?? {}),
    clearEnv: true,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(opts.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    commandLine: `deno ${args.join(" ")}`,
  };
}

/** Describes a result for an assertion message. */
export function describe(result: RunResult): string {
  const cut = (s: string) => s.length > 3000 ? `${s.slice(0, 3000)}…` : s;
  return `${result.commandLine}\nexit ${result.code}\n--- stdout\n${
    cut(result.stdout)
  }\n--- stderr\n${cut(result.stderr)}`;
}

/** Whether stderr carries Deno's permission message (what a missing grant must produce). */
export function isPermissionFailure(result: RunResult): boolean {
  return result.code === 2 &&
    /NotCapable|Requires [a-z-]+ access/.test(result.stderr) &&
    /--allow-[a-z]+/.test(result.stderr);
}

/** Parses a task's JSON result document, with the whole run in the error message. */
export function parseDoc(text: string, result: RunResult): {
  netbox?: { url?: string; version?: string | null };
  summary: Record<string, unknown>;
  items: Record<string, unknown>[];
  [key: string]: unknown;
} {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`Cannot parse the task's JSON result\n${describe(result)}`);
  }
  const d = doc as { summary?: unknown; items?: unknown };
  if (
    typeof d !== "object" || d === null || typeof d.summary !== "object" || !Array.isArray(d.items)
  ) {
    throw new Error(`The task's JSON result is not {summary, items}\n${describe(result)}`);
  }
  return doc as ReturnType<typeof parseDoc>;
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping the order.
 *
 * @example
 * ```ts
 * import { mapPool } from "./_deno_tasks.ts";
 * console.assert((await mapPool([1, 2, 3], 2, (n) => Promise.resolve(n * 2))).join() === "2,4,6");
 * ```
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Where a cheap invocation puts its files and how it gets the token. */
export interface InvocationContext {
  /** An existing directory for input and output files. */
  dir: string;
  /** Pass the token with `--token-file` (exercises `--allow-read`) instead of `NETBOX_TOKEN`. */
  tokenFile?: string;
  /** Write the result with `--output` (exercises `--allow-write`) instead of stdout. */
  output?: string;
}

/** A cheap, read-only run of one task and the check of its result. */
export interface Invocation {
  /** The task's arguments (after the script). */
  args: string[];
  /** Asserts that a run with these arguments did its job. */
  check(result: RunResult): Promise<void>;
}

/** The example-inventory facts the invocations rely on (tests/netbox/seed.ts). */
export const EXAMPLE = {
  prefix: "192.168.3.0/24",
  device: "docker-01",
  interface: "eth0",
  address: "192.168.3.10/24",
} as const;

function fail(message: string, result: RunResult): never {
  throw new Error(`${message}\n${describe(result)}`);
}

async function resultText(result: RunResult, ctx: InvocationContext): Promise<string> {
  if (!ctx.output) return result.stdout;
  if (result.stdout.trim() !== "") {
    fail("the task printed a result on stdout despite --output", result);
  }
  try {
    return await Deno.readTextFile(ctx.output);
  } catch {
    fail(`the task did not write --output ${ctx.output}`, result);
  }
}

/**
 * The cheap, read-only invocation of a task script (by its path in `deno.json`), used by every
 * harness test. A task without one here fails the tests: add it when adding a task.
 *
 * @param script e.g. `"tasks/find-free-ip.ts"`
 * @param ctx files and token mode
 */
export async function cheapInvocation(
  script: string,
  ctx: InvocationContext,
): Promise<Invocation> {
  const common = [
    ...(ctx.tokenFile ? ["--token-file", ctx.tokenFile] : []),
    ...(ctx.output ? ["--output", ctx.output] : []),
    "--format",
    "json",
  ];
  const okDoc = async (result: RunResult, code = 0) => {
    if (result.code !== code) fail(`expected exit ${code}`, result);
    return parseDoc(await resultText(result, ctx), result);
  };
  const name = script.replace(/^.*\//, "").replace(/\.ts$/, "");
  switch (name) {
    case "find-free-ip":
      return {
        args: ["--prefix", EXAMPLE.prefix, "--count", "3", ...common],
        async check(result) {
          const doc = await okDoc(result);
          if (doc.items.length !== 3) fail("expected 3 free addresses", result);
          for (const item of doc.items) {
            if (!/"192\.168\.3\.\d+\/24"/.test(JSON.stringify(item))) {
              fail(`not an address in ${EXAMPLE.prefix}: ${JSON.stringify(item)}`, result);
            }
          }
        },
      };
    case "audit-ips":
      return {
        args: ["--parent", EXAMPLE.prefix, "--fail-on", "never", ...common],
        async check(result) {
          const doc = await okDoc(result);
          if (!doc.netbox?.version) fail("the result names no NetBox version", result);
        },
      };
    case "assign-primary-ip":
      return {
        args: [
          "--vm",
          EXAMPLE.device,
          "--interface",
          EXAMPLE.interface,
          "--address",
          EXAMPLE.address,
          "--dry-run",
          ...common,
        ],
        async check(result) {
          const doc = await okDoc(result);
          const text = JSON.stringify(doc);
          if (!text.includes(EXAMPLE.device) || !text.includes(EXAMPLE.address.split("/")[0])) {
            fail(`the plan does not name ${EXAMPLE.device} and ${EXAMPLE.address}`, result);
          }
        },
      };
    case "bulk-import": {
      const slug = `nbtk-perm-${crypto.randomUUID().slice(0, 8)}`;
      const file = `${ctx.dir}/${slug}.yaml`;
      await Deno.writeTextFile(file, `tags:\n  - name: ${slug}\n    slug: ${slug}\n`);
      return {
        args: ["--dry-run", file, ...common],
        async check(result) {
          const doc = await okDoc(result);
          if (!JSON.stringify(doc).includes(slug)) {
            fail(`the plan does not name tag ${slug}`, result);
          }
        },
      };
    }
    case "export":
      return {
        args: ["--model", "prefixes", "--filter", `prefix=${EXAMPLE.prefix}`, ...common],
        async check(result) {
          if (result.code !== 0) fail("expected exit 0", result);
          let doc: { prefixes?: { prefix?: string }[] };
          try {
            doc = JSON.parse(await resultText(result, ctx));
          } catch {
            fail("Cannot parse the export's JSON document", result);
          }
          if (!doc.prefixes?.some((p) => p.prefix === EXAMPLE.prefix)) {
            fail(`the export does not hold prefix ${EXAMPLE.prefix}`, result);
          }
        },
      };
    case "nb":
      return {
        args: ["prefixes", "list", `prefix=${EXAMPLE.prefix}`, ...common],
        async check(result) {
          const doc = await okDoc(result);
          if (!doc.items.some((p: { prefix?: string }) => p.prefix === EXAMPLE.prefix)) {
            fail(`the listing does not hold prefix ${EXAMPLE.prefix}`, result);
          }
        },
      };
    case "allocate":
      return {
        args: ["ip", "--parent", EXAMPLE.prefix, "--count", "1", "--dry-run", ...common],
        async check(result) {
          const doc = await okDoc(result);
          if (doc.items.length !== 1 || !/192\.168\.3\.\d+\/24/.test(JSON.stringify(doc.items))) {
            fail(`expected one planned address in ${EXAMPLE.prefix}`, result);
          }
        },
      };
    case "inventory":
      return {
        // Ansible's dynamic-inventory JSON, not the standard envelope: no --format json.
        args: [
          ...(ctx.tokenFile ? ["--token-file", ctx.tokenFile] : []),
          ...(ctx.output ? ["--output", ctx.output] : []),
          "--vms",
          "--include-no-ip",
          "--group-by",
          "cluster",
        ],
        async check(result) {
          if (result.code !== 0) fail("expected exit 0", result);
          let doc: { _meta?: { hostvars?: Record<string, unknown> } };
          try {
            doc = JSON.parse(await resultText(result, ctx));
          } catch {
            fail("Cannot parse the inventory's JSON", result);
          }
          if (!doc._meta?.hostvars?.[EXAMPLE.device]) {
            fail(`the inventory has no host ${EXAMPLE.device}`, result);
          }
        },
      };
    case "revert": {
      // The dry run of undoing the creation of one tag kept for it (created once, never changed).
      const log = `${ctx.dir}/revert-cheap-${crypto.randomUUID().slice(0, 8)}.log`;
      const requestId = await cheapRevertRequest();
      await Deno.writeTextFile(
        log,
        JSON.stringify({
          task: "nb",
          method: "POST",
          path: "/api/extras/tags/",
          status: 201,
          requestId,
        }) +
          "\n",
      );
      return {
        args: ["--from-audit-log", log, "--dry-run", ...common],
        async check(result) {
          const doc = await okDoc(result);
          if (
            doc.items.length !== 1 || doc.items[0].action !== "delete" ||
            doc.items[0].name !== CHEAP_REVERT_TAG
          ) fail(`expected the plan to delete tag ${CHEAP_REVERT_TAG} alone`, result);
        },
      };
    }
    default:
      throw new Error(
        `No cheap invocation for ${script}: add one to tests/_deno_tasks.ts (cheapInvocation)`,
      );
  }
}

/** The tag the cheap revert invocation plans to delete (and never does). */
const CHEAP_REVERT_TAG = "nbtk-revert-cheap";

let cheapRevert: Promise<string> | undefined;

/** The request id that created {@linkcode CHEAP_REVERT_TAG} (created on first use). */
function cheapRevertRequest(): Promise<string> {
  cheapRevert ??= findCheapRevertRequest().catch(() => findCheapRevertRequest());
  return cheapRevert;
}

async function findCheapRevertRequest(): Promise<string> {
  const nb = {
    url: Deno.env.get("NETBOX_TEST_URL") ?? "",
    token: Deno.env.get("NETBOX_TEST_TOKEN") ?? "",
  };
  const found = await netboxApi(nb, "GET", `/api/extras/tags/?slug=${CHEAP_REVERT_TAG}`);
  const id: number | undefined = found.data?.results?.[0]?.id;
  if (id === undefined) {
    const made = await netboxApi(nb, "POST", "/api/extras/tags/", {
      name: CHEAP_REVERT_TAG,
      slug: CHEAP_REVERT_TAG,
    });
    if (made.status !== 201 || !made.requestId) {
      throw new Error(`Cannot create tag ${CHEAP_REVERT_TAG}: ${made.status}`);
    }
    return made.requestId;
  }
  const change = await netboxApi(
    nb,
    "GET",
    `/api/core/object-changes/?changed_object_type=extras.tag&changed_object_id=${id}&action=create`,
  );
  const requestId = change.data?.results?.[0]?.request_id;
  if (!requestId) throw new Error(`Cannot find the change that created tag ${CHEAP_REVERT_TAG}`);
  return requestId;
}

/** A NetBox answer, body parsed. */
export interface ApiAnswer {
  status: number;
  // deno-lint-ignore no-explicit-any
  data: any;
  requestId: string | null;
}

/**
 * Calls the NetBox REST API directly (no toolkit code), for setting up and checking state.
 *
 * @param nb the server and a token
 * @param method HTTP method
 * @param path e.g. `/api/ipam/prefixes/?prefix=192.168.3.0/24`
 * @param body JSON body
 */
export async function netboxApi(
  nb: { url: string; token: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const auth = nb.token.startsWith("nbt_") ? `Bearer ${nb.token}` : `Token ${nb.token}`;
  const response = await fetch(`${nb.url.replace(/\/+$/, "").replace(/\/api$/, "")}${path}`, {
    method,
    headers: {
      authorization: auth,
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data: unknown = text;
  try {
    data = text === "" ? null : JSON.parse(text);
  } catch { /* keep the text */ }
  return { status: response.status, data, requestId: response.headers.get("x-request-id") };
}

/** Like {@linkcode netboxApi} but throws unless the status is 2xx. */
export async function netboxOk(
  nb: { url: string; token: string },
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const answer = await netboxApi(nb, method, path, body);
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`${method} ${path} → ${answer.status}: ${JSON.stringify(answer.data)}`);
  }
  return answer.data;
}

/** A VM with interface `eth0` and an empty /28 of its own, created for one test. */
export interface Scratch {
  vm: { id: number; name: string };
  interfaceId: number;
  prefix: { id: number; prefix: string };
  /** The first usable address of the prefix, with its mask. */
  address: string;
  /** Deletes everything created (VM, its interface, every IP in the prefix, the prefix, site). */
  cleanup(): Promise<void>;
}

/**
 * Creates a uniquely named site and VM with interface `eth0`, and a random /28 in
 * 10.250.0.0/15 that nothing else uses. Needs nothing else in NetBox.
 *
 * @param nb the server and a write-enabled token
 * @param label a word for the names, e.g. `"audit"`
 */
export async function createScratch(
  nb: { url: string; token: string },
  label: string,
): Promise<Scratch> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const name = `nbtk-${label}-${suffix}`;
  const made: { site?: number; vm?: number; prefix?: { id: number; prefix: string } } = {};
  const cleanup = async () => {
    if (made.vm !== undefined) {
      await netboxApi(nb, "PATCH", `/api/virtualization/virtual-machines/${made.vm}/`, {
        primary_ip4: null,
      });
      await netboxApi(nb, "DELETE", `/api/virtualization/virtual-machines/${made.vm}/`);
    }
    if (made.prefix) {
      const ips = await netboxOk(
        nb,
        "GET",
        `/api/ipam/ip-addresses/?parent=${made.prefix.prefix}&limit=1000`,
      );
      if (ips.count > 0) {
        await netboxApi(
          nb,
          "DELETE",
          "/api/ipam/ip-addresses/",
          ips.results.map((ip: { id: number }) => ({ id: ip.id })),
        );
      }
      await netboxApi(nb, "DELETE", `/api/ipam/prefixes/${made.prefix.id}/`);
    }
    if (made.site !== undefined) await netboxApi(nb, "DELETE", `/api/dcim/sites/${made.site}/`);
  };
  try {
    for (let attempt = 0; attempt < 20 && !made.prefix; attempt++) {
      const [b, c, d] = crypto.getRandomValues(new Uint8Array(3));
      const cidr = `10.${250 + (b % 2)}.${c}.${d & 0xf0}/28`;
      const covering = await netboxOk(
        nb,
        "GET",
        `/api/ipam/prefixes/?contains=${cidr.split("/")[0]}`,
      );
      const ips = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?parent=${cidr}&limit=1`);
      if (covering.count > 0 || ips.count > 0) continue;
      const created = await netboxOk(nb, "POST", "/api/ipam/prefixes/", {
        prefix: cidr,
        description: `netbox-toolkit test ${name}`,
      });
      made.prefix = { id: created.id, prefix: created.prefix };
    }
    if (!made.prefix) throw new Error("Cannot find a free /28 in 10.250.0.0/15 for a test prefix");
    made.site = (await netboxOk(nb, "POST", "/api/dcim/sites/", { name, slug: name })).id;
    made.vm = (await netboxOk(nb, "POST", "/api/virtualization/virtual-machines/", {
      name,
      status: "active",
      site: made.site,
    })).id;
    const iface = await netboxOk(nb, "POST", "/api/virtualization/interfaces/", {
      virtual_machine: made.vm,
      name: "eth0",
    });
    const base = made.prefix.prefix.split("/")[0].split(".").map(Number);
    return {
      vm: { id: made.vm!, name },
      interfaceId: iface.id,
      prefix: made.prefix,
      address: `${base[0]}.${base[1]}.${base[2]}.${base[3] + 1}/28`,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
