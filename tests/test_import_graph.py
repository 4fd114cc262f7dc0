"""The import graph of the ``mmaction`` package has no cycle.

Every module of ``mmaction/`` is parsed with :mod:`ast` (nothing is imported). Each ``import`` and
``from ... import`` anywhere in a module (at the top, inside functions, classes or ``if`` blocks)
is an edge from that module to the module it names, with relative imports resolved against the
module's package. Importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``, so the
edge goes to every package on the way; ``from pkg import name`` goes to ``pkg`` and, when ``name``
is a submodule of ``pkg``, to that submodule too. The packages a module lives in are already being
imported when it runs, so a path through them is an edge only where the module reads a name
(not a submodule) from one of them: ``from mmaction.datasets import VideoDataset`` inside
``mmaction/datasets/transforms/x.py`` is one (it needs ``mmaction/datasets/__init__.py`` finished),
``from mmaction.datasets.video_io import open_video`` is not. A cycle is printed module by module.
"""

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mmaction"
TOP_MODULE = "mmaction.utils.setup_env"  # register_all_modules: imports every sub-package


def module_name(path: Path, root: Path) -> str:
    """``root/mmaction/a/b.py`` -> ``mmaction.a.b``; ``.../a/__init__.py`` -> ``mmaction.a``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path, package: str) -> Dict[str, Path]:
    """Every module of ``package`` under ``root``: dotted name -> file."""
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def resolve_from(module: str, is_package: bool, level: int, target: Optional[str]) -> str:
    """The absolute name ``from <level dots><target> import ...`` refers to inside ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def with_parents(name: str) -> List[str]:
    """``a.b.c`` -> ``['a', 'a.b', 'a.b.c']``: importing a module runs its packages' ``__init__``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def imported_modules(path: Path, module: str, known: Set[str]) -> Set[str]:
    """The modules of ``known`` that ``path`` (module ``module``) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    ancestors = set(with_parents(module))  # being imported already when ``module`` runs
    out: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.update(n for n in with_parents(alias.name) if n in known and n not in ancestors)
        elif isinstance(node, ast.ImportFrom):
            target = resolve_from(module, is_package, node.level, node.module)
            out.update(n for n in with_parents(target) if n in known and n not in ancestors)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    out.update(n for n in with_parents(sub) if n not in ancestors)
                elif target in known:  # a name defined by ``target`` itself: it must have run to the end
                    out.add(target)
    out.discard(module)
    return out


def import_graph(root: Path, package: str) -> Dict[str, Set[str]]:
    """Module -> the package's modules it imports."""
    modules = package_modules(root, package)
    return {name: imported_modules(path, name, set(modules)) for name, path in modules.items()}


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


# ------------------------------------------------------------------ the checker on known graphs
def write_package(root: Path, files: Dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_checker_finds_a_cycle_through_a_function_level_relative_import(tmp_path):
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "from .helpers import f\n",
        "pkg/low/helpers.py": "def f():\n    from ..high import g\n    return g\n",
        "pkg/high.py": "import pkg.low.helpers\ndef g():\n    pass\n",
    })
    cycle = find_cycle(import_graph(tmp_path, "pkg"))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert {"pkg.high", "pkg.low.helpers"} <= set(cycle)


def test_checker_counts_package_inits_on_the_way(tmp_path):
    """``import pkg.a.x`` runs ``pkg/a/__init__.py``, which imports ``pkg.b``, which imports ``pkg.a.x``."""
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "from pkg import b\n",
        "pkg/a/x.py": "",
        "pkg/b.py": "from pkg.a import x\n",
    })
    assert find_cycle(import_graph(tmp_path, "pkg")) is not None


def test_checker_counts_a_name_read_from_the_own_package(tmp_path):
    """``from pkg.a import helper`` inside ``pkg/a/x.py`` needs ``pkg/a/__init__.py`` finished, and
    that imports ``pkg.a.x``: a cycle. ``from pkg.a import y`` (a submodule) would not be one."""
    files = {"pkg/__init__.py": "", "pkg/a/__init__.py": "from .x import f\nhelper = 1\n", "pkg/a/y.py": "",
             "pkg/a/x.py": "def f():\n    from pkg.a import helper\n"}
    write_package(tmp_path, files)
    assert find_cycle(import_graph(tmp_path, "pkg")) == ["pkg.a", "pkg.a.x", "pkg.a"]
    (tmp_path / "pkg/a/x.py").write_text("def f():\n    from pkg.a import y\n")
    assert find_cycle(import_graph(tmp_path, "pkg")) is None


def test_checker_accepts_a_layered_package(tmp_path):
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/utils.py": "import os\n",
        "pkg/core/__init__.py": "from . import ops\n",
        "pkg/core/ops.py": "from ..utils import os\ndef f():\n    from pkg import utils\n",
        "pkg/top.py": "from .core import ops\nfrom . import utils\n",
    })
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.core.ops"] == {"pkg.utils"}  # pkg itself is being imported already
    assert graph["pkg.top"] == {"pkg.core", "pkg.core.ops", "pkg.utils"}
    assert find_cycle(graph) is None


# ------------------------------------------------------------------ the package itself
def test_mmaction_has_no_import_cycle():
    graph = import_graph(REPO_ROOT, PACKAGE)
    assert len(graph) > 50  # the whole package was parsed
    cycle = find_cycle(graph)
    if cycle is not None:
        pytest.fail("import cycle in mmaction: " + " -> ".join(cycle))


@pytest.mark.parametrize("low, high", [
    ("mmaction.utils", "mmaction.engine"),
    ("mmaction.utils", "mmaction.datasets"),
    ("mmaction.evaluation", "mmaction.engine"),
    ("mmaction.datasets", "mmaction.engine"),
])
def test_lower_layers_do_not_reach_higher_ones(low, high):
    """What importing any module of ``low`` may run, transitively, never includes ``high``
    (``mmaction.utils.setup_env``, which registers every package, is the top, not part of utils)."""
    graph = import_graph(REPO_ROOT, PACKAGE)
    seen, todo = set(), [m for m in graph if (m == low or m.startswith(low + ".")) and m != TOP_MODULE]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph.get(m, ()))
    reached = sorted(m for m in seen if m == high or m.startswith(high + "."))
    assert reached == [], f"{low} reaches {reached}"


def test_register_all_modules_is_imported_by_no_package_module():
    """Only the entry points of ``mmaction.apis`` (which build models and runners for the tools) may
    import it: it imports everything, so a lower module that did would close a cycle."""
    graph = import_graph(REPO_ROOT, PACKAGE)
    users = sorted(m for m, deps in graph.items() if TOP_MODULE in deps)
    assert users and all(m.startswith("mmaction.apis.") for m in users), users
