/**
 * The bench's own NetBox instances, through `tests/netbox/provision.sh` with a port, database and
 * Redis databases of their own (so the bench neither disturbs nor is disturbed by the tests):
 *
 * - `list`  port 18090, database `netbox_toolkit_bench`, Redis 11/12: list, create, re-import
 * - `audit` port 18091, database `netbox_toolkit_bench_audit`, Redis 7/8: the 50k/5k audit data
 *
 * An instance the bench started is stopped at the end (unless `--keep-up`); one that was already
 * running is left alone. The databases persist between runs, so seeding happens once.
 *
 * @module
 */

/** One bench instance. */
export interface Instance {
  name: string;
  url: string;
  token: string;
  port: number;
  /** Whether this run started it (and so stops it). */
  started: boolean;
  /** gunicorn workers serving it. */
  workers: number;
  env: Record<string, string>;
}

/** The instances' fixed settings. */
export const INSTANCES = {
  list: { port: 18090, db: "netbox_toolkit_bench", redis: 11 },
  audit: { port: 18091, db: "netbox_toolkit_bench_audit", redis: 7 },
} as const;

const PROVISION = "tests/netbox/provision.sh";

/** The cache directory provision.sh uses. */
export function cacheDir(): string {
  const explicit = Deno.env.get("NETBOX_TOOLKIT_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`;
  return `${xdg}/netbox-toolkit`;
}

/** The venv's python (the one with pynetbox), newest first. */
export async function venvPython(): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(cacheDir())) {
    if (e.isDirectory && e.name.startsWith("venv-py")) names.push(e.name);
  }
  names.sort().reverse();
  for (const n of names) {
    const py = `${cacheDir()}/${n}/bin/python3`;
    try {
      await Deno.stat(py);
      return py;
    } catch { /* next */ }
  }
  throw new Error(`Cannot find the NetBox venv under ${cacheDir()}: run provision.sh up first`);
}

async function capture(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

// /proc needs --allow-all under Deno, so ps and pgrep answer instead.
async function masterPid(port: number): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(`${cacheDir()}/run-${port}/gunicorn.pid`)).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const args = await capture("ps", "-o", "args=", "-p", String(pid));
  return args.includes("gunicorn") && args.includes(`127.0.0.1:${port}`) ? pid : undefined;
}

async function countWorkers(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  return (await capture("pgrep", "-P", String(pid))).split("\n").filter(Boolean).length;
}

function provisionEnv(which: keyof typeof INSTANCES): Record<string, string> {
  const { port, db, redis } = INSTANCES[which];
  return {
    NETBOX_TEST_PORT: String(port),
    NETBOX_TEST_DB: db,
    NETBOX_TEST_REDIS_DB: String(redis),
  };
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Starts (or finds running) one bench instance; provision.sh's log goes to our stderr. */
export async function up(which: keyof typeof INSTANCES): Promise<Instance> {
  const { port } = INSTANCES[which];
  const before = await masterPid(port);
  const out = await new Deno.Command("bash", {
    args: [PROVISION, "up"],
    env: provisionEnv(which),
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`Cannot start the ${which} bench NetBox (provision.sh up)`);
  const env = parseEnvFile(new TextDecoder().decode(out.stdout));
  if (!env.NETBOX_TEST_URL || !env.NETBOX_TEST_TOKEN) {
    throw new Error(`Cannot start the ${which} bench NetBox: provision.sh printed no env file`);
  }
  const pid = await masterPid(port);
  return {
    name: which,
    url: env.NETBOX_TEST_URL,
    token: env.NETBOX_TEST_TOKEN,
    port,
    started: before === undefined,
    workers: await countWorkers(pid),
    env,
  };
}

/** Stops an instance this run started (provision.sh down with its port). */
export async function down(instance: Instance): Promise<void> {
  if (!instance.started) return;
  const which = instance.name as keyof typeof INSTANCES;
  await new Deno.Command("bash", {
    args: [PROVISION, "down"],
    env: provisionEnv(which),
    stdout: "null",
    stderr: "inherit",
  }).output();
}
