#!/usr/bin/env python3
"""Mutation spot-check: does the test suite notice when a rule is broken?

For each named mutation (one small bug, in one file or two), this copies the source tree into
build-mutants/tree (once), applies the mutation there, builds, runs the whole CTest suite
and expects at least one test to fail. The file is restored before the next mutation.
The checkout itself is never touched.

    tools/mutate.py                 # every mutation
    tools/mutate.py claim-limit ... # the named ones
    tools/mutate.py --list

Prints a table: mutation, file, caught or MISSED, and the first tests that failed.
Exit 1 when a mutation is missed. Run by hand (it takes a while: one build and one full
test run per mutation); not part of CI.
"""
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build-mutants")
TREE = os.path.join(WORK, "tree")
BUILD = os.path.join(WORK, "build")

# name: (what the bug is, [(file, exact text, replacement), ...])
MUTATIONS = {
    "verify-head": (
        "verify ignores where the stored head says the chain ends",
        [
            ("src/eventstore/rocks_event_store.cc",
             'if (stored > r.events) {',
             'if (false) {'),
            ("src/eventstore/rocks_event_store.cc",
             'if (stored < r.events) {',
             'if (false) {'),
            ("src/eventstore/rocks_event_store.cc",
             'if (head.substr(8) != hash) {',
             'if (false) {'),
        ]),
    "customer-visibility": (
        "anyone reads any customer's 360, as_of and timeline",
        [
            ("src/api/routes_customers.cc",
             'if (!row || !VisibleTo(view, v)(row->owner_id)) return NotFound',
             'if (!row || (false && !VisibleTo(view, v)(row->owner_id))) return NotFound'),
        ]),
    "idempotency-scope": (
        "idempotency keys are shared by every caller",
        [
            ("src/writer/writer.cc",
             '    scope = req.actor;',
             '    scope = std::string("all");'),
        ]),
    "claim-limit": (
        "the daily claim limit is never reached",
        [
            ("src/domain/rules.cc",
             'if (used >= *p.daily_claim_limit) {',
             'if (false) {'),
        ]),
    "overpayment": (
        "a payment may exceed what is outstanding",
        [
            ("src/domain/deal_decisions.cc",
             'if (c.amount > k->outstanding()) {',
             'if (false) {'),
        ]),
    "peer-manager-power": (
        "a manager has powers over the other managers of their own department",
        [
            ("src/domain/org.cc",
             'return dept != *viewer.department_id && org.InSubtree(dept, *viewer.department_id);',
             'return org.InSubtree(dept, *viewer.department_id);'),
        ]),
    "admin-power": (
        "a manager has powers over admins, finance and auditors of their subtree",
        [
            ("src/domain/org.cc",
             '    case Role::kAdmin:\n    case Role::kFinance:\n    case Role::kAuditor:\n      return false;\n  }\n  return false;',
             '    case Role::kAdmin:\n    case Role::kFinance:\n    case Role::kAuditor:\n      return org.InSubtree(dept, *viewer.department_id);\n  }\n  return false;'),
        ]),
    "deals-stay": (
        "opportunities and contracts stay with the previous owner when the customer moves",
        [
            ("src/domain/rules.cc",
             'void MoveDealsWithCustomer(const CustomerRecord& c, const OptId& owner, Decision& d) {',
             'void MoveDealsWithCustomer(const CustomerRecord& c, const OptId& owner, Decision& d) {\n  if (true) return;'),
        ]),
    "pool-not-frozen": (
        "a pool customer's records can be worked on without claiming it",
        [
            ("src/domain/rules.cc",
             '  if (c.own.owner_id) return Status::Ok();\n  return InvalidTransition(',
             '  if (true) return Status::Ok();\n  return InvalidTransition('),
        ]),
    "transfer-encoding": (
        "a Transfer-Encoding other than chunked is read as no body (request smuggling)",
        [
            ("src/api/request_reader.cc",
             'if (!EqualsIgnoreCase(Trim(value), "chunked")) {',
             'if (false) {'),
        ]),
    "json-depth": (
        "bodies of any depth are parsed",
        [
            ("src/api/body.cc",
             'if (NestsDeeperThan(body, kMaxJsonDepth)) {',
             'if (false) {'),
        ]),
    "accept-spin": (
        "accept retries at once when descriptors run out",
        [
            ("src/api/http_server.cc",
             '    accept_timer.expires_after(accept_backoff);\n    accept_timer.async_wait([this](beast::error_code wait_ec) {\n      if (!wait_ec) DoAccept();\n    });\n    return;',
             '    DoAccept();\n    return;'),
        ]),
    "connection-cap": (
        "connections beyond the cap are served",
        [
            ("src/api/http_server.cc",
             'if (connections.load() < options.max_connections) {',
             'if (true) {'),
        ]),
    "as-of-no-snapshots": (
        "an as-of view replays the customer's whole history, ignoring the snapshots",
        [("src/projections/customer_history.cc",
          "if (auto snapshot = history.Latest(customer_id, position)) {",
          "if (auto snapshot = history.Latest(customer_id, 0); false) {")]),
    "as-of-whole-history-under-lock": (
        "an as-of view replays the whole history while holding the read models' lock (issue 6)",
        [("src/projections/customer_history.cc",
          "if (auto snapshot = history.Latest(customer_id, position)) {",
          "if (auto snapshot = history.Latest(customer_id, 0); false) {"),
         ("src/api/handler_util.cc",
          "      answer = fn(*viewer, view);\n",
          "      answer = fn(*viewer, view);\n"
          "      if (answer.ok() && answer->unlocked) answer = answer->unlocked();\n")]),
}


def run(cmd, cwd, log):
    with open(log, "w") as out:
        return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode


def prepare():
    os.makedirs(TREE, exist_ok=True)
    for part in ("CMakeLists.txt", "src", "tests", "tools", "schemas"):
        src, dst = os.path.join(ROOT, part), os.path.join(TREE, part)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        elif os.path.exists(dst):
            os.remove(dst)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst)
    if run(["cmake", "-S", TREE, "-B", BUILD, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
           WORK, os.path.join(WORK, "configure.log")):
        sys.exit("configure failed: see build-mutants/configure.log")
    if run(["ninja", "-C", BUILD], WORK, os.path.join(WORK, "build.log")):
        sys.exit("the unmutated tree does not build: see build-mutants/build.log")


def failed_tests(log):
    # CTest's summary lists them as "\t 42 - Suite.Name (Failed)".
    pattern = re.compile(r"^\s*\d+ - (\S+).*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception)[^)]*\)\s*$")
    names = []
    for line in open(log, errors="replace"):
        m = pattern.match(line)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return names


def main(argv):
    if "--list" in argv:
        for name, (what, edits) in MUTATIONS.items():
            files = ", ".join(sorted({e[0] for e in edits}))
            print(f"{name:32} {files:50} {what}")
        return 0
    names = argv or list(MUTATIONS)
    unknown = [n for n in names if n not in MUTATIONS]
    if unknown:
        sys.exit("unknown mutation(s): " + ", ".join(unknown) + " (see --list)")
    prepare()
    rows, missed = [], 0
    for name in names:
        what, edits = MUTATIONS[name]
        originals = {}
        for path, old, new in edits:
            target = os.path.join(TREE, path)
            originals.setdefault(target, open(target).read())
            text = open(target).read()
            if text.count(old) != 1:
                for t, o in originals.items():
                    open(t, "w").write(o)
                sys.exit(f"{name}: the text to mutate is not found exactly once in {path}: {old!r}")
            open(target, "w").write(text.replace(old, new))
        path = ", ".join(sorted({e[0] for e in edits}))
        started = time.time()
        try:
            log = os.path.join(WORK, name + ".log")
            if run(["ninja", "-C", BUILD], WORK, log):
                verdict, detail = "caught", "does not compile"
            else:
                rc = run(["ctest", "--test-dir", BUILD, "-j2", "--timeout", "300", "--output-on-failure"], WORK, log)
                failed = failed_tests(log)
                if rc == 0:
                    verdict, detail = "MISSED", "every test passed"
                    missed += 1
                else:
                    verdict = "caught"
                    detail = f"{len(failed)} failed: " + ", ".join(failed[:3]) + (" ..." if len(failed) > 3 else "")
        finally:
            for target, original in originals.items():
                open(target, "w").write(original)
        rows.append((name, path, verdict, detail, time.time() - started))
        print(f"{name:22} {verdict:7} {detail}  ({rows[-1][4]:.0f} s)", flush=True)
    print()
    print("| mutation | file | result | tests that failed |")
    print("| --- | --- | --- | --- |")
    for name, path, verdict, detail, _ in rows:
        print(f"| {name} | {path} | {verdict} | {detail} |")
    # Leave the tree's build as the unmutated code.
    run(["ninja", "-C", BUILD], WORK, os.path.join(WORK, "build.log"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
