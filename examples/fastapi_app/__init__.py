"""A small FastAPI service on advisoros-db: see README.md beside this file."""

from examples.fastapi_app.app import create_app

__all__ = ["create_app"]
