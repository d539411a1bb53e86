from tests.grants.test_grants import granted  # noqa: F401  (the fixture, shared)
