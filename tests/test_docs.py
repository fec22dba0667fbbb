"""The docs keep their promises.

The README starts with the two commands and stays a front page; every check id
is documented; the generated regions match the code (scripts/docgen.py); the
architecture's module map matches the source folders; relative links lead to
files and headings that exist.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from ses_dkim_monitor.catalogue import CHECKS
from tests.support.paths import DOCS, REPO, SRC

README_PATH = REPO / "README.md"
README = README_PATH.read_text()
MAX_README_LINES = 300

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def documents() -> list[Path]:
    return [README_PATH, *sorted(DOCS.glob("*.md"))]


def prose(text: str) -> str:
    """The text without code blocks and inline code, where links are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    for line in FENCE.sub("", text).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links() -> list[tuple[Path, str]]:
    links = []
    for doc in documents():
        for target in LINK.findall(prose(doc.read_text())):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                links.append((doc, target))
    return links


def test_readme_starts_with_the_demo_and_test_commands():
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["scripts/demo.sh", "scripts/test.sh"]
    for command in commands:
        assert (REPO / command).stat().st_mode & 0o111, f"{command} is not executable"


def test_ci_runs_the_readme_test_command():
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_every_check_id_is_documented():
    missing = [check_id for check_id in CHECKS if f"`{check_id}`" not in README]
    assert missing == []


def test_readme_is_a_front_page():
    lines = len(README.splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines (at most {MAX_README_LINES}): move detail to docs/"


def test_generated_regions_match_the_code():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "docgen.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        "docs are stale; run .venv/bin/python scripts/docgen.py and commit the result\n" + result.stdout + result.stderr
    )


def module_map() -> str:
    """The table rows of the module map section of docs/architecture.md."""
    text = (DOCS / "architecture.md").read_text()
    match = re.search(r"^## Module map\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert match, "docs/architecture.md has no '## Module map' section"
    return "\n".join(line for line in match.group(1).splitlines() if line.startswith("|"))


def test_module_map_names_every_module():
    named = set(re.findall(r"`([^`]+)`", module_map()))
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        package = f"{path.parent.relative_to(SRC).as_posix()}/"
        if relative in named or (path.name == "__init__.py" and package in named):
            continue
        missing.append(relative)
    assert missing == [], f"modules missing from the module map in docs/architecture.md: {missing}"


def test_no_module_is_over_400_lines():
    # A module a newcomer can read in one sitting; a longer one is usually two responsibilities.
    long = {p.relative_to(SRC).as_posix(): n for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}, f"split these modules (lines): {long}"


def test_module_map_names_only_modules_that_exist():
    named = [name for name in re.findall(r"`([^`]+)`", module_map()) if name.endswith(".py")]
    assert named, "the module map names no module"
    gone = [name for name in named if not (SRC / name).is_file()]
    assert gone == [], f"the module map in docs/architecture.md names modules that do not exist: {gone}"


def test_relative_links_point_at_files_that_exist():
    links = relative_links()
    assert links, "no relative link found: is the link pattern broken?"
    broken = []
    for doc, target in links:
        path = target.split("#", 1)[0]
        if path and not (doc.parent / path).exists():
            broken.append(f"{doc.relative_to(REPO)}: {target}")
    assert broken == []


def test_relative_links_point_at_headings_that_exist():
    broken = []
    for doc, target in relative_links():
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if anchor and file.suffix == ".md" and file.is_file() and anchor not in anchors(file.read_text()):
            broken.append(f"{doc.relative_to(REPO)}: {target}")
    assert broken == []


def test_every_test_named_in_the_faults_table_exists():
    """docs/faults.md names the tests that prove each behaviour; a renamed or deleted test breaks the table."""
    faults = (DOCS / "faults.md").read_text()
    rows = [line for line in faults.splitlines() if line.startswith("| ") and "`test_" in line]
    assert rows, "docs/faults.md lists no tests"
    named: set[tuple[str, str]] = set()
    for row in rows:
        for ref in re.findall(r"`((?:tests/[\w/]+\.py::)?test_\w+)`", row):
            path, _, name = ref.rpartition("::") if "::" in ref else ("tests/test_hardening.py", "", ref)
            named.add((path, name))
    missing = []
    for path, name in sorted(named):
        tree = ast.parse((REPO / path).read_text())
        if name not in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}:
            missing.append(f"{path}::{name}")
    assert missing == [], f"docs/faults.md names tests that do not exist: {missing}"
    hardening = ast.parse((REPO / "tests" / "test_hardening.py").read_text())
    tests = {n.name for n in hardening.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    unlisted = sorted(tests - {name for path, name in named if path == "tests/test_hardening.py"})
    assert unlisted == [], f"tests/test_hardening.py tests missing from docs/faults.md: {unlisted}"


def test_the_readme_names_every_option_of_the_command():
    """Each long option `check` and `fix` take is in the README's command section (fix's are also in docs/fix.md)."""
    from ses_dkim_monitor.cli import build_parser

    parser = build_parser()
    options = {o for a in parser._actions for o in a.option_strings if o.startswith("--")}
    sub = next(a for a in parser._actions if a.choices and "check" in a.choices)
    for command in sub.choices.values():
        options |= {o for a in command._actions for o in a.option_strings if o.startswith("--")}
    section = README.split("## The command", 1)[1].split("\n## ", 1)[0]
    assert sorted(o for o in options - {"--help"} if o not in section) == []


def test_every_test_a_document_names_exists():
    """A behaviour the docs state names the test that proves it (``tests/....py::test_...``): it must exist."""
    missing = []
    named = [
        (doc, ref) for doc in documents() for ref in re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", doc.read_text())
    ]
    assert len(named) > 20, "the docs name almost no tests: has the reference format changed?"
    for doc, (path, name) in named:
        file = REPO / path
        tree = ast.parse(file.read_text()) if file.exists() else ast.Module(body=[], type_ignores=[])
        if name not in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}:
            missing.append(f"{doc.name}: {path}::{name}")
    assert missing == []


def test_the_sns_attribute_table_gives_every_type_an_attribute_can_have():
    """A bundled notification (one check of one identity, several records) sends ``cause`` as a
    String.Array when its records' causes differ: a filter policy written from a table saying String
    alone would miss it."""
    from dataclasses import replace

    from ses_dkim_monitor.catalogue import causes
    from ses_dkim_monitor.notify import sns
    from tests.support.alert_builders import notification

    first = replace(notification(channels=("sns",)), cause=causes.DOUBLED_DOMAIN)
    second = replace(first, key="dkim-record-missing#def", cause=causes.TARGET_MISSING_DOT)
    single = sns.single_message(first)["MessageAttributes"]
    bundled = sns.single_message([first, second])["MessageAttributes"]
    sent = {name: {single[name]["DataType"], bundled[name]["DataType"]} for name in single}
    assert sent["cause"] == {"String", "String.Array"}, "the case this test is about"
    alerts = (DOCS / "alerts.md").read_text()
    for name, types in sent.items():
        [row] = re.findall(rf"^\| `{name}` \| ([^|]*) \|", alerts, re.MULTILINE)
        assert all(re.search(rf"\b{re.escape(t)}(?![.\w])", row) for t in types), (name, row, types)
