"""Shared fixtures.  Tests run on SQLite by default; LICENSE_SVC_TEST_DATABASE_URL selects
PostgreSQL (CI sets it).  A fixed clock is passed explicitly wherever time matters."""
