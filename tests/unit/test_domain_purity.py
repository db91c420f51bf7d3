"""The domain imports only the standard library and itself (design.md §2).

import-linter enforces the named frameworks; this test closes the list: *any* third-party
import in `releve.domain` fails.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import releve.domain

DOMAIN = Path(releve.domain.__file__).parent


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def test_domain_imports_only_stdlib_and_itself() -> None:
    offenders = {}
    for path in DOMAIN.rglob("*.py"):
        bad = {
            name
            for name in _imported_roots(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and not name.startswith("releve.domain")
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_the_purity_check_would_catch_a_third_party_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import sqlalchemy\nfrom releve.adapters import db\nimport decimal\n")
    assert _imported_roots(sample) == {"sqlalchemy", "releve.adapters", "decimal"}
