"""The rule of license_svc/web/routes/__init__.py: a route is a plain `def` (thread pool), or an
`async def` that only awaits reading the request body and then `return await
run_in_threadpool(...)` — so no verification, signing, rendering or database work runs on the
event loop."""

import ast
import importlib
import inspect
import textwrap

from fastapi.routing import APIRoute

from license_svc.web.app import ROUTE_MODULES

READS = {"body", "form", "read"}


def _awaited(node: ast.Await) -> str:
    call = node.value
    assert isinstance(call, ast.Call), ast.unparse(node)
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id


def _check(fn, module_globals, *, helper: bool = False) -> list[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            problems.append(f"{fn.__name__}: `with` on the event loop: {ast.unparse(node)[:60]}")
        if isinstance(node, ast.Await):
            name = _awaited(node)
            if name in READS or (name == "run_in_threadpool" and not helper):
                continue
            inner = module_globals.get(name)
            if inspect.iscoroutinefunction(inner):  # a local helper that reads the body
                problems += _check(inner, module_globals, helper=True)
            else:
                problems.append(f"{fn.__name__}: awaits {name}")
    if not helper:
        last = tree.body[-1]
        if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Await)
                and _awaited(last.value) == "run_in_threadpool"):
            problems.append(f"{fn.__name__}: does not end with `return await run_in_threadpool(...)`")
    return problems


def _routes():
    for name in ROUTE_MODULES:
        router = getattr(importlib.import_module(name), "router", None)
        yield from (r for r in getattr(router, "routes", ()) if isinstance(r, APIRoute))


def test_async_routes_only_read_then_hand_off():
    routes = list(_routes())
    asynchronous = [r.endpoint for r in routes if inspect.iscoroutinefunction(r.endpoint)]
    assert asynchronous, "the body-reading routes are async; the test must see them"
    problems = [p for fn in asynchronous
                for p in _check(fn, inspect.getmodule(fn).__dict__)]
    assert not problems, problems


def test_the_checker_catches_work_on_the_loop():
    async def bad(request, ctx):
        body = await request.body()
        with ctx.unit_of_work() as session:
            return do(session, body)  # noqa: F821

    problems = _check(bad, {})
    assert any("`with`" in p for p in problems) and any("does not end" in p for p in problems)
