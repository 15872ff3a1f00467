from .celery import app as celery_app
from .postgres import install as _install_postgres_setup

_install_postgres_setup()

__all__ = ("celery_app",)
