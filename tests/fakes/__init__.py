"""The fake upstream server used by provider, service, worker and benchmark tests (see README.md)."""
