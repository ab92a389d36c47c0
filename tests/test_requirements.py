"""Every package the code imports is a direct, pinned requirement (not present only as someone's dependency)."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
OWN = {"config", "core", "sources", "casualties", "seeds", "benchmarks", "tests"}
RUNTIME_DIRS = ["config", "core", "sources", "casualties", "seeds", "benchmarks", "docker"]


def _names(requirements: str) -> set[str]:
    names = set()
    for line in (PROJECT / requirements).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[<>=!~; ]", line)[0].lower().replace("_", "-"))
    return names


def _pinned() -> set[str]:
    return {line.split("==")[0].lower().replace("_", "-") for line in (PROJECT / "requirements.txt").read_text().split()
            if "==" in line}  # fmt: skip


def _imported(dirs: list[str]) -> set[str]:
    modules = set()
    for directory in dirs:
        for path in (PROJECT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in OWN and m not in sys.stdlib_module_names}


def _distributions(modules: set[str]) -> dict[str, set[str]]:
    owners = packages_distributions()
    return {module: {name.lower().replace("_", "-") for name in owners.get(module, [])} for module in modules}


def test_every_package_the_service_imports_is_a_direct_runtime_requirement_and_pinned():
    direct, pinned = _names("requirements.in"), _pinned()
    missing = {m: d for m, d in _distributions(_imported(RUNTIME_DIRS)).items() if not d & direct}
    assert missing == {}
    assert direct - pinned == set()


def test_every_package_the_tests_import_is_a_direct_requirement():
    direct = _names("requirements.in") | _names("requirements-dev.in")
    missing = {m: d for m, d in _distributions(_imported(["tests"])).items() if not d & direct}
    assert missing == {}
