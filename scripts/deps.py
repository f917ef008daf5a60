"""Draw the import graph of dfws and look for circles: ``python -m scripts.deps``.

Prints, for each module of ``dfws_celery`` and ``dfws_web``, the modules of
ours it imports (imports inside functions and under ``TYPE_CHECKING``
included: a circle hidden there is still a circle), then every import circle
found.  Exits 1 when there is one.  ``make lint`` runs the stricter contract
in ``.importlinter`` (layers in a stated order); this is the picture.
"""

from __future__ import annotations

import sys

import grimp

PACKAGES = ("dfws_celery", "dfws_web")


def build() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    modules = sorted(m for m in graph.modules if not m.endswith(".__init__"))
    return {m: set(graph.find_modules_directly_imported_by(m)) - set(PACKAGES) for m in modules}


def circles(graph_edges: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary circle reachable by depth-first search (one per back edge)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph_edges.get(module, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in graph_edges:
        if module not in state:
            visit(module)
    return found


def main() -> int:
    graph_edges = edges(build())
    width = max(len(m) for m in graph_edges)
    for module, targets in graph_edges.items():
        print(f"{module:<{width}}  -> {', '.join(sorted(targets)) or '-'}")
    found = circles(graph_edges)
    print()
    if not found:
        print(f"{len(graph_edges)} modules, no import circle")
        return 0
    for circle in found:
        print("circle: " + " -> ".join(circle))
    return 1


if __name__ == "__main__":
    sys.exit(main())
