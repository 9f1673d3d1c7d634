"""The directory: who exists and who may do what. Businesses (tenants), hosted domains with their reserved names
and ownership state, mail accounts, recipient routing (aliases, catch-all, forwarding, vacation), the audit log
and the DKIM keys of hosted domains.

    model.py        Role, Principal, OPERATOR and the records (Domain, Tenant, User, Resolution, Vacation)
    core.py         Directory = access.py + domains.py + users.py + routing.py (one object over the database)
    reservation.py  names nobody may claim (pure rules over names)
    tenants.py      businesses as the operator and partners manage them
    audit.py        who changed what, when, from where
    dkimkeys.py     DKIM key pairs of hosted domains

Every call takes the acting principal and refuses what it may not touch (tenancy is enforced here, not in the
front ends). May import: storage/ (schema), quota, auth/, mail/ and the base modules (config, errors, names,
log); never ops/, delivery/, queue/, sites/, a front end or twisted. See docs/ARCHITECTURE.md.
"""
