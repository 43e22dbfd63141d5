"""Rate limiting: GCRA per client on Redis (or in-process), headers, login throttle."""
