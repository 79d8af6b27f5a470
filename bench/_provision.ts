/**
 * The bench's own NetBox instances, through `tests/netbox/provision.sh` with a port, database and
 * Redis databases of their own (so the bench neither disturbs nor is disturbed by the tests):
 *
 * - `list`  port 18090, database `netbox_toolkit_bench`, Redis 11/12: list, create, re-import
 * - `audit` port 18091, database `netbox_toolkit_bench_audit`, Redis 7/8: the 50k/5k audit data
 * - `scale100k` port 18092, database `netbox_toolkit_bench_scale_100k`, and `scale1m` port 18093,
 *   database `netbox_toolkit_bench_scale_1m`: the `--scale` data (seeded by SQL, `scale_seed.ts`).
 *   Redis has 16 databases and every one is taken by some instance (dev 13/14, CI 9/10 and 0/15,
 *   the older matrix versions 1–6, this bench 7/8 and 11/12), so the scale instances share 7/8
 *   with `audit`: they are never up together (`up` refuses, see `EXCLUSIVE`), and the scale run
 *   brings its two steps up one after the other.
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
  scale100k: { port: 18092, db: "netbox_toolkit_bench_scale_100k", redis: 7 },
  scale1m: { port: 18093, db: "netbox_toolkit_bench_scale_1m", redis: 7 },
} as const;

/** The instance names. */
export type InstanceName = keyof typeof INSTANCES;

/** Instances sharing Redis databases: never up at the same time. */
const EXCLUSIVE: InstanceName[][] = [["audit", "scale100k", "scale1m"]];

const PROVISION = "tests/netbox/provision.sh";

/** The cache directory provision.sh uses. */
export function cacheDir(): string {
  const explicit = Deno.env.get("NETBOX_TOOLKIT_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`;
  return `${xdg}/netbox-toolkit`;
}

/** The NetBox version the bench instances run (provision.sh's default). */
export const NETBOX_VERSION = "4.7.3";

/**
 * The venv's python (the one with pynetbox and NetBox), newest first: provision.sh keeps it in
 * `<cache>/netbox-<version>/venv-py3.X` (older layouts: `<cache>/venv-py3.X`).
 */
export async function venvPython(): Promise<string> {
  for (const dir of [`${cacheDir()}/netbox-${NETBOX_VERSION}`, cacheDir()]) {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isDirectory && e.name.startsWith("venv-py")) names.push(e.name);
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    names.sort().reverse();
    for (const n of names) {
      const py = `${dir}/${n}/bin/python3`;
      try {
        await Deno.stat(py);
        return py;
      } catch { /* next */ }
    }
  }
  throw new Error(`Cannot find the NetBox venv under ${cacheDir()}: run provision.sh up first`);
}

async function capture(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

// /proc needs --allow-all under Deno, so ps and pgrep answer instead.
/** The pid of the gunicorn master serving `port` (checked against its command line). */
export async function masterPid(port: number): Promise<number | undefined> {
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

function provisionEnv(which: InstanceName): Record<string, string> {
  const { port, db, redis } = INSTANCES[which];
  return {
    NETBOX_TEST_PORT: String(port),
    NETBOX_TEST_DB: db,
    NETBOX_TEST_REDIS_DB: String(redis),
    NETBOX_TEST_REDIS_CACHE_DB: String(redis + 1),
  };
}

/** Refuses to start an instance while another one using the same Redis databases is up. */
async function checkExclusive(which: InstanceName): Promise<void> {
  for (const group of EXCLUSIVE) {
    if (!group.includes(which)) continue;
    for (const other of group) {
      if (other === which || await masterPid(INSTANCES[other].port) === undefined) continue;
      throw new Error(
        `Cannot start the ${which} bench NetBox: the ${other} instance (port ${
          INSTANCES[other].port
        }) is up and uses the same Redis databases (${INSTANCES[which].redis}/${
          INSTANCES[which].redis + 1
        }); stop it first (NETBOX_TEST_PORT=${INSTANCES[other].port} NETBOX_TEST_DB=${
          INSTANCES[other].db
        } bash ${PROVISION} down)`,
      );
    }
  }
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
export async function up(which: InstanceName): Promise<Instance> {
  const { port } = INSTANCES[which];
  const before = await masterPid(port);
  if (before === undefined) await checkExclusive(which);
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
  const which = instance.name as InstanceName;
  await new Deno.Command("bash", {
    args: [PROVISION, "down"],
    env: provisionEnv(which),
    stdout: "null",
    stderr: "inherit",
  }).output();
}
