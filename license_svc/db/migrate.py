"""Programmatic alembic: `upgrade(settings)` at start-up and in tests, no alembic.ini needed.

Revisions live in `migrations/versions/`.  Each domain adds its own revision whose
`down_revision` is the core revision (or the one it needs); we upgrade to "heads", so parallel
branches from different domains apply side by side without a merge revision.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(settings=None, *, engine: Engine | None = None, revision: str = "heads") -> None:
    """Bring the database of `settings` (or `engine`) to the newest schema.

    With `settings`, revisions can read them (`config.attributes["settings"]`): a data
    migration that needs the region's holder-reference secret (licences_0002) finds it there;
    given only an engine, such a migration does what it can without it and says so."""
    from license_svc.db.engine import make_engine

    own = engine is None
    engine = engine or make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(str(engine.url.render_as_string(hide_password=False)))
            cfg.attributes["connection"] = conn
            cfg.attributes["settings"] = settings
            command.upgrade(cfg, revision)
    finally:
        if own:
            engine.dispose()


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def load_models() -> None:
    """Import every `license_svc.**.models` module so `Base.metadata` knows all tables.

    Needed by alembic autogenerate and by the test that compares migrations with the models.
    """
    import license_svc

    for info in pkgutil.walk_packages(license_svc.__path__, "license_svc."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf == "models" or leaf.endswith("_models"):
            importlib.import_module(info.name)
