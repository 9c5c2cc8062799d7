#!/usr/bin/env python3
"""Prints the closing line of `make test` from swift test's xUnit report.

`swift test --parallel` prints one line per test and, last, Swift Testing's own summary
("0 tests in 0 suites"), which says nothing about the XCTest cases. This reads the xUnit XML
and prints `tests: N passed, M failed[, K skipped]`, then each skipped test with its reason
(`make test` sets TWOCVM_NO_SKIP=1, so there a missing requirement is a failure, never a skip),
exiting non-zero if any failed or none ran.
"""
import sys
import xml.etree.ElementTree as ET

def main(path: str) -> int:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    total = failed = 0
    skipped = []
    for suite in suites:
        for case in suite.iter("testcase"):
            total += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif (skip := case.find("skipped")) is not None:
                name = f"{case.get('classname', '')}.{case.get('name', '')}"
                skipped.append((name, skip.get("message") or (skip.text or "").strip() or "no reason given"))
    passed = total - failed - len(skipped)
    line = f"tests: {passed} passed, {failed} failed"
    if skipped:
        line += f", {len(skipped)} skipped"
    print(line)
    for name, reason in skipped:
        print(f"  skipped {name}: {reason}")
    return 1 if failed or total == 0 else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
