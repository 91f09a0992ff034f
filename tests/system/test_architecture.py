"""The layers of DESIGN §3, kept by import-linter's one layers contract, and an empty consortium/__init__.py."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINTER = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("consortium", "providers", "contracts", "audits")


def test_import_linter_contracts_hold():
    result = subprocess.run([str(LINTER)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken" in result.stdout


def test_an_upward_import_in_a_new_module_breaks_the_layers(tmp_path):
    """A module nobody listed (contracts/usage_probe.py) importing a layer above it fails the lint."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static", "templates")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "contracts" / "usage_probe.py").write_text("from consortium.dashboards import services\n")
    result = subprocess.run(
        [str(LINTER)], cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)}
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "contracts.usage_probe -> consortium.dashboards.services" in result.stdout


def test_consortium_package_init_is_empty():
    assert (ROOT / "consortium" / "__init__.py").read_text().strip() == ""


def test_importing_a_model_does_not_build_the_app():
    code = "import sys, consortium.core.models, providers.models; print('consortium.app' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_every_session_hook_is_registered_in_one_place(app):
    """No module hangs a hook on the Session class by itself: `consortium.app.SESSION_HOOKS` names
    them all, and building the app registers each once."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from consortium.app import SESSION_HOOKS

    hidden = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "listens_for(Session" in path.read_text()
    ]
    assert hidden == []
    assert all(event.contains(Session, name, hook) for name, hook in SESSION_HOOKS)


LONGEST_VIEW = 20


def _view_lengths() -> dict[str, int]:
    """Each route's body, in lines from its first statement to its last, docstring excluded."""
    lengths = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                routed = isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call)
                    and isinstance(d.func, ast.Attribute)
                    and d.func.attr in ("route", "get", "post", "endpoint")
                    for d in node.decorator_list
                )
                if not routed:
                    continue
                body = node.body[1:] if ast.get_docstring(node) is not None else node.body
                lengths[f"{path.relative_to(ROOT)}:{node.name}"] = body[-1].end_lineno - body[0].lineno + 1
    return lengths


def test_every_view_is_thin():
    lengths = _view_lengths()
    assert len(lengths) > 80  # every blueprint's routes were found
    assert {name: n for name, n in lengths.items() if n > LONGEST_VIEW} == {}
