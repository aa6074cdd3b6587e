"""Whether Dodo Payments, Partnero and MailerLite can reach a webhook address: they send from the internet, so an
address of this machine or of a private network never gets an event, however right the rest of the setup is."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOCAL_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home", ".test", ".invalid")


def unreachable_reason(url: str) -> str | None:
    """Why senders on the internet cannot reach ``url``, in words; ``None`` when it looks public."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return "the address has no host name"
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return f"{host} is a name for this computer or a private network only"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            return f"{host} is a name known only inside a private network"
        return None
    if address.is_loopback:
        return f"{host} is this computer's own address"
    if address.is_private or address.is_link_local or address.is_reserved or address.is_unspecified:
        return f"{host} is an address of a private network"
    return None
