import assert from "node:assert/strict";
import { redactText, redactValue, tokenSecrets } from "../../lib/client/_redact.ts";
import { createTransport } from "../../lib/client/transport.ts";
import { NetBoxHttpError } from "../../lib/client/errors.ts";
import { fakeClock } from "../_fake_server.ts";

const SECRET = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
const V2 = `nbt_abcdefghijkl.${SECRET}`;
const V1 = "0123456789abcdef0123456789abcdef01234567";
/** A token the redactor is not told about: only the Authorization rule can hide it. */
const OTHER_V2 = "nbt_zyxwvutsrqpo.ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";

Deno.test("tokenSecrets() hides a v1 token whole and a v2 token whole and by its secret part", () => {
  assert.deepEqual(tokenSecrets(V1), [V1]);
  assert.deepEqual(tokenSecrets(V2), [V2, SECRET]);
  // A secret part shorter than 8 characters is too short to hunt for on its own.
  assert.deepEqual(tokenSecrets("nbt_abcdefghijkl.1234567"), ["nbt_abcdefghijkl.1234567"]);
  assert.deepEqual(tokenSecrets("nbt_abcdefghijkl.12345678"), [
    "nbt_abcdefghijkl.12345678",
    "12345678",
  ]);
  // Only nbt_ tokens have a secret part; a v1 token with a dot is hidden whole.
  assert.deepEqual(tokenSecrets("abc.0123456789abcdef"), ["abc.0123456789abcdef"]);
  assert.deepEqual(tokenSecrets(""), []);
});

Deno.test("redactText() masks a v1 token wherever it appears", () => {
  const secrets = tokenSecrets(V1);
  assert.equal(
    redactText(`token ${V1} rejected; again: ${V1}`, secrets),
    "token [REDACTED] rejected; again: [REDACTED]",
  );
  assert.equal(redactText("nothing secret here", secrets), "nothing secret here");
});

Deno.test("redactText() masks a v2 token whole, and its secret part on its own", () => {
  const secrets = tokenSecrets(V2);
  assert.equal(redactText(`bad token ${V2}.`, secrets), "bad token [REDACTED].");
  assert.equal(redactText(`secret=${SECRET}&x=1`, secrets), "secret=[REDACTED]&x=1");
  // The key part alone is not a secret (it is what /api/users/tokens/?key= filters on).
  assert.equal(redactText("key abcdefghijkl", secrets), "key abcdefghijkl");
});

Deno.test("redactText() leaves secrets shorter than 4 characters alone", () => {
  assert.equal(redactText("a abc b", ["abc"]), "a abc b");
  assert.equal(redactText("a abcd b", ["abcd"]), "a [REDACTED] b");
});

Deno.test("redactText() masks tokens inside URLs and query strings", () => {
  const secrets = tokenSecrets(V2);
  assert.equal(
    redactText(`GET https://nb.example.com/api/dcim/sites/?token=${V2}&limit=5 200 3ms`, secrets),
    "GET https://nb.example.com/api/dcim/sites/?token=[REDACTED]&limit=5 200 3ms",
  );
  assert.equal(
    redactText(`GET /api/dcim/sites/?q=${SECRET} 400`, secrets),
    "GET /api/dcim/sites/?q=[REDACTED] 400",
  );
  assert.equal(
    redactText(`https://user:${V1}@nb.example.com/api/`, tokenSecrets(V1)),
    "https://user:[REDACTED]@nb.example.com/api/",
  );
});

Deno.test("redactText() masks tokens inside JSON bodies", () => {
  assert.equal(
    redactText(JSON.stringify({ detail: `Invalid v2 token ${V2}`, key: V2 }), tokenSecrets(V2)),
    '{"detail":"Invalid v2 token [REDACTED]","key":"[REDACTED]"}',
  );
  assert.equal(
    redactText(JSON.stringify({ token: V1, n: 1 }), tokenSecrets(V1)),
    '{"token":"[REDACTED]","n":1}',
  );
});

Deno.test("redactText() masks Authorization header lines even for a token it was not given", () => {
  assert.equal(redactText(`Authorization: Token ${V1}`, []), "Authorization: [REDACTED]");
  assert.equal(redactText(`Authorization: Bearer ${OTHER_V2}`, []), "Authorization: [REDACTED]");
  assert.equal(redactText(`authorization: bearer ${OTHER_V2}`, []), "authorization: [REDACTED]");
  assert.equal(
    redactText(`> GET /api/ HTTP/1.1\n> AUTHORIZATION:Token ${V1}\n> Accept: */*`, []),
    "> GET /api/ HTTP/1.1\n> AUTHORIZATION:[REDACTED]\n> Accept: */*",
  );
  // Django's debug page prints the request META.
  assert.equal(
    redactText(`HTTP_AUTHORIZATION = 'Bearer ${OTHER_V2}'`, []),
    "HTTP_AUTHORIZATION = '[REDACTED]'",
  );
  assert.equal(
    redactText(`curl -H "Authorization: Bearer ${OTHER_V2}" https://nb/api/`, []),
    'curl -H "Authorization: [REDACTED]" https://nb/api/',
  );
  // With the token known, the line is masked once, not twice.
  assert.equal(
    redactText(`Authorization: Bearer ${V2}`, tokenSecrets(V2)),
    "Authorization: [REDACTED]",
  );
});

Deno.test("redactText() masks Authorization in header objects printed as text", () => {
  const headers = {
    "Accept": "application/json",
    "User-Agent": "netbox-toolkit/0.1.0",
    "Authorization": `Bearer ${OTHER_V2}`,
  };
  assert.equal(
    redactText(JSON.stringify(headers), []),
    '{"Accept":"application/json","User-Agent":"netbox-toolkit/0.1.0","Authorization":"[REDACTED]"}',
  );
  // Deno.inspect picks the layout; the redactor only swaps the header's value.
  const inspected = Deno.inspect(headers);
  assert.equal(
    redactText(inspected, []),
    inspected.replace(`"Bearer ${OTHER_V2}"`, '"[REDACTED]"'),
  );
  assert.notEqual(redactText(inspected, []), inspected);
  const real = Deno.inspect(new Headers({ Authorization: `Token ${V1}`, Accept: "*/*" }));
  assert.equal(redactText(real, []), real.replace(`"Token ${V1}"`, '"[REDACTED]"'));
  assert.notEqual(redactText(real, []), real);
});

Deno.test("redactValue() deep-copies JSON-like data with the token masked in keys and values", () => {
  const secrets = tokenSecrets(V2);
  const input = {
    detail: `bad token ${V2}`,
    [V2]: [`secret ${SECRET}`, 7, null, true],
    nested: { headers: { Authorization: `Bearer ${V2}` }, echo: `Authorization: Token ${V1}` },
  };
  const out = redactValue(input, secrets);
  assert.deepEqual(out, {
    detail: "bad token [REDACTED]",
    "[REDACTED]": ["secret [REDACTED]", 7, null, true],
    nested: { headers: { Authorization: "Bearer [REDACTED]" }, echo: "Authorization: [REDACTED]" },
  });
  assert.equal(input.detail, `bad token ${V2}`, "the input is not changed");
  assert.equal(redactValue(42, secrets), 42);
  assert.equal(redactValue(null, secrets), null);
});

/** A transport on a scripted fetch, with the request log on and a frozen clock. */
function loggingTransport(token: string, answer: (url: URL) => Response) {
  const logs: string[] = [];
  const sent: Headers[] = [];
  const transport = createTransport({
    url: "http://127.0.0.1:9",
    token,
    retries: 0,
    verbose: true,
    clock: fakeClock(),
    log: (line) => logs.push(line),
    fetch: (input, init) => {
      sent.push(new Headers(init?.headers));
      const url = new URL(String(input));
      if (url.pathname === "/api/status/") {
        return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
      }
      return Promise.resolve(answer(url));
    },
  });
  return { transport, logs, sent };
}

Deno.test("the request log masks the token in the query string it prints", async () => {
  const { transport, logs, sent } = loggingTransport(
    V2,
    () => Response.json({ count: 0, next: null, previous: null, results: [] }),
  );
  await transport.request("GET", "dcim/sites/", { query: { q: V2, name: SECRET } });
  assert.deepEqual(logs, [
    "GET /api/status/ 200 0ms",
    "GET /api/dcim/sites/?q=[REDACTED]&name=[REDACTED] 200 0ms",
  ]);
  // The request itself carried the real token.
  assert.equal(sent[1].get("authorization"), `Bearer ${V2}`);
  assert.equal(
    redactText(Deno.inspect(sent[1]), tokenSecrets(V2)).includes(SECRET),
    false,
    "the sent headers, printed, hide the secret",
  );
});

Deno.test("log lines and warnings go through the redactor, Authorization lines included", () => {
  const { transport, logs } = loggingTransport(V1, () => new Response(null, { status: 204 }));
  transport.warn(`proxy said: Authorization: Bearer ${OTHER_V2}`);
  transport.warn(`retry with token ${V1}`);
  assert.deepEqual(logs, [
    "proxy said: Authorization: [REDACTED]",
    "retry with token [REDACTED]",
  ]);
});

Deno.test("an error body that echoes the token and the Authorization header is masked", async () => {
  const { transport } = loggingTransport(V2, () =>
    Response.json(
      {
        detail: `Invalid v2 token ${V2}`,
        headers: { Authorization: `Bearer ${V2}` },
        debug: `HTTP_AUTHORIZATION = 'Bearer ${OTHER_V2}'`,
      },
      { status: 400 },
    ));
  const err = await transport.request("GET", "dcim/sites/").then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NetBoxHttpError, String(err));
  assert.deepEqual(err.body, {
    detail: "Invalid v2 token [REDACTED]",
    headers: { Authorization: "Bearer [REDACTED]" },
    debug: "HTTP_AUTHORIZATION = '[REDACTED]'",
  });
  assert.equal(err.message.includes(SECRET), false, err.message);
  assert.equal(err.message.includes(OTHER_V2), false, err.message);
});
