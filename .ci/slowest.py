"""The slowest test files of `deno test` runs, from their console output.

    python3 .ci/slowest.py N LABEL=CONSOLE_LOG...

Prints the N files with the most test time (the sum of their tests' reported durations), each with
its seconds and the run it belongs to. The console is the place to look: `deno test` runs files one
after the other and announces each ("running N tests from <file>"), while the JUnit report files
the integration tests under their shared helper module.
"""
import os
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PARALLEL = re.compile(r"^\.?/?(\S+_test\.ts) => ")
RUNNING = re.compile(r"^running \d+ tests? from (\S+)")
RESULT = re.compile(r" \.\.\. .*\((?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?(?:\d+(?:\.\d+)?µs)?\)\s*$")


def seconds(m: re.Match) -> float:
    mins, secs, ms = m.group(1), m.group(2), m.group(3)
    return int(mins or 0) * 60 + float(secs or 0) + float(ms or 0) / 1000


def main() -> None:
    n = int(sys.argv[1])
    totals: dict[tuple[str, str], float] = {}
    for arg in sys.argv[2:]:
        label, _, path = arg.partition("=")
        current = None
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError:
            continue
        for raw in lines:
            line = ANSI.sub("", raw)
            started = RUNNING.match(line)
            if started:
                current = started.group(1)
                continue
            # `deno test --parallel` names the file on each test's line instead.
            named = PARALLEL.match(line)
            done = RESULT.search(line)
            # A test's own line (not a step's, which is indented).
            if done and (named or current) and not line.startswith(" "):
                key = (label, os.path.normpath(named.group(1)) if named else current)
                totals[key] = totals.get(key, 0.0) + seconds(done)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:n]
    print(f"\nslowest {len(ranked)} test files:", file=sys.stderr)
    for (label, file), secs in ranked:
        print(f"  {secs:7.1f} s  {file}  ({label})", file=sys.stderr)


if __name__ == "__main__":
    main()
