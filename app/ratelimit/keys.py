"""Bucket keys for callers we cannot authenticate: client addresses and usernames."""

from __future__ import annotations

import hashlib
import ipaddress

from auth.validation import canonical_username

# One IPv6 subscriber normally holds a whole /64: counting single addresses
# would give them 2**64 buckets.
IPV6_BUCKET_PREFIX = 64


def ip_bucket(address: str) -> str:
    """The rate-limit identity of a client address.

    IPv4 addresses count alone; IPv4-mapped IPv6 addresses count as their IPv4
    address; other IPv6 addresses count per /64. Anything that is not an IP
    address (a Unix-socket peer, a test client name) counts as itself.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_BUCKET_PREFIX), strict=False))
    return str(ip)


def username_bucket(username: str) -> str:
    """A fixed-length digest of the username, computed without looking the user up.

    No lookup means an unknown name is throttled exactly like a known one, and
    a digest keeps usernames (personal data, any length, any characters) out of
    the rate-limit store. Case and Unicode variants of one name share a bucket,
    so they cannot multiply the guessing budget.
    """
    return hashlib.sha256(canonical_username(username).encode("utf-8")).hexdigest()
