import assert from "node:assert/strict";
import {
  CSV_FORMULA_LEADERS,
  escapeControls,
  neutralizeCsvCell,
} from "../../lib/base/safe_text.ts";

/** Whether the text holds a raw control character (C0, DEL, C1) or bidi override. */
function hasRawControls(text: string): boolean {
  return [...text].some((ch) => {
    const c = ch.codePointAt(0)!;
    return c < 0x20 && ch !== "\n" || (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
  });
}

const hex2 = (code: number) => `\\x${code.toString(16).padStart(2, "0")}`;

Deno.test("escapeControls() shows every C0 control, DEL and C1 control as \\xHH", () => {
  for (let code = 0; code <= 0x1f; code++) {
    assert.equal(escapeControls(`a${String.fromCharCode(code)}b`), `a${hex2(code)}b`);
  }
  assert.equal(escapeControls("a\x7fb"), "a\\x7fb");
  for (let code = 0x80; code <= 0x9f; code++) {
    assert.equal(escapeControls(`a${String.fromCharCode(code)}b`), `a${hex2(code)}b`);
  }
});

Deno.test("escapeControls() shows bidi embeddings, overrides and isolates as \\uHHHH", () => {
  const bidi = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
  for (const code of bidi) {
    assert.equal(escapeControls(`a${String.fromCharCode(code)}b`), `a\\u${code.toString(16)}b`);
  }
});

Deno.test("escapeControls() leaves printable text, backslashes and neighbours alone", () => {
  const kept = [
    "plain ascii ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
    "\u00a0nbsp \u00e9t\u00e9 \u00fcber", // U+00A0 is the first after the C1 block
    "\u2029\u202f\u2065\u206a", // just outside the bidi ranges
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627", // right-to-left letters
    "2001:db8::1/64 10.0.0.1/24 -5 =x",
    "a literal \\x1b stays",
    "\u{1f600} emoji",
  ];
  for (const text of kept) assert.equal(escapeControls(text), text);
});

Deno.test("escapeControls() defuses terminal escape sequences: screen clear, title, CSI", () => {
  assert.equal(
    escapeControls("sw1\x1b[2J\x1b]0;pwned\x07\x9b31m\r"),
    "sw1\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\x0d",
  );
  assert.ok(!hasRawControls(escapeControls("\x1b\x07\x9b\n\t")));
});

Deno.test("escapeControls() keeps line feeds only when asked, and nothing else", () => {
  assert.equal(escapeControls("a\nb"), "a\\x0ab");
  assert.equal(escapeControls("a\nb\r\n\tc\x1b", { keepNewlines: true }), "a\nb\\x0d\n\\x09c\\x1b");
});

Deno.test("neutralizeCsvCell() prefixes ' to each formula leader (OWASP)", () => {
  assert.deepEqual([...CSV_FORMULA_LEADERS], ["=", "+", "-", "@", "\t", "\r"]);
  assert.equal(
    neutralizeCsvCell('=HYPERLINK("http://evil.example","x")'),
    `'=HYPERLINK("http://evil.example","x")`,
  );
  assert.equal(neutralizeCsvCell("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
  assert.equal(neutralizeCsvCell("-2+3"), "'-2+3");
  assert.equal(neutralizeCsvCell("@SUM(A1:A2)"), "'@SUM(A1:A2)");
  assert.equal(neutralizeCsvCell("\t=1"), "'\t=1");
  assert.equal(neutralizeCsvCell("\r=1"), "'\r=1");
  // Negative numbers too: the rule has no exceptions (documented).
  assert.equal(neutralizeCsvCell("-5"), "'-5");
});

Deno.test("neutralizeCsvCell() leaves ordinary cells alone", () => {
  for (
    const text of [
      "",
      "sw1",
      "10.0.0.1/24",
      "2001:db8::1/64",
      "::1/128",
      "fe80::1/64",
      "a=b",
      "x-1",
      " =1", // not a leader: a space first
      "'quoted",
      "\n=1", // a line feed is not on OWASP's list; the CSV writer quotes it
    ]
  ) assert.equal(neutralizeCsvCell(text), text);
});
