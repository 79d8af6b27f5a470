/**
 * `--audit-log FILE` on the writing tasks: one JSON line per write request (time, method, path,
 * status, NetBox's request id, object ids) that leads to NetBox's changelog, and never the token
 * or a request body. Each task runs with exactly its `deno.json` permissions.
 */

import assert from "node:assert/strict";
import {
  createScratch,
  type DenoTaskEntry,
  describe,
  netboxApi,
  netboxOk,
  readTaskEntries,
  runDeno,
  type RunResult,
  taskEntry,
} from "../_deno_tasks.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

const entries = await readTaskEntries();
const entryFor = (task: string): DenoTaskEntry => taskEntry(entries, task);

interface AuditLine {
  time: string;
  method: string;
  path: string;
  status: number;
  requestId?: string;
  request_id?: string;
  ids: number[];
}

/** Runs a writing task with `--verbose --audit-log` and returns the parsed log lines. */
async function runAudited(
  task: string,
  args: string[],
  nb: { url: string; token: string },
): Promise<{ result: RunResult; lines: AuditLine[]; text: string }> {
  const dir = await Deno.makeTempDir({ prefix: "nbtk-audit-" });
  try {
    const log = `${dir}/audit.jsonl`;
    const entry = entryFor(task);
    const result = await runDeno(
      [
        "run",
        ...entry.denoFlags,
        entry.script,
        ...entry.scriptArgs,
        "--verbose",
        "--audit-log",
        log,
        ...args,
      ],
      { env: { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.token } },
    );
    const text = await Deno.readTextFile(log).catch(() => "");
    assert.ok(text.endsWith("\n"), `no complete audit log lines\n${describe(result)}`);
    const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line) as AuditLine);
    return { result, lines, text };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The shape of every line, one line per write in the request log, and nothing secret. */
async function assertAuditLog(
  run: { result: RunResult; lines: AuditLine[]; text: string },
  nb: { url: string; token: string },
  secrets: string[],
): Promise<number[]> {
  const at = `${describe(run.result)}\n--- audit log\n${run.text}`;
  assert.ok(run.lines.length > 0, at);
  const writesLogged = run.result.stderr.match(/\b(POST|PUT|PATCH|DELETE)\b[^\n]*\/api\//g) ?? [];
  assert.equal(run.lines.length, writesLogged.length, `one line per write request\n${at}`);
  for (const s of [nb.token, ...secrets]) assert.ok(!run.text.includes(s), `leaked ${s}\n${at}`);
  assert.ok(!/authorization|bearer|"body"/i.test(run.text), at);
  const ids: number[] = [];
  for (const line of run.lines) {
    assert.ok(!Number.isNaN(Date.parse(line.time)), `time: ${line.time}\n${at}`);
    assert.match(line.method, /^(POST|PUT|PATCH|DELETE)$/, at);
    assert.match(line.path, /^\/api\//, at);
    assert.ok(line.status >= 200 && line.status < 300, at);
    const requestId = line.requestId ?? line.request_id;
    assert.match(requestId ?? "", /^[0-9a-f-]{36}$/, `request id\n${at}`);
    assert.ok(Array.isArray(line.ids) && line.ids.every(Number.isInteger), at);
    ids.push(...line.ids);
    // The request id leads to NetBox's changelog entries of that write.
    const changes = await netboxOk(nb, "GET", `/api/core/object-changes/?request_id=${requestId}`);
    assert.ok(changes.count > 0, `no changelog entry for request ${requestId}\n${at}`);
    const changed = changes.results.map((c: { changed_object_id: number }) => c.changed_object_id);
    for (const id of line.ids) {
      assert.ok(changed.includes(id), `id ${id} not in the changelog\n${at}`);
    }
  }
  return ids;
}

netboxTest("bulk-import --audit-log writes one JSON line per write", async () => {
  const nb = testEnv();
  const slug = `nbtk-audit-${crypto.randomUUID().slice(0, 8)}`;
  const dir = await Deno.makeTempDir({ prefix: "nbtk-audit-" });
  try {
    const file = `${dir}/tags.yaml`;
    await Deno.writeTextFile(
      file,
      `tags:\n  - name: ${slug}\n    slug: ${slug}\n    description: secret-${slug}\n`,
    );
    const run = await runAudited("bulk-import", [file], nb);
    assert.equal(run.result.code, 0, describe(run.result));
    const ids = await assertAuditLog(run, nb, [`secret-${slug}`]);
    const tags = await netboxOk(nb, "GET", `/api/extras/tags/?slug=${slug}`);
    assert.equal(tags.count, 1);
    assert.ok(ids.includes(tags.results[0].id), "the audit log does not name the new tag");
    assert.ok(run.lines.some((l) => l.method === "POST" && l.path.startsWith("/api/extras/tags/")));
  } finally {
    const tags = await netboxOk(nb, "GET", `/api/extras/tags/?slug=${slug}`);
    for (const t of tags.results) await netboxApi(nb, "DELETE", `/api/extras/tags/${t.id}/`);
    await Deno.remove(dir, { recursive: true });
  }
});

netboxTest("find-free-ip --reserve --audit-log names the reserved addresses", async () => {
  const nb = testEnv();
  const scratch = await createScratch(nb, "audit");
  try {
    const dns = `${scratch.vm.name}-{n}.example.invalid`;
    const run = await runAudited(
      "find-free-ip",
      ["--prefix", scratch.prefix.prefix, "--reserve", "--count", "2", "--dns-name", dns],
      nb,
    );
    assert.equal(run.result.code, 0, describe(run.result));
    const ids = await assertAuditLog(run, nb, [scratch.vm.name]);
    const ips = await netboxOk(
      nb,
      "GET",
      `/api/ipam/ip-addresses/?parent=${scratch.prefix.prefix}`,
    );
    assert.equal(ips.count, 2, describe(run.result));
    for (const ip of ips.results) {
      assert.ok(ids.includes(ip.id), `id ${ip.id} not in the audit log`);
    }
    assert.equal(run.lines.length, 1, "all addresses are reserved in one request");
  } finally {
    await scratch.cleanup();
  }
});

netboxTest("assign-primary-ip --audit-log logs the address and the primary-IP writes", async () => {
  const nb = testEnv();
  const scratch = await createScratch(nb, "audit");
  try {
    const run = await runAudited(
      "assign-primary-ip",
      ["--vm", scratch.vm.name, "--interface", "eth0", "--address", scratch.address],
      nb,
    );
    assert.equal(run.result.code, 0, describe(run.result));
    const ids = await assertAuditLog(run, nb, []);
    const vm = await netboxOk(nb, "GET", `/api/virtualization/virtual-machines/${scratch.vm.id}/`);
    assert.ok(vm.primary_ip4, describe(run.result));
    assert.ok(ids.includes(vm.primary_ip4.id), "the new address is not in the audit log");
    assert.ok(ids.includes(scratch.vm.id), "the VM update is not in the audit log");
  } finally {
    await scratch.cleanup();
  }
});
