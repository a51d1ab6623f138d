"""Reliability and security: faults survived, bad input refused, nobody let in (issue 13)."""
