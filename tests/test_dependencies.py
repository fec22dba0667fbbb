"""One source of truth for the Lambda's dependencies.

pyproject.toml declares them; src/requirements.txt (what `sam build` installs)
is generated from it by scripts/lock.sh, pinned and hashed. These tests fail
when the lock no longer satisfies the declaration, or stops being a lock.
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import REPO

LOCK = REPO / "src" / "requirements.txt"


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (pinned version, hashes), from the lock's logical lines."""
    text = re.sub(r"\\\n\s*", " ", LOCK.read_text())
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)(.*)$", line)
        assert match, f"src/requirements.txt line is not an exact pin: {line!r}"
        name, version, rest = match.groups()
        pins[canonicalize_name(name)] = (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", rest))
    return pins


def test_every_declared_dependency_is_locked_at_a_version_it_allows():
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is declared in pyproject.toml but not locked: run scripts/lock.sh"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name}=={version} in src/requirements.txt does not satisfy {requirement}: run scripts/lock.sh"
        )


def test_every_locked_package_carries_hashes():
    pins = locked()
    assert len(pins) >= len(declared()), "the lock must include transitive dependencies too"
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert unhashed == [], f"locked without hashes: {unhashed}"


def _names(specs: list[str]) -> list[str]:
    return [canonicalize_name(Requirement(spec).name) for spec in specs]


def test_every_dependency_is_in_the_docs_with_why():
    """docs/development.md explains each dependency; the README names each runtime one."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    table = (REPO / "docs" / "development.md").read_text().split("## Dependencies and why", 1)[1].split("\n## ", 1)[0]
    listed = {
        canonicalize_name(n.strip())
        for row in re.findall(r"^\| ([^|]+) \|", table, re.M)
        for n in re.split(r",", re.sub(r"\(.*?\)|\[.*?\]", "", row))
    }
    wanted = _names(project["dependencies"]) + _names(project["optional-dependencies"]["test"])
    assert [n for n in wanted if n not in listed] == []
    readme = (REPO / "README.md").read_text().split("## Dependencies", 1)[1]
    assert [
        n
        for n in _names(project["dependencies"])
        if n not in {canonicalize_name(w) for w in re.findall(r"[\w.-]+", readme)}
    ] == []
