"""Outbound queue: durable spool, MX routing, delivery with aiosmtplib, retries and DSNs.

Contract: the queue sits beside delivery/ and sites/ below ops/; it imports the core (storage, quota), mail/ and
the base modules, never ops/ or a front end. The spool follows the durability contract (docs/ARCHITECTURE.md).
"""
