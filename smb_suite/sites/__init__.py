"""Websites: theme rendering and atomic publishing of a domain's docroot."""
