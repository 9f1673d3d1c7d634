"""Outbound queue: durable spool, MX routing, delivery with aiosmtplib, retries and DSNs."""
