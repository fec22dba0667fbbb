"""Japanese alongside English: how the language is chosen, and catalogs that are complete and compiled.

The catalog checks extract every marked string from the source with Babel
(scripts/i18n.py, the tool docs/i18n.md describes) and compare it with the
Japanese .po: a string without a translation, a fuzzy one, a translation that
drops or changes a placeholder or a command, or a .mo that is not what the
.po compiles to, fails here.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ses_dkim_monitor import i18n
from ses_dkim_monitor.i18n import _
from ses_dkim_monitor.settings import ConfigError, Settings
from tests.support.paths import REPO

_spec = importlib.util.spec_from_file_location("i18n_tool", REPO / "scripts" / "i18n.py")
assert _spec is not None and _spec.loader is not None
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "ja_JP.eucJP"}, "ja"),
        ({"LANG": ""}, "en"),
        ({"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"}, "ja"),
        ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "ja_JP.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANGUAGE": "fr:ja:en", "LANG": "en_US.UTF-8"}, "ja"),
        ({"LANGUAGE": "en:ja", "LANG": "ja_JP.UTF-8"}, "en"),
        # GNU gettext ignores LANGUAGE in the C locale: `LC_ALL=C command` is how one asks for English.
        ({"LANGUAGE": "ja", "LC_ALL": "C"}, "en"),
        ({"LANGUAGE": "ja:en", "LC_ALL": "C.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),
        ({"LANGUAGE": "ja"}, "en"),
        ({"LANGUAGE": "ja", "LANG": "POSIX"}, "en"),
        ({"LANGUAGE": "ja:en", "LANG": "en_US.UTF-8"}, "ja"),
    ],
)
def test_language_follows_gettexts_environment_convention(env, expected):
    assert Settings.from_env({"AWS_REGION": "us-east-1", **env}).locale_language == expected


def test_alert_language_defaults_to_english_and_takes_japanese():
    assert Settings.from_env({"AWS_REGION": "us-east-1"}).language == "en"
    assert Settings.from_env({"AWS_REGION": "us-east-1", "ALERT_LANGUAGE": "ja"}).language == "ja"
    # The Lambda's language is its own setting: a Japanese locale does not change it.
    assert Settings.from_env({"AWS_REGION": "us-east-1", "LANG": "ja_JP.UTF-8"}).language == "en"


def test_an_unknown_alert_language_is_a_configuration_error_naming_it():
    with pytest.raises(ConfigError, match="ALERT_LANGUAGE"):
        Settings.from_env({"AWS_REGION": "us-east-1", "ALERT_LANGUAGE": "fr"})


def test_speaking_restores_the_previous_language():
    assert i18n.current() == "en"
    with i18n.speaking("ja"):
        assert i18n.current() == "ja"
        with i18n.speaking("en"):
            assert _("Fix") == "Fix"
        assert _("Fix") != "Fix"
    assert i18n.current() == "en" and _("Fix") == "Fix"


def test_worker_threads_speak_the_chosen_language():
    """The scan's executor threads render messages too: they must see the language the main thread chose."""
    with i18n.speaking("ja"), ThreadPoolExecutor(2) as pool:
        seen = list(pool.map(lambda _x: (i18n.current(), _("Fix")), range(4)))
        fresh: list[str] = []
        thread = threading.Thread(target=lambda: fresh.append(_("Fix")))
        thread.start()
        thread.join()
    assert {lang for lang, _text in seen} == {"ja"}
    assert all(text != "Fix" for _lang, text in seen) and fresh[0] != "Fix"


def test_every_marked_string_has_a_japanese_translation_with_its_placeholders():
    """Extract every marked string with Babel: none missing, empty, fuzzy, with other placeholders or commands."""
    found = tool.problems("ja")
    assert not found, "\n".join(found[:40]) + (f"\n... and {len(found) - 40} more" if len(found) > 40 else "")


def test_no_translated_string_hides_inside_an_f_string():
    """Babel's extractor (on Python 3.11) does not look inside f-strings: a ``_()`` there is never translated."""
    import ast

    found = []
    for path in sorted((REPO / "src" / "ses_dkim_monitor").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call) and getattr(inner.func, "id", "") in tool.MARKERS:
                        found.append(f"{path.relative_to(REPO)}:{inner.lineno}")
    assert not found, f"a marked string inside an f-string is never extracted: {found}"


def test_no_marked_string_hides_inside_another_marker_call():
    """Babel does not extract ``N_("...")`` written inside ``_(...)``'s argument: such a default is never translated."""
    import ast

    found = []
    for path in sorted((REPO / "src" / "ses_dkim_monitor").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in tool.MARKERS:
                for argument in node.args:
                    for inner in ast.walk(argument):
                        if isinstance(inner, ast.Call) and getattr(inner.func, "id", "") in tool.MARKERS:
                            found.append(f"{path.relative_to(REPO)}:{inner.lineno}")
    assert not found, f"a marked string inside another marker's call is never extracted: {found}"


def test_the_committed_mo_is_what_the_po_compiles_to():
    mo = tool.mo_path("ja")
    assert mo.exists(), "run scripts/i18n.py compile"
    assert tool.same_catalog(mo.read_bytes(), tool.compiled(tool.read("ja")))


def test_a_translation_that_drops_a_placeholder_or_a_command_is_caught():
    from babel.messages.catalog import Message

    good = Message("Publish {name} CNAME {value}", "{name} に CNAME {value} を公開してください")
    assert tool.placeholder_problems(good) == []
    dropped = Message("Publish {name} CNAME {value}", "{name} に CNAME を公開してください")
    assert any("placeholders" in p for p in tool.placeholder_problems(dropped))
    renamed = Message("Publish {name} CNAME {value}", "{nom} に CNAME {value} を公開してください")
    assert any("placeholders" in p for p in tool.placeholder_problems(renamed))
    lost = Message("run ses-dkim-monitor fix --apply", "修正を適用してください")
    assert any("lost" in p for p in tool.placeholder_problems(lost))


def test_the_package_data_ships_the_compiled_catalog(tmp_path: Path):
    """``pip install`` (a wheel) carries the .mo: pyproject.toml's package data."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ses_dkim_monitor/locale/ja/LC_MESSAGES/ses_dkim_monitor.mo" in names
