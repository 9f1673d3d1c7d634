"""What an operator does after `smb-suite init` on a server with a public name: DNS, firewall, listeners,
the first business. Printed by `init`; the embedded default on `localhost` needs none of it."""

from __future__ import annotations

import ipaddress

from smb_suite.config import Config, parse_listen_address

# The production port of each listener (README "Connect a mail client"; RFC 8314 for 465 and 993).
PRODUCTION_PORTS = {
    "smtp": 25,
    "submissions": 465,
    "submission": 587,
    "imap": 143,
    "imaps": 993,
    "http": 80,
    "https": 443,
}


def is_public_hostname(hostname: str) -> bool:
    host = hostname.rstrip(".").lower()
    return "." in host and host != "localhost" and not host.endswith((".localhost", ".test", ".invalid"))


def _loopback(address: tuple[str, int]) -> bool:
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def next_steps(config: Config) -> list[str]:
    """Numbered steps, or nothing when the hostname is not a public name (a local trial needs no DNS)."""
    host = config.server.hostname.rstrip(".")
    if not is_public_hostname(host):
        return []
    listeners = {name: parse_listen_address(getattr(config.listen, name)) for name in PRODUCTION_PORTS}
    bound = {name: address for name, address in listeners.items() if address is not None}
    steps = [
        f"Publish the A (and AAAA) records of {host} with this server's public addresses, and ask the hosting "
        f"company to set the reverse DNS (PTR) of those addresses to {host}: receivers check it.",
        "Open these ports in the firewall: 25 (mail from other servers), 465 and 587 (mail apps sending), "
        "143 and 993 (mail apps reading), 80 and 443 (websites, admin UI, certificates).",
    ]
    local = sorted(name for name, address in bound.items() if _loopback(address))
    if local:
        wanted = ", ".join(f'{name} = "0.0.0.0:{PRODUCTION_PORTS[name]}"' for name in local)
        steps.append(f"These services listen on loopback only; set in [listen]: {wanted}.")
    moved = sorted(name for name, address in bound.items() if address[1] not in (0, PRODUCTION_PORTS[name]))
    if moved and not local:
        steps.append(f"Not on their standard ports: {', '.join(moved)} (clients and other servers expect them).")
    steps += [
        "Host the first business: smb-suite tenant create NAME DOMAIN OWNER@DOMAIN --password-stdin",
        "Then print the DNS records to publish at the domain's registrar: smb-suite dns DOMAIN",
        f"The admin UI is at https://{host}/admin/ (sign in as the owner).",
    ]
    return [f"{number}. {step}" for number, step in enumerate(steps, 1)]
