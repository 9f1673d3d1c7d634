"""Pure RFC logic over bytes and strings: no sockets, no database, no configuration.

address (RFC 5321/5322 addresses), message, mime, dkim (RFC 6376, 8463), spf (RFC 7208), dmarc (RFC 7489),
authresults (RFC 8601), dsn (RFC 3464), autoreply (RFC 3834), summary, itip (RFC 5546 scheduling of events),
imip (RFC 6047: iTIP by mail); lookup (the DNS lookups these need, as
an interface); authentication (inbound SPF, DKIM and DMARC into one verdict, over an injected lookup).

Contract: mail imports only the base modules (errors, names); DNS arrives as an argument (a Resolver or a
lookup function), never a socket opened here.
"""
