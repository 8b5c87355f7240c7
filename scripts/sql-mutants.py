#!/usr/bin/env python3
"""SQL mutants of the reference server's generated `projects` queries.

cargo-mutants does not change SQL strings, where most of a module's logic lives. This
script makes the mistakes a careless hand edit of `models.rs` would (a dropped WHERE term, a
wrong ORDER BY, a COALESCE turned around, ...), one at a time, runs the module's generated
tests against each, and restores the file. A mutant is "caught" when the tests fail.

    python3 scripts/sql-mutants.py            # from the repository root; about a minute each

It prints one line per mutant and a summary; exit status 1 if any mutant was missed.
"""
import pathlib
import subprocess
import sys

MODELS = pathlib.Path("examples/server/src/modules/projects/models.rs")

# (what the mistake is, text in models.rs, its replacement); the text must occur once.
MUTANTS = [
    ("find ignores the id", "FROM projects\n         WHERE id = $1\"",
     "FROM projects\n         WHERE id = $1 OR true ORDER BY created_at LIMIT 1\""),
    ("update changes every row", "updated_at = now()\n         WHERE id = $1",
     "updated_at = now()\n         WHERE id = $1 OR true"),
    ("delete removes every row", "DELETE FROM projects WHERE id = $1",
     "DELETE FROM projects WHERE id = $1 OR true"),
    ("update keeps the old value", "name = COALESCE($2, name)", "name = COALESCE(name, $2)"),
    ("update clears an absent optional field",
     "description = CASE WHEN $3 THEN $4 ELSE description END",
     "description = CASE WHEN $3 OR true THEN $4 ELSE description END"),
    ("update ignores a null that clears",
     "description = CASE WHEN $3 THEN $4 ELSE description END",
     "description = CASE WHEN $3 AND $4 IS NOT NULL THEN $4 ELSE description END"),
    ("update leaves updated_at", "updated_at = now()\n         WHERE", "updated_at = updated_at\n         WHERE"),
    ("insert swaps two values", "VALUES ($1, $2)", "VALUES ($1, $1)"),
    ("list in another order", "ORDER BY created_at, id", "ORDER BY id"),
    ("list newest first", "ORDER BY created_at, id", "ORDER BY created_at DESC, id DESC"),
    ("list one row too many", "LIMIT $1", "LIMIT $1 + 1"),
]


def tests_pass() -> bool:
    run = subprocess.run(
        ["cargo", "test", "-q", "-p", "server", "--lib", "modules::projects"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return run.returncode == 0


def main() -> int:
    original = MODELS.read_text()
    if not tests_pass():
        print("the unmutated tests fail: fix them first", file=sys.stderr)
        return 2
    missed = caught = absent = 0
    try:
        for name, text, replacement in MUTANTS:
            if original.count(text) != 1:
                print(f"n/a     {name} (the query no longer has this text)")
                absent += 1
                continue
            MODELS.write_text(original.replace(text, replacement))
            if tests_pass():
                print(f"MISSED  {name}")
                missed += 1
            else:
                print(f"caught  {name}")
                caught += 1
    finally:
        MODELS.write_text(original)
    print(f"{caught} caught, {missed} missed, {absent} not applicable")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
