"""The shape of the code base: import arrows between packages, and migrations that
match the models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.extensions import db

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "forums", "conferences", "meetings", "listserv")
# Who may import whom (DESIGN.md §2).
ALLOWED = {
    "hub": {"hub"},
    "forums": {"hub", "forums"},
    "conferences": {"hub", "forums", "conferences"},
    "meetings": {"hub", "forums", "meetings"},
    "listserv": {"hub", "forums", "listserv"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_follow_the_allowed_arrows(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for imported in _imports(path) - ALLOWED[package]:
            wrong.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_architecture_test_sees_a_wrong_arrow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from conferences import models\nimport listserv.x\n")
    assert _imports(bad) == {"conferences", "listserv"}


def test_migrations_match_the_models(app) -> None:
    """The test database was built by the migrations; the models must not differ."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, db.metadata)
    # FTS/tsvector helpers created by raw SQL in migrations are not in the metadata.
    diff = [d for d in diff if not _is_search_artifact(d)]
    assert diff == [], f"models and migrations differ: {diff}"


def _is_search_artifact(change: object) -> bool:
    text = repr(change)
    return "_fts" in text or "search_vector" in text


def test_migrations_form_one_line_with_ids_postgresql_can_store() -> None:
    """One head, each revision after the one before, and ids within `alembic_version`'s
    32 characters (SQLite does not enforce that length; PostgreSQL refuses the upgrade)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root = Path(__file__).resolve().parents[1]
    config = Config()
    config.set_main_option("script_location", str(root / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    revisions = list(scripts.walk_revisions())
    assert all(len(r.revision) <= 32 for r in revisions), [r.revision for r in revisions]
    assert [r.revision[:4] for r in reversed(revisions)] == [
        f"{n:04d}" for n in range(1, len(revisions) + 1)]
