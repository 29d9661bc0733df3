from tests.fakes.fixtures import fake_upstream  # noqa: F401  (fixture for every provider test)
