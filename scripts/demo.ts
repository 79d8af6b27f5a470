/**
 * `deno task demo` — the main job on a machine with no NetBox of its own.
 *
 * With `NETBOX_URL` unset it starts the local NetBox through `tests/netbox/provision.sh up`,
 * loads the example inventory (site Matrix, Proxmox nodes, a cabled rack, cluster, VMs,
 * 192.168.3.0/24…), then runs the four tasks against it exactly as a user would
 * (`deno task <name> …`, so with the permissions of their `deno.json` entries) and prints the
 * NetBox URL and login.
 *
 * With `NETBOX_URL` set it uses that NetBox (token from `NETBOX_TOKEN` or `NETBOX_TOKEN_FILE`)
 * and refuses to write anything unless `--yes` is given.
 *
 * Exit codes: 0 done; 2 refused (NETBOX_URL set without --yes) or bad arguments; 4 no NetBox
 * (could not start one); otherwise the exit code of the first task that failed.
 *
 * @module
 */

import { readTaskEntries } from "../tests/_deno_tasks.ts";
import { seedInventory } from "../tests/netbox/seed.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const PROVISION = "tests/netbox/provision.sh";
const FIXTURE = "tests/fixtures/demo/inventory.yaml";

const USAGE = `Usage: deno task demo [--yes]

Runs the toolkit's main job against a NetBox filled with the example inventory:
  find-free-ip      list free addresses in 192.168.3.0/24, then reserve one by DNS name
  assign-primary-ip give VM docker-01 the address 192.168.3.10/24 on eth0 as primary IPv4
  bulk-import       import ${FIXTURE}
  audit-ips         audit 192.168.3.0/24

NETBOX_URL unset: starts a local NetBox on 127.0.0.1 (bash ${PROVISION} up).
NETBOX_URL set:   uses it with NETBOX_TOKEN / NETBOX_TOKEN_FILE, and writes only with --yes.
`;

/** What the demo runs against. */
interface Target {
  url: string;
  token: string;
  login?: { user: string; password: string };
  local: boolean;
}

function say(text: string): void {
  console.log(text);
}

function fail(text: string): void {
  console.error(`error: ${text}`);
}

/** Parses `KEY=VALUE` lines. */
function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/);
    if (m) vars[m[1]] = m[2].trim().replace(/^(['"])(.*)\1$/, "$2");
  }
  return vars;
}

const NEEDS = `The local NetBox needs: bash; Python >= 3.12 (pyenv or the system python3); ` +
  `PostgreSQL >= 15 and Redis >= 6 listening on 127.0.0.1 (PostgreSQL user postgres, trust auth); ` +
  `gcc and libpq-dev (installed with apt-get when missing); and, on the first run, access to PyPI ` +
  `to install netbox==4.7.3. Or use a NetBox of your own: ` +
  `NETBOX_URL=https://netbox.example.com NETBOX_TOKEN=… deno task demo --yes`;

async function startLocalNetBox(): Promise<Target | number> {
  say(`Starting a local NetBox (bash ${PROVISION} up; the first run takes a few minutes)…`);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("bash", {
      args: [PROVISION, "up"],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      fail(`Cannot start a local NetBox: bash is not installed. ${NEEDS}`);
      return 4;
    }
    throw err;
  }
  if (!out.success) {
    fail(`Cannot start a local NetBox: ${PROVISION} up exited ${out.code} (see above). ${NEEDS}`);
    return 4;
  }
  const vars = parseEnvFile(new TextDecoder().decode(out.stdout));
  const url = vars.NETBOX_TEST_URL;
  const token = vars.NETBOX_TEST_TOKEN;
  if (!url || !token) {
    fail(`Cannot start a local NetBox: ${PROVISION} up printed no NETBOX_TEST_URL/TOKEN`);
    return 4;
  }
  const login = vars.NETBOX_TEST_USER && vars.NETBOX_TEST_PASSWORD
    ? { user: vars.NETBOX_TEST_USER, password: vars.NETBOX_TEST_PASSWORD }
    : undefined;
  return { url, token, login, local: true };
}

async function ownNetBox(url: string, yes: boolean): Promise<Target | number> {
  if (!yes) {
    fail(
      `Cannot run the demo against ${url} (NETBOX_URL) without --yes: it writes the example ` +
        `inventory (site Matrix, devices, VMs, 192.168.3.0/24, …), reserves and assigns ` +
        `addresses and imports ${FIXTURE} into that NetBox. Nothing was sent. ` +
        `Run 'deno task demo --yes' to allow it, or unset NETBOX_URL to use a local NetBox`,
    );
    return 2;
  }
  let token = Deno.env.get("NETBOX_TOKEN")?.trim();
  const tokenFile = Deno.env.get("NETBOX_TOKEN_FILE")?.trim();
  if (tokenFile) token = (await Deno.readTextFile(tokenFile)).trim();
  if (!token) {
    fail("Cannot run the demo: NETBOX_URL is set but there is no token; set NETBOX_TOKEN");
    return 2;
  }
  return { url, token, local: false };
}

/** The demo's steps: task script and its arguments. */
const STEPS: { script: string; args: string[]; note: string }[] = [
  {
    script: "tasks/find-free-ip.ts",
    args: ["--prefix", "192.168.3.0/24", "--count", "5"],
    note: "the next five free addresses in 192.168.3.0/24",
  },
  {
    script: "tasks/find-free-ip.ts",
    args: [
      "--prefix",
      "192.168.3.0/24",
      "--skip",
      "1",
      "--reserve",
      "--dns-name",
      "demo-01.spaceships.work",
    ],
    note: "reserve one by DNS name, skipping the gateway (.1); re-running returns the same address",
  },
  {
    script: "tasks/assign-primary-ip.ts",
    args: ["--vm", "docker-01", "--interface", "eth0", "--address", "192.168.3.10/24"],
    note: "docker-01 gets 192.168.3.10/24 on eth0 as its primary IPv4",
  },
  {
    script: "tasks/bulk-import.ts",
    args: [FIXTURE],
    note: `import ${FIXTURE} (a tag, a prefix, two named addresses)`,
  },
  {
    script: "tasks/audit-ips.ts",
    args: ["--parent", "192.168.3.0/24", "--fail-on", "never"],
    note: "audit 192.168.3.0/24",
  },
];

async function runSteps(target: Target): Promise<number> {
  const names = new Map((await readTaskEntries()).map((e) => [e.script, e.name]));
  for (const step of STEPS) {
    const name = names.get(step.script);
    if (!name) {
      fail(`Cannot run ${step.script}: deno.json has no task entry for it`);
      return 2;
    }
    say(`\n# ${step.note}\n$ deno task ${name} ${step.args.join(" ")}`);
    const { code } = await new Deno.Command("deno", {
      args: ["task", "--quiet", name, ...step.args],
      cwd: ROOT,
      // The token travels in the environment, never on a command line; an inherited
      // NETBOX_TOKEN_FILE would win over it, so it is blanked.
      env: { NETBOX_URL: target.url, NETBOX_TOKEN: target.token, NETBOX_TOKEN_FILE: "" },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    // 1 = done, needs attention (e.g. fewer free addresses than asked): show it and go on.
    if (code > 1) {
      fail(`Cannot finish the demo: deno task ${name} exited ${code}`);
      return code;
    }
  }
  return 0;
}

/**
 * Runs the demo.
 *
 * @param args `--yes`, `--help`
 * @returns the exit code
 */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    say(USAGE);
    return 0;
  }
  const unknown = args.filter((a) => a !== "--yes");
  if (unknown.length > 0) {
    fail(`Cannot run the demo: unknown argument ${unknown[0]}\n\n${USAGE}`);
    return 2;
  }
  const url = Deno.env.get("NETBOX_URL")?.trim();
  const target = url ? await ownNetBox(url, args.includes("--yes")) : await startLocalNetBox();
  if (typeof target === "number") return target;
  say(`Loading the example inventory into ${target.url} …`);
  await seedInventory(target.url, target.token);
  const code = await runSteps(target);
  if (code !== 0) return code;
  say(`\nDone. Look at the result in NetBox: ${target.url}/`);
  if (target.login) say(`  login: ${target.login.user} / ${target.login.password}`);
  say(
    `  IP addresses: ${target.url}/ipam/ip-addresses/?parent=192.168.3.0/24\n` +
      `  docker-01:    ${target.url}/virtualization/virtual-machines/?q=docker-01\n` +
      `  cables:       ${target.url}/dcim/cables/?site=matrix\n` +
      `  changelog:    ${target.url}/core/changelog/`,
  );
  if (target.local) say(`  stop it with: bash ${PROVISION} down`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
