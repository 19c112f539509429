"""The layer contracts (pyproject.toml, [tool.importlinter]) cover every module, and a wrong import fails them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# May import the simulated tenant: itself, the demo and `simulate`.
SIMULATOR_USERS = {"m365audit.simulator", "m365audit.demo", "m365audit.cli.simulate"}


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["name"]: contract for contract in config["contracts"]}


def _modules(package: Path, prefix: str) -> set[str]:
    return {f"{prefix}.{path.stem}" for path in package.iterdir()
            if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()}


def test_the_simulator_contract_names_every_other_module() -> None:
    contract = _contracts()["Only the demo and `simulate` import the simulated tenant"]
    every = (_modules(ROOT / "m365audit", "m365audit") - {"m365audit.cli"}) | _modules(ROOT / "m365audit" / "cli",
                                                                                     "m365audit.cli")
    assert set(contract["source_modules"]) == every - SIMULATOR_USERS


def test_a_wrong_import_fails_the_linter(tmp_path) -> None:
    """Run lint-imports over a copy of the package with one import that points up a layer."""
    shutil.copytree(ROOT / "m365audit", tmp_path / "m365audit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    clean = subprocess.run(lint, cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)})
    assert clean.returncode == 0, clean.stdout
    with (tmp_path / "m365audit" / "policy.py").open("a") as policy:
        policy.write("\n\ndef _known() -> object:\n    from m365audit.checks import catalogue\n\n"
                     "    return catalogue\n")
    broken = subprocess.run(lint, cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)})
    assert broken.returncode == 1
    assert "m365audit.policy is not allowed to import m365audit.checks" in broken.stdout
