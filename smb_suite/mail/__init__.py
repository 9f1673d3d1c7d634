"""Pure RFC logic over bytes and strings: no sockets, no database, no configuration."""
