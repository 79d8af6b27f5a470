"""Says whether one `deno test` run passed, from its JUnit report and its console output.

    python3 .ci/junit_check.py REPORT EXIT_CODE LABEL CONSOLE_LOG TEST_FILE...

Prints one line per problem on stderr and, last on stdout, "PASSED FAILED IGNORED". A run fails
when a test case failed; when a test file given on the command line was never run (no "running N
tests from <file>" line: a file that throws while loading appears only as "Uncaught error from
<file>", and not at all in the JUnit report); on any uncaught error outside a test; and when
`deno test` exited non-zero although nothing above explains it. Each of those counts as one
failed test, so a total cannot read "0 failed" while something was lost.

The console output is the place to look for files: the JUnit report files a test under the module
that called `Deno.test`, which for the integration tests is their shared helper module.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def main() -> None:
    report, code, label, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    files = sys.argv[5:]
    passed = failed = ignored = 0
    problems: list[str] = []
    if not os.path.exists(report):
        problems.append(f"{label}: deno test wrote no report (exit {code})")
    else:
        try:
            root = ET.parse(report).getroot()
        except ET.ParseError as err:
            problems.append(f"{label}: the report {report} is not valid XML ({err})")
            root = ET.Element("testsuites")
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.find("skipped") is not None:
                ignored += 1
            else:
                passed += 1
    ran: set[str] = set()
    uncaught: list[str] = []
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = ANSI.sub("", line).strip()
                m = re.match(r"running \d+ tests? from (\S+)", line)
                if m:
                    ran.add(os.path.normpath(m.group(1)))
                # `deno test --parallel` names the file on each test's line instead.
                m = re.match(r"\.?/?(\S+_test\.ts) => ", line)
                if m:
                    ran.add(os.path.normpath(m.group(1)))
                m = re.match(r"Uncaught error from (\S+)", line)
                if m:
                    uncaught.append(os.path.normpath(m.group(1)))
    except OSError as err:
        problems.append(f"{label}: cannot read the console output {log} ({err})")
    for path in sorted(set(uncaught)):
        problems.append(f"{label}: uncaught error from {path} (it failed while loading, or left a dangling promise)")
    for path in files:
        if os.path.normpath(path) not in ran and os.path.normpath(path) not in uncaught:
            problems.append(f"{label}: {path} was never run")
    if code != 0 and failed == 0 and not problems:
        problems.append(f"{label}: deno test exited {code} but no failure explains it")
    for line in problems:
        print(f"LOST {line}", file=sys.stderr)
    print(passed, failed + len(problems), ignored)


main()
