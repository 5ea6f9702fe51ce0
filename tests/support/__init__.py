"""Test support shared by the test suites and the benchmarks: a driver for the real provider host."""
