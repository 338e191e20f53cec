#!/usr/bin/env python3
"""Check an Autobahn-format report directory written by kosoku (or by the Autobahn TestSuite).

Usage: check_autobahn.py [--allow-unimplemented SECTIONS] [--agent NAME]
                         [-i GLOB ... [-x GLOB ...]] DIR

With -i/-x (the same globs given to kosoku) the checker also verifies that every selected case has
a result, using kosoku's own case index (`kosoku.cases.CASES`); a case the peer never ran (e.g. a
client driver that stopped early) is a failure.

Report layout (kosoku 0.1 writes the same files as autobahn-testsuite's `createReports`):

    DIR/index.json      {agent: {case_id: {behavior, behaviorClose, remoteCloseCode,
                                           duration, reportfile}}}
    DIR/<agent>_case_<id with _>.json   one per case: id, description, expectation,
                                        behavior, behaviorClose, result, resultClose,
                                        received, expected, remoteCloseCode, wirelog, ...
    DIR/*.html          human-readable versions (not read here)

A case passes when `behavior` is OK or INFORMATIONAL and `behaviorClose` (if present) is OK or
INFORMATIONAL.  UNIMPLEMENTED behavior is accepted only for the sections listed in
--allow-unimplemented (default: 12,13 — permessage-deflate), and its behaviorClose must still be
OK or INFORMATIONAL.  NON-STRICT is a failure here, even
though kosoku itself counts it as a pass.

Exit status: 0 all cases pass, 1 some case failed, 2 the report is missing or unreadable.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys

PASS = {"OK", "INFORMATIONAL"}


def sort_key(case_id: str) -> list[int]:
    try:
        return [int(p) for p in case_id.split(".")]
    except ValueError:
        return [1 << 30]


def load_case(directory: str, entry: dict) -> dict:
    """The per-case report, or {} when it is missing (the index alone is enough to judge)."""
    name = entry.get("reportfile")
    if not name:
        return {}
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def acceptable(section: str, behavior: str, close, allow_unimpl: set) -> tuple[bool, bool]:
    """(behavior acceptable, behaviorClose acceptable) for one case."""
    unimpl_ok = behavior == "UNIMPLEMENTED" and section in allow_unimpl
    ok_behavior = behavior in PASS or unimpl_ok
    # behaviorClose is judged even for an accepted UNIMPLEMENTED case: refusing the extension
    # must still end in a proper closing handshake (kosoku reports OK there when it does).
    ok_close = close is None or str(close) in PASS
    return ok_behavior, ok_close


def selected_cases(include: list, exclude: list):
    """Case ids kosoku selects for these globs, in kosoku's order; None if the index is unavailable."""
    import fnmatch

    try:
        from kosoku.cases import CASES  # kosoku's internal index; optional
    except Exception as e:  # noqa: BLE001 - any import problem just disables the check
        print(f"check_autobahn: warning: cannot load kosoku's case index ({e}); "
              "skipping the completeness check", file=sys.stderr)
        return None
    ids = [c for c in CASES if any(fnmatch.fnmatchcase(c, g) for g in include)]
    return [c for c in ids if not any(fnmatch.fnmatchcase(c, g) for g in exclude)]


def short(text, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument(
        "--allow-unimplemented",
        default="12,13",
        help="comma-separated top-level sections where UNIMPLEMENTED is accepted (default: 12,13)",
    )
    ap.add_argument("--agent", help="only check this agent (default: every agent in the index)")
    ap.add_argument("-i", "--include", action="append", default=[], metavar="GLOB",
                    help="case glob that was selected (repeatable); enables the completeness check")
    ap.add_argument("-x", "--exclude", action="append", default=[], metavar="GLOB",
                    help="case glob that was excluded (repeatable)")
    args = ap.parse_args()
    allow_unimpl = {s.strip() for s in args.allow_unimplemented.split(",") if s.strip()}

    index_path = os.path.join(args.dir, "index.json")
    try:
        with open(index_path, encoding="utf-8") as f:
            index = json.load(f)
    except FileNotFoundError:
        print(f"check_autobahn: no report: {index_path} does not exist", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"check_autobahn: cannot read {index_path}: {e}", file=sys.stderr)
        return 2
    if not isinstance(index, dict) or not index:
        print(f"check_autobahn: {index_path} has no agents", file=sys.stderr)
        return 2
    if args.agent is not None:
        if args.agent not in index:
            print(
                f"check_autobahn: agent {args.agent!r} not in report (have: {sorted(index)})",
                file=sys.stderr,
            )
            return 2
        index = {args.agent: index[args.agent]}

    expected_ids = selected_cases(args.include, args.exclude) if args.include else None

    any_failed = False
    for agent, cases in sorted(index.items()):
        print(f"== {args.dir}: agent {agent!r}: {len(cases)} cases")
        overall = collections.Counter()
        close_tally = collections.Counter()
        per_section: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        failures = []
        for case_id in sorted(cases, key=sort_key):
            entry = cases[case_id]
            section = case_id.split(".")[0]
            behavior = str(entry.get("behavior", "MISSING"))
            close = entry.get("behaviorClose")
            overall[behavior] += 1
            per_section[section][behavior] += 1
            if close is not None:
                close_tally[str(close)] += 1

            ok_behavior, ok_close = acceptable(section, behavior, close, allow_unimpl)
            if not (ok_behavior and ok_close):
                failures.append((case_id, behavior, close, entry))

        print("   behavior tally: " + ", ".join(f"{k}={v}" for k, v in sorted(overall.items())))
        if close_tally:
            print(
                "   behaviorClose tally: "
                + ", ".join(f"{k}={v}" for k, v in sorted(close_tally.items()))
            )
        print("   per section:")
        for section in sorted(per_section, key=lambda s: sort_key(s)):
            tally = per_section[section]
            bad = sum(1 for f in failures if f[0].split(".")[0] == section)
            note = f"   <-- {bad} failing" if bad else ""
            print(
                f"     {section:>3}: "
                + ", ".join(f"{k}={v}" for k, v in sorted(tally.items()))
                + note
            )

        if failures:
            any_failed = True
            print(f"   FAILING CASES ({len(failures)}):")
            for case_id, behavior, close, entry in failures:
                detail = load_case(args.dir, entry)
                print(
                    f"   - {case_id}: behavior={behavior} behaviorClose={close}"
                    f" remoteCloseCode={entry.get('remoteCloseCode')}"
                )
                if detail.get("description"):
                    print(f"       description: {short(detail['description'])}")
                if detail.get("expectation"):
                    print(f"       expectation: {short(detail['expectation'])}")
                if detail.get("result"):
                    print(f"       result:      {short(detail['result'])}")
                if "received" in detail and behavior not in PASS:
                    print(f"       received:    {short(json.dumps(detail['received']))}")
                if detail.get("resultClose") and str(close) not in PASS:
                    print(f"       resultClose: {short(detail['resultClose'])}")
                if entry.get("reportfile"):
                    print(f"       report:      {os.path.join(args.dir, entry['reportfile'])}")
        else:
            print("   all reported cases acceptable")

    if expected_ids is not None:
        # Judged over all agents together: in fuzzingclient mode the agent is the server's
        # `Server` header, so a server that dies mid-run leaves the rest under `HOST:PORT`.
        reported = {c for cases in index.values() for c in cases}
        missing = [c for c in expected_ids if c not in reported]
        extra = sorted(reported - set(expected_ids), key=sort_key)
        if missing:
            any_failed = True
            print(f"== FAIL: {len(missing)} of {len(expected_ids)} selected cases have no result: "
                  + short(" ".join(missing), 400))
        else:
            print(f"== all {len(expected_ids)} selected cases have a result")
        if extra:
            print(f"== note: {len(extra)} cases outside the selection: " + short(" ".join(extra)))
    if len(index) > 1:
        print(f"== note: {len(index)} agents in one report: {sorted(index)}")

    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
