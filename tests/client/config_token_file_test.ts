/** resolveConfig()'s warning about token files open to group or others (as ssh does for keys). */
import assert from "node:assert/strict";
import { resolveConfig, tokenFileModeWarning } from "../../lib/client/config.ts";

const TOKEN = "nbt_abcdefghijkl.0123456789abcdef0123456789abcdef01234567";
const posix = Deno.build.os !== "windows";

async function tokenFile(mode: number): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "nbtk-token-" });
  await Deno.writeTextFile(path, `${TOKEN}\n`);
  await Deno.chmod(path, mode);
  return path;
}

function resolveWith(flags: { tokenFile?: string }, vars: Record<string, string>): string[] {
  const warnings: string[] = [];
  const options = resolveConfig(
    { url: "https://nb.example.com", ...flags },
    (name) => vars[name],
    { onWarning: (message) => warnings.push(message) },
  );
  assert.equal(options.token, TOKEN);
  return warnings;
}

Deno.test({
  name: "resolveConfig() warns about a --token-file readable by group and others",
  ignore: !posix,
  fn: async () => {
    const path = await tokenFile(0o644);
    try {
      const warnings = resolveWith({ tokenFile: path }, {});
      assert.deepEqual(warnings, [
        `the token file ${path} (--token-file) is open to its group and others (mode 0644); ` +
        `restrict it to its owner: chmod 600 ${path}`,
      ]);
      assert.ok(!warnings[0].includes(TOKEN) && !warnings[0].includes("0123456789abcdef"));
    } finally {
      await Deno.remove(path);
    }
  },
});

Deno.test({
  name: "resolveConfig() names NETBOX_TOKEN_FILE and who may access it",
  ignore: !posix,
  fn: async () => {
    const group = await tokenFile(0o640);
    const others = await tokenFile(0o604);
    try {
      assert.deepEqual(resolveWith({}, { NETBOX_TOKEN_FILE: group }), [
        `the token file ${group} (NETBOX_TOKEN_FILE) is open to its group (mode 0640); ` +
        `restrict it to its owner: chmod 600 ${group}`,
      ]);
      assert.deepEqual(resolveWith({}, { NETBOX_TOKEN_FILE: others }), [
        `the token file ${others} (NETBOX_TOKEN_FILE) is open to others (mode 0604); ` +
        `restrict it to its owner: chmod 600 ${others}`,
      ]);
    } finally {
      await Deno.remove(group);
      await Deno.remove(others);
    }
  },
});

Deno.test({
  name: "resolveConfig() is silent about a private token file (0600, 0400)",
  ignore: !posix,
  fn: async () => {
    for (const mode of [0o600, 0o400]) {
      const path = await tokenFile(mode);
      try {
        assert.deepEqual(resolveWith({ tokenFile: path }, {}), []);
        assert.equal(tokenFileModeWarning(path, "--token-file"), undefined);
      } finally {
        await Deno.chmod(path, 0o600);
        await Deno.remove(path);
      }
    }
  },
});

Deno.test({
  name: "resolveConfig() checks no file when the token comes from NETBOX_TOKEN",
  ignore: !posix,
  fn: () => {
    assert.deepEqual(resolveWith({}, { NETBOX_TOKEN: TOKEN }), []);
  },
});

Deno.test({
  name: "tokenFileModeWarning() counts write access for group or others too (as ssh does)",
  ignore: !posix,
  fn: async () => {
    const path = await tokenFile(0o620);
    try {
      assert.equal(
        tokenFileModeWarning(path, "--token-file"),
        `the token file ${path} (--token-file) is open to its group (mode 0620); ` +
          `restrict it to its owner: chmod 600 ${path}`,
      );
      assert.equal(tokenFileModeWarning(`${path}.missing`, "--token-file"), undefined);
    } finally {
      await Deno.remove(path);
    }
  },
});
