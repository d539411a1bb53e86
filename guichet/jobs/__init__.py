"""Celery tasks and periodic jobs: each calls the function `make run` calls in-process."""
