"""The layers of DESIGN §3, kept by import-linter, and an empty consortium/__init__.py."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_consortium_package_init_is_empty():
    assert (ROOT / "consortium" / "__init__.py").read_text().strip() == ""


def test_importing_a_model_does_not_build_the_app():
    code = "import sys, consortium.models, providers.models; print('consortium.app' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
