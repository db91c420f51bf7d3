"""Relevé benchmarks (`make bench`): not part of the test suite. See bench/README.md."""
