/**
 * `inventory` — NetBox's devices and virtual machines as an inventory for Ansible (dynamic
 * inventory JSON, `--list` / `--host NAME`, or a static YAML inventory) or Nornir
 * (SimpleInventory files). Group names and host variables are nb_inventory's; every model is
 * read in one streamed, field-trimmed listing, so requests grow with pages, not hosts. Reads
 * only (a read-only token is enough).
 *
 * ```sh
 * deno task inventory --group-by site,role,platform --output inventory.json
 * deno task inventory --format nornir --filter site=matrix --output nornir/
 * ```
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { collect, parseFilterPairs, runTask, type TaskContext } from "../lib/cli/task.ts";
import { writeAtomic } from "../lib/cli/render.ts";
import { InputError } from "../lib/client/errors.ts";
import {
  ansibleHost,
  buildInventory,
  InventoryFilterError,
  type InventoryFormat,
  renderInventory,
} from "../lib/inventory/mod.ts";

interface Opts {
  args: string[];
  format: InventoryFormat;
  output?: string;
  list?: boolean;
  host?: string;
  devices?: boolean;
  vms?: boolean;
  filter: string[];
  site: string[];
  role: string[];
  tag: string[];
  groupBy: string[];
  groupNamesRaw?: boolean;
  preferIpv6?: boolean;
  includeNoIp?: boolean;
  compose: string[];
  configContext?: boolean;
  interfaces?: boolean;
  services?: boolean;
  virtualDisks?: boolean;
  plurals?: boolean;
  pageSize: string;
}

/** How many hosts left out are named one by one on stderr. */
const NAMED = 20;

const WRAPPER = `
As an Ansible inventory script (ansible-inventory -i netbox.sh --graph; Ansible adds --list or
--host NAME), netbox.sh:
  #!/bin/sh
  # NETBOX_URL and NETBOX_TOKEN (or NETBOX_TOKEN_FILE) come from the environment
  exec deno run --no-prompt --allow-net \\
    --allow-env=NETBOX_URL,NETBOX_TOKEN,NETBOX_TOKEN_FILE,NETBOX_TIMEOUT,NETBOX_RETRIES,NETBOX_SETTLE,NETBOX_CA_CERT \\
    --allow-read --allow-write /opt/netbox-toolkit/tasks/inventory.ts --quiet --group-by site,role "$@"
`;

const SPEC = {
  name: "inventory",
  description:
    "NetBox devices and VMs as an Ansible (dynamic JSON or static YAML) or Nornir inventory, " +
    "with nb_inventory's group names and host variables; reads only",
  formats: ["ansible", "ansible-yaml", "nornir"],
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) => {
    const format = cmd.options.find((o: { long?: string }) => o.long === "--format");
    if (format) {
      format.defaultValue = "ansible";
      format.description = "output format: ansible (dynamic-inventory JSON), ansible-yaml " +
        "(static inventory), nornir (SimpleInventory hosts/groups/defaults; --output DIR " +
        "writes hosts.yaml, groups.yaml, defaults.yaml)";
    }
    cmd.setOptionValueWithSource("format", "ansible", "default");
    cmd.addHelpText("after", WRAPPER);
    return cmd
      .option("--list", "print the whole inventory (what Ansible asks an inventory script)")
      .option("--host <name>", "print one host's variables (Ansible's --host)")
      .option("--devices", "hosts from devices (default: devices and VMs)")
      .option("--vms", "hosts from virtual machines (default: devices and VMs)")
      .option(
        "--filter <key=value>",
        "NetBox filter for the device and VM listings, checked against NetBox's filter names " +
          "(repeatable; repeated keys OR)",
        collect,
        [],
      )
      .option("--site <slug>", "shorthand for --filter site=<slug> (repeatable)", collect, [])
      .option("--role <slug>", "shorthand for --filter role=<slug> (repeatable)", collect, [])
      .option(
        "--tag <slug>",
        "shorthand for --filter tag=<slug> (repeatable; tags AND)",
        collect,
        [],
      )
      .option(
        "--group-by <keys>",
        "comma-separated: site, tenant, role, platform, tag, device_type, manufacturer, rack, " +
          "rack_role, region, site_group, location, cluster, cluster_type, cluster_group, " +
          "status, is_virtual (or nb_inventory's plural sites, device_roles, …); " +
          "groups named <key>_<slug> as nb_inventory names them",
        collect,
        [],
      )
      .option("--group-names-raw", "group names without the <key>_ prefix (group_names_raw)")
      .option(
        "--prefer-ipv6",
        "ansible_host from the primary IPv6 address when there is one (default: IPv4 first)",
      )
      .option(
        "--include-no-ip",
        "keep hosts without a primary IP (without ansible_host); default: leave them out and " +
          "name them on stderr",
      )
      .option(
        "--compose <var=field>",
        "host variable from a field or dotted path, e.g. owner=tenant.name (repeatable)",
        collect,
        [],
      )
      .option("--config-context", "add each host's rendered config context (config_context)")
      .option("--interfaces", "add interfaces with their IP addresses (interfaces)")
      .option("--services", "add each host's services (services)")
      .option("--virtual-disks", "add each VM's virtual disks (virtual_disks)")
      .option(
        "--plurals",
        "host variables as nb_inventory's default plurals: true (sites: [slug], device_roles: …)",
      )
      .option("--page-size <n>", "objects per page", "1000");
  },
  examples: [
    "inventory --group-by site,role,platform --output inventory.json",
    "inventory --host docker-01",
    "inventory --format ansible-yaml --filter site=matrix --filter status=active --output hosts.yaml",
    "inventory --format nornir --vms --group-by cluster --output nornir/",
    "inventory --compose owner=tenant.name --interfaces --prefer-ipv6",
  ],
};

/** Runs the task; returns the exit code. */
export async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  if (opts.args?.length) {
    throw new UsageError(
      `Cannot parse arguments: unexpected "${opts.args[0]}"; inventory takes only flags`,
    );
  }
  if (opts.list && opts.host !== undefined) {
    throw new UsageError("Cannot use --list with --host: ask for one or the other");
  }
  if (opts.host !== undefined && opts.format !== "ansible") {
    throw new UsageError(`Cannot use --host with --format ${opts.format}: it is Ansible's`);
  }
  const pageSize = Number(opts.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new UsageError(
      `Cannot parse --page-size: expected a positive integer, got "${opts.pageSize}"`,
    );
  }
  const filters = parseFilterPairs([
    ...opts.filter,
    ...opts.site.map((s) => `site=${s}`),
    ...opts.role.map((r) => `role=${r}`),
    ...opts.tag.map((t) => `tag=${t}`),
  ]);
  const compose: Record<string, string> = {};
  for (const pair of opts.compose) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`Cannot parse --compose "${pair}": expected var=field`);
    compose[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const groupBy = opts.groupBy.flatMap((g) => g.split(",")).map((g) => g.trim()).filter(
    Boolean,
  );
  const both = !opts.devices && !opts.vms;
  let inv;
  try {
    inv = await buildInventory(ctx.client(), {
      devices: both || !!opts.devices,
      vms: both || !!opts.vms,
      filters,
      groupBy,
      rawGroupNames: !!opts.groupNamesRaw,
      preferIpv6: !!opts.preferIpv6,
      includeNoIp: !!opts.includeNoIp,
      compose,
      configContext: !!opts.configContext,
      interfaces: !!opts.interfaces,
      services: !!opts.services,
      virtualDisks: !!opts.virtualDisks,
      plurals: !!opts.plurals,
      pageSize,
    });
  } catch (err) {
    if (err instanceof InventoryFilterError) {
      throw new UsageError(
        `Cannot use the filters for the ${err.listing}: ${
          err.message.replace(/^Cannot [^:]*: /, "").replace(/; set strictFilters.*$/, "")
        }${both ? " (--devices or --vms lists one kind only)" : ""}`,
      );
    }
    if (err instanceof InputError && /^Cannot group by/.test(err.message)) {
      throw new UsageError(err.message.replace(/^Cannot group by/, "Cannot parse --group-by:"));
    }
    if (err instanceof InputError && /^Cannot compose/.test(err.message)) {
      throw new UsageError(err.message.replace(/^Cannot compose/, "Cannot parse --compose"));
    }
    throw err;
  }
  reportSkipped(ctx, inv.skipped);
  if (opts.host !== undefined) {
    if (!inv.hosts.some((h) => h.name === opts.host)) {
      ctx.warn(`host ${opts.host} is not in the inventory`);
    }
    await ctx.writeResult(JSON.stringify(ansibleHost(inv, opts.host), null, 2) + "\n");
    return EXIT.OK;
  }
  const files = renderInventory(inv, opts.format);
  if (opts.format === "nornir" && opts.output && opts.output !== "-") {
    const dir = opts.output.replace(/\/+$/, "");
    await Deno.mkdir(dir, { recursive: true });
    for (const f of files) await writeAtomic(`${dir}/${f.file}`, f.text);
  } else if (opts.format === "nornir") {
    // The three documents as one YAML stream; --output DIR writes SimpleInventory's files.
    await ctx.writeResult(files.map((f) => `# ${f.file}\n${f.text}`).join("---\n"));
  } else await ctx.writeResult(files[0].text);
  ctx.info(
    `inventory: ${inv.hosts.length} hosts, ${inv.groups.length} groups` +
      (inv.skipped.length ? `, ${inv.skipped.length} left out` : ""),
  );
  return EXIT.OK;
}

function reportSkipped(
  ctx: TaskContext,
  skipped: { kind: string; name: string; id: number; reason: string }[],
): void {
  const noIp = skipped.filter((s) => s.reason === "no primary IP");
  for (const s of noIp.slice(0, NAMED)) {
    ctx.warn(
      `${s.kind === "vm" ? "VM" : "device"} ${s.name} has no primary IP: left out ` +
        "(--include-no-ip keeps it)",
    );
  }
  if (noIp.length > NAMED) {
    ctx.warn(`… and ${noIp.length - NAMED} more hosts without a primary IP left out`);
  }
  const unnamed = skipped.filter((s) => s.reason === "no name");
  if (unnamed.length) {
    ctx.warn(
      `${unnamed.length} unnamed device(s)/VM(s) left out (an inventory needs names), ids ${
        unnamed.slice(0, NAMED).map((s) => s.id).join(", ")
      }`,
    );
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
