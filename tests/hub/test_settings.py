"""Every setting README documents is read from the environment by config.py, and setting
it changes what the hub does; README and config.py name the same variables."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import config

ROOT = Path(config.__file__).resolve().parent
_READ_BY = {"get", "_int", "_float"}  # env.get(NAME), _int(NAME, ...), _float(NAME, ...)


def documented() -> set[str]:
    return set(re.findall(r"`[^`]*?\b(HUB_[A-Z0-9_]*[A-Z0-9])\b", (ROOT / "README.md").read_text()))


def read_by_config() -> set[str]:
    """The variables config.py reads: the first argument of an environment read, and the
    keys of its FROM_ENVIRONMENT table."""
    names: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / "config.py").read_text())):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called in _READ_BY and isinstance(first, ast.Constant) \
                    and str(first.value).startswith("HUB_"):
                names.add(first.value)
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(getattr(t, "id", "") == "FROM_ENVIRONMENT" for t in targets):
                names.update(k.value for k in node.value.keys)
    return names


def test_readme_documents_only_what_config_reads():
    missing = documented() - read_by_config()
    assert not missing, f"README documents settings config.py does not read: {sorted(missing)}"


def test_config_reads_only_what_readme_documents():
    undocumented = read_by_config() - documented()
    assert not undocumented, f"config.py reads settings README does not document: " \
                             f"{sorted(undocumented)}"


def _sample(name: str, default: object) -> str:
    """A value for `name` different from its default."""
    if isinstance(default, bool) or config.FROM_ENVIRONMENT.get(name) is config._bool:
        return "0" if default else "1"
    if isinstance(default, int | float) or name in config.FROM_ENVIRONMENT:
        return str(int(default or 0) + 7)
    if name.endswith("_URL"):
        return "http://sample.example" if "BASE" in name else "sqlite:////tmp/sample.db"
    return "sample-value"


@pytest.mark.parametrize("name", sorted(documented()))
def test_each_documented_setting_changes_the_configuration(monkeypatch, name):
    for other in documented():
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv("HUB_SECRET_KEY", "fixed")
    before = config.load_config()
    if name == "HUB_SECRET_KEY":
        monkeypatch.setenv(name, "another")
    else:
        monkeypatch.setenv(name, _sample(name, before.get(name)))
    after = config.load_config()
    assert after != before, f"setting {name} changes nothing"


def test_a_bad_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("HUB_FORUM_PAGE_CACHE", "a minute")
    with pytest.raises(ValueError, match="HUB_FORUM_PAGE_CACHE"):
        config.load_config()
