#!/usr/bin/env python3
"""SQL mutants of the reference server's generated `projects` queries and of the list
statements the request core builds (`core/list/sql.rs`, signed by `core/list/cursor.rs`).

cargo-mutants does not change SQL strings, where most of a module's logic lives. This
script makes the mistakes a careless hand edit of `models.rs` or `core/list/` would (a
dropped WHERE term, a wrong ORDER BY, a COALESCE turned around, a keyset comparison flipped,
...), one at a time, runs the module's generated tests against each, and restores the file. A
mutant is "caught" when the tests fail (or run past TIMEOUT seconds: a walk that never ends).

    python3 scripts/sql-mutants.py            # from the repository root; about a minute each
    python3 scripts/sql-mutants.py --check    # only check that every mutant applies

Before anything else it checks that each mutant's text occurs exactly once in its file, and
stops naming the mutants that do not (the code moved on: update them). It prints one line per
mutant and a summary; exit status 1 if any mutant was missed or does not apply.
"""
import os
import pathlib
import signal
import subprocess
import sys

MODELS = pathlib.Path("examples/server/src/modules/projects/models.rs")
# Lists are built by the request core from fixed fragments, not by SQL text in models.rs.
LIST_SQL = pathlib.Path("examples/server/src/core/list/sql.rs")
LIST_CURSOR = pathlib.Path("examples/server/src/core/list/cursor.rs")

# Seconds one run of the tests may take before the mutant counts as caught (by hanging).
TIMEOUT = 900

# (what the mistake is, the file, text in it, its replacement); the text must occur once.
MUTANTS = [
    ("find ignores the id", MODELS, "FROM {schema}.projects\n         WHERE id = $1\"",
     "FROM {schema}.projects\n         WHERE id = $1 OR true ORDER BY created_at LIMIT 1\""),
    ("update changes every row", MODELS, "updated_at = now()\n         WHERE id = $1",
     "updated_at = now()\n         WHERE id = $1 OR true"),
    ("delete removes every row", MODELS, "DELETE FROM {schema}.projects WHERE id = $1",
     "DELETE FROM {schema}.projects WHERE id = $1 OR true"),
    ("update keeps the old value", MODELS, "name = COALESCE($2, name)", "name = COALESCE(name, $2)"),
    ("update clears an absent optional field", MODELS,
     "description = CASE WHEN $3 THEN $4 ELSE description END",
     "description = CASE WHEN $3 OR true THEN $4 ELSE description END"),
    ("update ignores a null that clears", MODELS,
     "description = CASE WHEN $3 THEN $4 ELSE description END",
     "description = CASE WHEN $3 AND $4 IS NOT NULL THEN $4 ELSE description END"),
    ("update leaves updated_at", MODELS, "updated_at = now()\n         WHERE",
     "updated_at = updated_at\n         WHERE"),
    ("insert swaps two values", MODELS, "VALUES ($1, $2)", "VALUES ($1, $1)"),
    # A filter keeps its Op; sql.rs writes `op.sql()`.
    ("list: a comparison filter dropped", LIST_SQL,
     'sql.push(format_args!("{column} {} ", op.sql()));\n                    bind(sql, value.clone());',
     'sql.push(format_args!("({column} {} ", op.sql()));\n                    bind(sql, value.clone());\n'
     '                    sql.push(" OR TRUE)");'),
    ("list: [null]=true reads as false", LIST_SQL,
     'Condition::Null(true) => {\n                    sql.push(format_args!("{column} IS NULL"));',
     'Condition::Null(true) => {\n                    sql.push(format_args!("{column} IS NOT NULL"));'),
    ("list: q matches everything", LIST_SQL,
     'sql.push(format_args!("{} ILIKE ", field.column));',
     'sql.push(format_args!("TRUE OR {} ILIKE ", field.column));'),
    ("list: descending sorts ascending", LIST_SQL, 'sql.push(" DESC");', 'sql.push(" ASC");'),
    ("list: keyset comparison flipped", LIST_SQL,
     'let op = if descending { "<" } else { ">" };\n            sql.push(format_args!("({}) {op} ("',
     'let op = if descending { ">" } else { "<" };\n            sql.push(format_args!("({}) {op} ("'),
    ("list: keyset repeats the cursor row", LIST_SQL,
     'let op = if descending { "<" } else { ">" };\n            sql.push(format_args!("({}) {op} ("',
     'let op = if descending { "<=" } else { ">=" };\n            sql.push(format_args!("({}) {op} ("'),
    ("list: no row read beyond the page (next never set)", LIST_SQL,
     'sql.push(" LIMIT ").push_bind(self.limit + 1);', 'sql.push(" LIMIT ").push_bind(self.limit);'),
    ("list: count ignores the filters", LIST_SQL,
     "        self.push_filters(&mut Clauses::new(&mut sql));\n        sql\n", "        sql\n"),
    ("list: cursors not bound to the tenant", LIST_CURSOR,
     "            self.tenant.as_str().as_bytes(),\n", ""),
]


def stale(originals: dict) -> list:
    """The mutants whose text does not occur exactly once in its file, each with a reason."""
    problems = []
    for name, path, text, _ in MUTANTS:
        if path not in originals:
            problems.append(f"{name}: {path} does not exist")
            continue
        count = originals[path].count(text)
        if count != 1:
            problems.append(f"{name}: its text occurs {count} times in {path}, not once")
    return problems


def tests_pass() -> "bool | None":
    """Whether the module's tests pass; None when they ran past TIMEOUT and were killed."""
    # Its own process group, so that a timeout ends the test binary too, not only cargo.
    run = subprocess.Popen(
        ["cargo", "test", "-q", "-p", "server", "--lib", "modules::projects"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        return run.wait(timeout=TIMEOUT) == 0
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        return None
    except BaseException:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        raise


def main() -> int:
    paths = dict.fromkeys(path for _, path, _, _ in MUTANTS)
    originals = {path: path.read_text() for path in paths if path.is_file()}
    problems = stale(originals)
    if problems:
        print("these mutants no longer apply to the code (update them in "
              "scripts/sql-mutants.py):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if "--check" in sys.argv[1:]:
        print(f"all {len(MUTANTS)} mutants apply: each text occurs once in its file")
        return 0
    if not tests_pass():
        print("the unmutated tests fail: fix them first", file=sys.stderr)
        return 2
    missed = caught = 0
    try:
        for name, path, text, replacement in MUTANTS:
            original = originals[path]
            path.write_text(original.replace(text, replacement))
            try:
                passed = tests_pass()
            finally:
                path.write_text(original)
            if passed:
                print(f"MISSED  {name}", flush=True)
                missed += 1
            else:
                hung = " (the tests ran past the timeout)" if passed is None else ""
                print(f"caught  {name}{hung}", flush=True)
                caught += 1
    finally:
        for path, original in originals.items():
            path.write_text(original)
    print(f"{caught} caught, {missed} missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
