/**
 * The verbs of `nb` and their help (`nb <model> <verb> --help`), with examples from the users'
 * guide.
 *
 * @module
 */

/** One verb: its usage line, what it does, examples. */
export interface VerbHelp {
  /** e.g. `nb <model> list [filter=value …]`. */
  usage: string;
  /** What it does, a few lines. */
  text: string;
  /** Example command lines. */
  examples: string[];
}

/** Every verb's help, by verb. */
export const VERB_HELP: Readonly<Record<string, VerbHelp>> = {
  list: {
    usage:
      "nb <model> list [filter=value …] [--filter k=v] [--fields a,b] [--brief] [--omit a,b] " +
      "[--limit N] [--sort FIELD]",
    text: "Lists the objects matching the filters (repeat a filter to OR its values; lookups as " +
      "in NetBox: name__ic=web, vid__gte=100). Unknown filter names are refused with the closest " +
      "valid ones (NetBox would ignore them and return everything). --format ndjson and csv " +
      "stream object by object (constant memory); table, json and yaml hold the result.",
    examples: [
      "nb devices list site=matrix status=active --fields name,status,primary_ip4",
      "nb dcim.devices list site=matrix primary_ip4_id=null --format csv > no-ip.csv",
      "nb ipam.prefixes list mask_length__gte=24 --sort -prefix --limit 20",
      "nb ip-addresses list parent=192.168.3.0/24 --format ndjson | jq .address",
    ],
  },
  get: {
    usage: "nb <model> get <id | filter=value …>",
    text: "Shows exactly one object; no match or several is exit 3 naming the matches.",
    examples: ["nb devices get 12", "nb devices get name=docker-01 --format json"],
  },
  count: {
    usage: "nb <model> count [filter=value …]",
    text: "Prints how many objects match.",
    examples: ["nb virtual-machines count cluster=matrix", "nb ip-addresses count status=dhcp"],
  },
  create: {
    usage: "nb <model> create field=value … | --file F",
    text: "Creates one object from the arguments, or many from a JSON/YAML/CSV/NDJSON file (- is " +
      "standard input), in chunks with a result per object. A value that parses as JSON is that " +
      'JSON (10, true, null, [1,2], {"slug":"x"}; \'"007"\' for the text 007), else text; ' +
      'a dotted key builds a dict: site.slug=matrix sends {"site": {"slug": "matrix"}}. ' +
      'Tags: tags=\'[{"name":"prod"}]\'.',
    examples: [
      "nb sites create name=Matrix slug=matrix status=active",
      "nb vlans create vid=10 name=web site.slug=matrix status=active",
      "nb ip-addresses create address=192.168.3.50/24 status=reserved dns_name=db.example.com",
      "nb devices create --file new-devices.csv --dry-run",
    ],
  },
  update: {
    usage:
      "nb <model> update <id …> field=value … | --where filter=value … field=value … | --file F",
    text:
      "Changes the given fields of objects named by id, by filters (--where, at least one), or " +
      "by the records of a file (each with its id). Objects are read first: --dry-run shows the " +
      "field diffs and sends nothing, unchanged objects are not written, --if-match refuses an " +
      "object changed since it was read.",
    examples: [
      "nb devices update 12 status=offline",
      "nb devices update --where site=matrix --where status=planned status=active --dry-run",
      "nb ip-addresses update 40 41 tenant.slug=ops --if-match",
      "nb interfaces update --file mtu.ndjson",
    ],
  },
  delete: {
    usage: "nb <model> delete <id …> | --where filter=value … | --file F [--max-deletes N]",
    text: "Deletes objects by id, by filters (--where, at least one) or from a file's ids. More " +
      "than --max-deletes (10) stops before any write; --dry-run lists what would go.",
    examples: [
      "nb ip-addresses delete 40 41",
      "nb ip-addresses delete --where parent=10.99.0.0/24 --where status=deprecated --dry-run",
      "nb vlans delete --where group=lab --max-deletes 50",
    ],
  },
  choices: {
    usage: "nb <model> choices [field]",
    text: "The valid values of the model's choice fields (OPTIONS; needs a token that may add " +
      "the model).",
    examples: ["nb dcim.interfaces choices type", "nb ip-addresses choices"],
  },
  schema: {
    usage: "nb <model> schema",
    text: "The model's writable fields with types and whether they are required, and its filters " +
      "with their lookups.",
    examples: ["nb devices schema", "nb ipam.vlans schema --format json"],
  },
  "render-config": {
    usage: "nb <devices|virtual-machines> render-config <id | name=…>",
    text: "Renders the object's config template (POST …/render-config/); table prints the text.",
    examples: ["nb devices render-config name=docker-01"],
  },
  trace: {
    usage: "nb <interfaces|console-ports|power-ports|…> trace <id | filter=value …>",
    text: "The cable path from the object, segment by segment.",
    examples: ["nb interfaces trace device=docker-01 name=eth0"],
  },
  available: {
    usage: "nb <prefixes|ip-ranges|vlan-groups|asn-ranges> available <id | filter=value …> " +
      "[ips|prefixes|vlans|asns] [--limit N]",
    text: "What the pool has free (the available-* endpoint; lists only: allocate with " +
      "find-free-ip --reserve).",
    examples: ["nb prefixes available prefix=192.168.3.0/24 ips --limit 5"],
  },
  script: {
    usage: "nb script run <id | module.ClassName | name> [var=value …] [--data JSON] [--commit] " +
      "[--no-wait] [--wait-timeout SECONDS]",
    text: "Runs a custom script as a NetBox job (needs NetBox's RQ worker) and waits for it: its " +
      "log and status are shown; exit 1 when the job errored or failed, or is still queued after " +
      "--wait-timeout (600 s). Without --commit NetBox rolls the script's changes back.",
    examples: ["nb script run reports.CheckDns --commit", "nb script run 3 site=matrix"],
  },
  graphql: {
    usage: "nb graphql '<query>' [--variables FILE]",
    text: "Runs a GraphQL query with the token (and --branch's header); prints the data as JSON. " +
      "Exit 1 when NetBox reported errors next to the data.",
    examples: [
      "nb graphql '{ device_list(filters: {status: STATUS_ACTIVE}) { name site { name } } }'",
      "nb graphql 'query($id: ID!) { site(id: $id) { name } }' --variables vars.json",
    ],
  },
};

/** The help text of one verb. */
export function verbHelp(verb: string): string {
  const h = VERB_HELP[verb];
  return `Usage: ${h.usage}\n\n${h.text}\n\nExamples:\n${
    h.examples.map((e) => `  deno task ${e}`).join("\n")
  }\n\nRun 'nb --help' for the common flags.\n`;
}
