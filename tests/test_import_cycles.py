"""No import cycles among the modules of sklearn_pos, module-level or deferred.

The imports are read from the source with :mod:`ast`, including those inside
functions (a deferred import hides a cycle from the interpreter, not from the
reader): ``import a.b``, ``from a import b`` (an edge to the module ``a.b``
when it is one, else to ``a``) and relative imports. A cycle is a strongly
connected component of more than one module, or a module importing itself.
"""

import ast
from pathlib import Path


import sklearn_pos

PACKAGE = Path(sklearn_pos.__file__).parent


def module_names(root, package):
    """``{dotted name: path}`` of every module under ``root`` (a package)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join([package, *parts])] = path
    return names


def _resolve(module, is_package, level, target):
    """The absolute name of a relative import ``level`` dots up from ``module``."""
    if level == 0:
        return target
    base = module.split(".")
    # a package's own name is its first level; a module's is its parent's
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def import_graph(root, package):
    """``{module: set of modules of the package it imports}`` (deferred included)."""
    modules = module_names(root, package)
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                targets = [
                    f"{base}.{alias.name}"
                    if f"{base}.{alias.name}" in modules
                    else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                # ``import a.b.c`` of a name that is not a module: its package
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:  # empty: a module outside the package
                    graph[name].add(target)
    return graph


def cycles(graph):
    """Strongly connected components with a cycle, each as a sorted list."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        # Tarjan's algorithm, iteratively (no recursion limit to worry about)
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _describe(found, graph):
    lines = []
    for component in found:
        edges = [
            f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component
        ]
        lines.append(f"{component}: " + "; ".join(edges))
    return "\n".join(lines)


def _write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_finder_sees_deferred_relative_and_package_imports(tmp_path):
    root = tmp_path / "pkg"
    _write(
        root,
        {
            "__init__.py": "from .a import f\n",
            "a.py": "from .sub import b\n\ndef f():\n    return b\n",
            "sub/__init__.py": "",
            # deferred, relative two levels up: still an edge b -> a
            "sub/b.py": "def g():\n    from .. import a\n    return a\n",
            "sub/c.py": "import pkg.sub.b\nfrom pkg.a import f\n",
            "d.py": "from . import d\n",
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg"] == {"pkg.a"}
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.sub.c"] == {"pkg.sub.b", "pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"], ["pkg.d"]]


def test_no_import_cycles_in_the_whole_package():
    graph = import_graph(PACKAGE, "sklearn_pos")
    found = cycles(graph)
    assert not found, "import cycles in sklearn_pos:\n" + _describe(found, graph)
