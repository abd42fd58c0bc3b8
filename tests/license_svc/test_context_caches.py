"""What a service builds once lives on its context (`ctx.caches`), not in module globals keyed
by the context, the key store or an `id()`: such a global outlives what it is keyed by, and a
second context (another database, another test) saw the first one's values."""

import ast
import weakref
from pathlib import Path

from license_svc import verify_service
from license_svc.licences import resources

ROOT = Path(__file__).resolve().parent.parent.parent
# Module state that is not a cache of a service's values, each with its reason.
NOT_CACHES = {
    ("license_svc/audit/log.py", "_fault"),  # test seam: make appends fail
    ("license_svc/demo_seed.py", "_STEPS"),  # registry filled by a decorator at import
    # the licence-type search path: a start-up setting for the process (set from the settings
    # by each AppContext), not a value computed for one database or clock
    ("license_svc/templates.py", "_search_path"),
    # the OpenAPI document's component registry: filled at import by the schema modules'
    # declarations, the same for every context (like FastAPI's own route table)
    ("license_svc/web/schemas/openapi.py", "_models"),
    ("license_svc/web/schemas/openapi.py", "_providers"),
}
MUTATORS = {"setdefault", "update", "append", "add", "pop", "popitem", "clear", "move_to_end",
            "extend"}


def _sources():
    yield from sorted((ROOT / "license_svc").rglob("*.py"))
    yield ROOT / "signing" / "pdf" / "stamp.py"


def _mutated_module_state(path: Path) -> set[str]:
    """Module-level names the module writes into, or rebinds through `global`, after import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
             if isinstance(t, ast.Name)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(node.names)
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        found.update(t.value.id for t in targets
                     if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in MUTATORS and isinstance(node.func.value, ast.Name):
            found.add(node.func.value.id)
    return found & names


def test_no_module_level_cache_in_the_service():
    found = {(p.relative_to(ROOT).as_posix(), name) for p in _sources()
             for name in _mutated_module_state(p)}
    assert found - NOT_CACHES == set(), "keep it in ctx.caches (license_svc.context.Caches)"


def test_no_weak_or_id_keyed_mappings():
    bad = []
    for p in _sources():
        text = p.read_text(encoding="utf-8")
        for needle in ("WeakKeyDictionary", "WeakValueDictionary", "key = (id(", "[id("):
            if needle in text:
                bad.append((p.relative_to(ROOT).as_posix(), needle))
    assert not bad, bad


def test_verify_service_holds_no_cache_object():
    """Plain dicts written into are caught above; these are caches whatever their name."""
    from collections import OrderedDict

    import httpx

    from license_svc.context import Caches
    from license_svc.federation.peer_client import PeerClient

    cache_types = (weakref.WeakKeyDictionary, weakref.WeakValueDictionary, OrderedDict, Caches,
                   verify_service.StatusCache, verify_service.VerifierTrust, PeerClient,
                   httpx.Client)
    for module in (verify_service, resources):
        held = [name for name, value in vars(module).items() if isinstance(value, cache_types)]
        assert not held, (module.__name__, held)


def test_each_context_has_its_own(ctx_factory, settings_factory):
    a, b = ctx_factory(settings_factory("sh")), ctx_factory(settings_factory("sh"))
    assert verify_service.service_trust(a) is verify_service.service_trust(a)
    assert verify_service.service_trust(a) is not verify_service.service_trust(b)
    assert verify_service.status_cache(a) is not verify_service.status_cache(b)
    assert resources.timestamper(a, "sm2") is resources.timestamper(a, "sm2")
    assert resources.timestamper(a, "sm2") is not resources.timestamper(b, "sm2")
