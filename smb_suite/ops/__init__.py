"""Use cases by subject, shared by cli/, web/admin and the API: no SQL here, no HTTP here.

Each function takes the `Services` container (services.py) and, where someone acts, the acting principal, and
does one thing a user asked for: domains, users, login, signing, tenants, accounts, sites, dns_records,
verification, tiers, queue_admin, billing, api, provisioning, selfservice, brands.

May import: delivery/, queue/, sites/, billing/, directory/, storage/, quota, auth/, mail/ and the base modules (config,
errors, log, tls, dns, limits, durable). Never a front end (smtp/, imap/, web/), daemon or cli, never twisted.
`Services` (services.py, the composition of the core) sits just below ops.
"""
