"""Automatic certificates (ACME, RFC 8555): their state in the database (`records`), their files under
data_dir/tls/acme/ by subject id (`store`), and the ACME protocol through the `acme` library that certbot uses
(`issuer`, blocking: called in threads). ops/certificates.py decides what to obtain and when.

Contract: below ops/, beside delivery/ and queue/; imports only the core and base layers; no twisted.
"""
