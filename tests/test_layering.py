"""The apps depend one way (DESIGN.md): import-linter's layers contract in pyproject.toml,
run as part of the suite so CI fails when a lower app imports a higher one."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--config", str(cwd / "pyproject.toml")], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(cwd), "PATH": ""})


def test_the_apps_keep_the_layering_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Apps depend one way KEPT" in result.stdout


@pytest.mark.parametrize("lower, higher", [
    ("accounts", "wallet"), ("catalog", "wallet"), ("catalog", "accounts"), ("wallet", "generations"),
    ("providers", "wallet"), ("generations", "studio"), ("wallet", "teams"), ("core", "catalog"),
    ("api", "ops"),
])
def test_the_contract_fails_when_a_lower_app_imports_a_higher_one(tmp_path, lower, higher):
    # The same contract (the project's pyproject.toml) over a skeleton of the apps with one bad import.
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for app in ("ops", "api", "studio", "teams", "generations", "wallet", "providers", "accounts", "catalog", "core"):
        (tmp_path / "apps" / app).mkdir(parents=True)
        (tmp_path / "apps" / app / "__init__.py").write_text("")
    (tmp_path / "apps" / "__init__.py").write_text("")
    (tmp_path / "apps" / lower / "services.py").write_text(f"from apps.{higher} import services\n")
    (tmp_path / "apps" / higher / "services.py").write_text("")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert f"apps.{lower} is not allowed to import apps.{higher}" in result.stdout
