"""The provisioning API, REST under /api/v1/ on the admin host names: partners' own systems create and manage
their customers' businesses with bearer tokens (`smb-suite api token create PARTNER`).

`spec.py` declares what each call takes, `document.py` writes the OpenAPI document from it, `views.py` answers
the calls through ops/provisioning, `app.py` authenticates, limits, parses and maps errors to JSON. No SQL here.
"""
