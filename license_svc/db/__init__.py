"""Storage: one declarative `Base`, engines and sessions from `Settings`, alembic migrations.

Domain packages declare their tables in a module named `models` (e.g. `license_svc/licences/models.py`)
subclassing `Base`, and add an alembic revision under `license_svc/db/migrations/versions/`.
"""

from license_svc.db.base import Base, utcnow
from license_svc.db.engine import make_engine, make_session_factory, unit_of_work
from license_svc.db.migrate import current_heads, load_models, upgrade

__all__ = ["Base", "utcnow", "make_engine", "make_session_factory", "unit_of_work",
           "upgrade", "current_heads", "load_models"]
