"""Reads one `deno test --junit-path` report and says whether the run it came from passed.

    python3 .ci/junit_check.py REPORT EXIT_CODE LABEL TEST_FILE...

Prints one line per problem and, last, "PASSED FAILED IGNORED" (ignored counts apart). A run
fails when a test case failed, when a test file given on the command line left nothing in the
report (a file that throws while loading is reported by `deno test` only on stderr), or when
`deno test` exited non-zero although the report shows no failure. Those two count as one failed
test each, so the CI total cannot read "0 failed" while something was lost.
"""
import os
import sys
import xml.etree.ElementTree as ET


def main() -> None:
    report, code, label, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    passed = failed = ignored = 0
    seen: set[str] = set()
    problems: list[str] = []
    if not os.path.exists(report):
        problems.append(f"{label}: deno test wrote no report (exit {code})")
    else:
        try:
            root = ET.parse(report).getroot()
        except ET.ParseError as err:
            problems.append(f"{label}: the report {report} is not valid XML ({err})")
            root = ET.Element("testsuites")
        for suite in root.iter("testsuite"):
            seen.add(os.path.normpath(suite.get("name", "")))
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.find("skipped") is not None:
                ignored += 1
            else:
                passed += 1
    lost = [f for f in files if os.path.normpath(f) not in seen]
    for f in lost:
        problems.append(f"{label}: {f} contributed no test to the report (it failed while loading?)")
    if code != 0 and failed == 0 and not lost and os.path.exists(report):
        problems.append(f"{label}: deno test exited {code} but the report shows no failure")
    for line in problems:
        print(f"LOST {line}", file=sys.stderr)
    print(passed, failed + len(problems), ignored)


main()
