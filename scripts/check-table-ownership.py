#!/usr/bin/env python3
"""Modules run SQL only against their own tables (issue 12: "modules stop reading other
modules' tables; ask the owning module").

Every table created in src/storage/migrations_sql.cc has one owning module below. The script
reads the SQL text of every production source file under src/ (its string literals, adjacent
literals joined as the compiler joins them) and fails when a module names a table it does not
own after FROM, JOIN, INTO, UPDATE or TABLE, unless the table is

  * a reference table (read by anyone; written only by its owner), or
  * declared read by a read model (a module whose whole job is a view across modules), or
  * an exception listed in KNOWN_EXCEPTIONS (each with its reason; an exception that no longer
    occurs must be removed, so the list only shrinks).

It also fails when a table has no owner, so a new table gets one when it is added.

Test code (files ending _test.cc, *_test_support.h, testing.{h,cc} and test helper programs)
arranges state directly and is not checked. Run by the CTest `table_ownership_test`:

    python3 scripts/check-table-ownership.py [SOURCE_DIR]
"""
import os
import re
import sys

# module (the folder under src/) -> the tables it owns
OWNERS = {
    "participants": ["participants"],
    "consent": ["icf_versions", "consent_records"],
    "clinical": ["clinical_records", "code_lists"],
    "specimens": ["specimens", "custody_events", "analysis_orders", "analysis_order_rules"],
    "blobs": ["blobs", "blob_copies", "blob_migrations", "blob_migration_items"],
    "sequencing": ["sequencing_runs", "uploads"],
    "genomefiles": ["data_files", "file_samples"],
    "findings": ["findings", "finding_events", "finding_messages", "finding_message_reads",
                 "findings_settings"],
    "identity": ["organisations", "users", "user_roles", "research_groups",
                 "research_group_members", "recovery_codes", "sessions", "api_tokens",
                 "login_sources", "role_grants", "enrolment_codes"],
    "sharing": ["sharing_settings", "datasets", "dataset_files", "releases",
                "release_tier_events", "applications", "application_events", "grants",
                "application_documents"],
    "variants": ["variant_batches", "variant_samples", "variant_chunks", "variant_sites",
                 "variant_genes", "variant_ingest_queue",
                 "variant_af_computations", "variant_public_af", "variant_merged_chunks"],
    "beacon": ["beacon_query_budget"],
    "analysis": ["reference_genomes", "analysis_runs", "analysis_run_steps",
                 "analysis_run_outputs"],
    "audit": ["audit_log"],
    "app": ["settings"],  # the operator's key/value settings (system routes)
}

# Tables every module may read (never write): the participant register is the reference every
# record points to (its program, hospital and index date).
REFERENCE = {"participants"}

# Declared read models: module -> the foreign tables it reads (never writes).
READ_MODELS = {
    # The public progress portal counts, per participant, the stage reached across consent,
    # specimens and custody in one statement (docs/architecture.md, "portal").
    "portal": {"consent_records", "specimens", "custody_events"},
}

# (file, table) -> why it is still there. Each is a debt with a named way out.
KNOWN_EXCEPTIONS = {
}

# Created only to be renamed by a later migration.
TRANSIENT_TABLES = {"uploads_with_expiry"}

SKIP_FILES = {"src/storage/migrations_sql.cc", "src/blobs/kill9_helper.cc"}


def is_test_file(path):
    name = os.path.basename(path)
    return (name.endswith(("_test.cc", "_test_support.h", "_test_support.cc"))
            or name in ("testing.cc", "testing.h") or "/testing/" in path
            or "/testdata/" in path)


def string_literals(text):
    """Yields (line, sql) for each run of adjacent C++ string literals, joined."""
    i, n = 0, len(text)
    run, run_line, pending_end = [], 0, None
    line = 1

    def flush():
        nonlocal run
        if run:
            yield_list.append((run_line, "".join(run)))
        run = []

    yield_list = []
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
            continue
        m = re.match(r'(?:u8|u|U|L)?R"([^()\\ ]{0,16})\(', text[i:i + 40])
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = ")" + m.group(1) + '"'
            start = i + m.end()
            j = text.find(end, start)
            j = n if j < 0 else j
            if not run:
                run_line = line
            run.append(text[start:j])
            line += text.count("\n", i, j)
            i = j + len(end)
            continue
        if c == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j:j + 2])
                    j += 2
                    continue
                if text[j] == "\n":
                    break
                buf.append(text[j])
                j += 1
            if not run:
                run_line = line
            run.append("".join(buf))
            i = j + 1
            continue
        if c == "'":
            # a character literal (or a digit separator: 1'000)
            if i > 0 and text[i - 1].isalnum() and not re.match(r"[uUL8]", text[i - 1]):
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != "'" and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "\n":
            line += 1
        if not c.isspace():
            flush()
        i += 1
    flush()
    return yield_list


TABLE_RE = re.compile(r"\b(DELETE\s+FROM|FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z_][a-z0-9_]*)\b")


def migration_tables(src):
    with open(os.path.join(src, "src/storage/migrations_sql.cc"), encoding="utf-8") as f:
        text = f.read()
    return set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", text))


def check(src, known_exceptions):
    """The ownership problems of the source tree at src, one line each."""
    owner_of = {}
    problems = []
    for module, tables in OWNERS.items():
        for t in tables:
            if t in owner_of:
                problems.append(f"table {t} has two owners: {owner_of[t]} and {module}")
            owner_of[t] = module
    for t in sorted(migration_tables(src) - set(owner_of) - TRANSIENT_TABLES):
        problems.append(f"table {t} (src/storage/migrations_sql.cc) has no owning module: add it "
                        f"to OWNERS in scripts/check-table-ownership.py")
    seen_exceptions = set()
    for root, dirs, files in os.walk(os.path.join(src, "src")):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".cc", ".h")):
                continue
            path = os.path.relpath(os.path.join(root, name), src).replace(os.sep, "/")
            if path in SKIP_FILES or is_test_file(path):
                continue
            module = path.split("/")[1]
            with open(os.path.join(src, path), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for line, sql in string_literals(text):
                for m in TABLE_RE.finditer(sql):
                    keyword, table = m.group(1), m.group(2)
                    owner = owner_of.get(table)
                    if owner is None or owner == module:
                        continue
                    write = keyword.split()[0] in ("DELETE", "INTO", "UPDATE", "TABLE")
                    if not write and (table in REFERENCE or
                                      table in READ_MODELS.get(module, ())):
                        continue
                    if (path, table) in known_exceptions:
                        seen_exceptions.add((path, table))
                        continue
                    verb = "writes" if write else "reads"
                    problems.append(f"{path}:{line}: module {module} {verb} table {table} owned by "
                                    f"{owner}: call a function of {owner} instead")
    for key in sorted(set(known_exceptions) - seen_exceptions):
        problems.append(f"known exception {key[0]} -> {key[1]} no longer occurs: remove it from "
                        f"KNOWN_EXCEPTIONS")
    return problems


def self_test():
    """The check finds what it must in a small planted tree, and nothing else."""
    import tempfile
    files = {
        "src/storage/migrations_sql.cc":
            'R"sql(CREATE TABLE data_files (id TEXT); CREATE TABLE datasets (id TEXT);)sql"',
        # a read split over adjacent literals, with a comment between them
        "src/sharing/a.cc": 'auto q = "SELECT id FROM " /* x */\n    "data_files WHERE x";\n',
        # a write in a raw string
        "src/sharing/b.cc": 'auto q = R"sql(\nDELETE FROM data_files\n)sql";\n',
        # the owner, the reference table, prose, a comment and test code: all fine
        "src/genomefiles/c.cc": 'auto q = "SELECT * FROM data_files";\n',
        "src/sharing/d.cc": ('// SELECT 1 FROM data_files\nauto q = "SELECT program FROM '
                             'participants"; auto e = "no file from data_files";\n'),
        "src/sharing/d_test.cc": 'auto q = "INSERT INTO data_files VALUES (1)";\n',
        "src/sharing/e.cc": "int n = 1'000; auto q = \"UPDATE datasets SET x = 1\";\n",
    }
    with tempfile.TemporaryDirectory() as d:
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, path)), exist_ok=True)
            with open(os.path.join(d, path), "w", encoding="utf-8") as f:
                f.write(text)
        got = check(d, {("src/sharing/gone.cc", "data_files"): "stale"})
    want = [
        "src/sharing/a.cc:1: module sharing reads table data_files owned by genomefiles",
        "src/sharing/b.cc:1: module sharing writes table data_files owned by genomefiles",
        "known exception src/sharing/gone.cc -> data_files no longer occurs",
    ]
    unowned = [p for p in got if "has no owning module" in p]
    rest = [p for p in got if p not in unowned]
    ok = (len(rest) == len(want) and all(p.startswith(w) for p, w in zip(rest, want))
          and not unowned)
    for p in got:
        print(p)
    print("self-test", "passed" if ok else "FAILED")
    return 0 if ok else 1


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        return self_test()
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = check(src, KNOWN_EXCEPTIONS)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} table ownership problem(s)")
        return 1
    print("table ownership: every module runs SQL only on its own tables (or declared reads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
