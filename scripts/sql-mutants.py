#!/usr/bin/env python3
"""SQL mutants of the reference server's generated `projects` queries and of the list
statements `core/list.rs` builds.

cargo-mutants does not change SQL strings, where most of a module's logic lives. This
script makes the mistakes a careless hand edit of `models.rs` or `core/list.rs` would (a
dropped WHERE term, a wrong ORDER BY, a COALESCE turned around, a keyset comparison flipped,
...), one at a time, runs the module's generated tests against each, and restores the file. A mutant is "caught" when the tests fail.

    python3 scripts/sql-mutants.py            # from the repository root; about a minute each

It prints one line per mutant and a summary; exit status 1 if any mutant was missed.
"""
import pathlib
import subprocess
import sys

MODELS = pathlib.Path("examples/server/src/modules/projects/models.rs")
# Lists are built by the request core from fixed fragments, not by SQL text in models.rs.
LIST = pathlib.Path("examples/server/src/core/list.rs")

# (what the mistake is, the file, text in it, its replacement); the text must occur once.
MUTANTS = [
    ("find ignores the id", MODELS, "FROM projects\n         WHERE id = $1\"",
     "FROM projects\n         WHERE id = $1 OR true ORDER BY created_at LIMIT 1\""),
    ("update changes every row", MODELS, "updated_at = now()\n         WHERE id = $1",
     "updated_at = now()\n         WHERE id = $1 OR true"),
    ("delete removes every row", MODELS, "DELETE FROM projects WHERE id = $1",
     "DELETE FROM projects WHERE id = $1 OR true"),
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
    ("list: a comparison filter dropped", LIST,
     'sql.push(format_args!("{column} {op} "));\n                    bind(sql, value.clone());',
     'sql.push(format_args!("({column} {op} "));\n                    bind(sql, value.clone());\n'
     '                    sql.push(" OR TRUE)");'),
    ("list: [null]=true reads as false", LIST,
     'Condition::Null(true) => {\n                    sql.push(format_args!("{column} IS NULL"));',
     'Condition::Null(true) => {\n                    sql.push(format_args!("{column} IS NOT NULL"));'),
    ("list: q matches everything", LIST,
     'sql.push(format_args!("{} ILIKE ", field.column));',
     'sql.push(format_args!("TRUE OR {} ILIKE ", field.column));'),
    ("list: descending sorts ascending", LIST, 'sql.push(" DESC");', 'sql.push(" ASC");'),
    ("list: keyset comparison flipped", LIST,
     'let op = if descending { "<" } else { ">" };\n            sql.push(format_args!("({}) {op} ("',
     'let op = if descending { ">" } else { "<" };\n            sql.push(format_args!("({}) {op} ("'),
    ("list: keyset repeats the cursor row", LIST,
     'let op = if descending { "<" } else { ">" };\n            sql.push(format_args!("({}) {op} ("',
     'let op = if descending { "<=" } else { ">=" };\n            sql.push(format_args!("({}) {op} ("'),
    ("list: no row read beyond the page (next never set)", LIST,
     'sql.push(" LIMIT ").push_bind(self.limit + 1);', 'sql.push(" LIMIT ").push_bind(self.limit);'),
    ("list: count ignores the filters", LIST,
     "        self.push_filters(&mut Clauses::new(&mut sql));\n        sql\n", "        sql\n"),
    ("list: cursors not bound to the tenant", LIST,
     "            self.tenant.as_str().as_bytes(),\n", ""),
]

def tests_pass() -> bool:
    run = subprocess.run(
        ["cargo", "test", "-q", "-p", "server", "--lib", "modules::projects"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return run.returncode == 0


def main() -> int:
    originals = {path: path.read_text() for path in (MODELS, LIST)}
    if not tests_pass():
        print("the unmutated tests fail: fix them first", file=sys.stderr)
        return 2
    missed = caught = absent = 0
    try:
        for name, path, text, replacement in MUTANTS:
            original = originals[path]
            if original.count(text) != 1:
                print(f"n/a     {name} (the code no longer has this text)")
                absent += 1
                continue
            path.write_text(original.replace(text, replacement))
            try:
                passed = tests_pass()
            finally:
                path.write_text(original)
            if passed:
                print(f"MISSED  {name}")
                missed += 1
            else:
                print(f"caught  {name}")
                caught += 1
    finally:
        for path, original in originals.items():
            path.write_text(original)
    print(f"{caught} caught, {missed} missed, {absent} not applicable")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
