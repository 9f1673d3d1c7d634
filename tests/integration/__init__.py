"""Tests of the real daemon over loopback sockets (fixtures in tests/conftest.py, helpers at the top of tests/)."""
