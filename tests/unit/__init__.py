"""Tests of pure code, by package of smb_suite: no daemon, no sockets."""
