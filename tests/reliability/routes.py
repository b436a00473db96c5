"""Every route the app serves, enumerated from the app itself (included routers too)."""

from fastapi import FastAPI
from starlette.routing import Mount


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) for every route, HEAD left out (it follows GET); mounts as ("MOUNT", path)."""
    found: set[tuple[str, str]] = set()

    def add(path: str, methods: object) -> None:
        assert isinstance(methods, set | frozenset | list | tuple)
        for method in methods:
            if method != "HEAD":
                found.add((str(method), path))

    for route in app.routes:
        if isinstance(route, Mount):
            found.add(("MOUNT", route.path))
        elif hasattr(route, "effective_route_contexts"):
            # FastAPI keeps included routers as one entry; their routes are listed here.
            for context in route.effective_route_contexts():
                add(context.path, context.methods)
        else:
            add(getattr(route, "path"), getattr(route, "methods", None) or set())  # noqa: B009
    return found
