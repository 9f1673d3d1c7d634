"""Billing: the catalogue's prices applied to subscriptions, day by day, and the partners' revenue share.

No payment processing: it computes, records and exports. Money is `decimal.Decimal` throughout, never a float;
amounts of a month are prorated by day (a monthly price counts price / days-in-month per day) and each invoice
line is rounded once to cents, half up (`money.to_cents`).

- `money`: cents rounding, months and contract years (pure);
- `contract`: a subscription's dated changes and named users' seats, and what held on a given day (pure);
- `invoice`: a month's invoice lines of one contract (pure);
- `share`: a partner's statement lines from invoice lines (pure);
- `export`: statements and invoice lines as CSV and JSON (pure);
- `records`: the SQL side: subscriptions, their changes, seats (users by kind over time).

May import: directory/ (model only), storage/ (db), quota and the base modules. Never ops/, services or a front end.
"""
