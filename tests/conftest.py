"""Fixtures shared by every suite."""

from tests.pg import pg_schemas

__all__ = ["pg_schemas"]
