"""``auth`` never imports ``app``: the dependency arrow points one way."""

from __future__ import annotations

import ast
from pathlib import Path

import auth

AUTH_ROOT = Path(auth.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_under_auth_imports_app() -> None:
    modules = sorted(AUTH_ROOT.rglob("*.py"))
    assert AUTH_ROOT / "dependencies.py" in modules
    assert AUTH_ROOT / "store" / "sqlite" / "__init__.py" in modules
    offenders = {
        str(path.relative_to(AUTH_ROOT)): sorted(
            name for name in _imported_modules(path) if name == "app" or name.startswith("app.")
        )
        for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import app.settings\nfrom app import main\nfrom . import sibling\n")
    assert _imported_modules(sample) == {"app.settings", "app"}
