"""smb-suite: mail and websites for small businesses, in one daemon."""

__version__ = "0.1.0"
