"""The REST API (`/api/v1/`): django-ninja over the same selectors, permissions and services as
the pages. A personal token acts with exactly its owner's rights."""
