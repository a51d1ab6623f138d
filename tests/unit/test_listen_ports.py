"""The private broker's ports: a broker binds them only after its jars and storage are
ready, so they must not come from the range outgoing connections draw from."""

from __future__ import annotations

import socket

from tests.support.stack import _ephemeral_low, listen_ports


def test_listen_ports_are_distinct_free_and_below_the_ephemeral_range() -> None:
    low = _ephemeral_low()
    ports = listen_ports(5)
    assert len(set(ports)) == 5
    assert all(1024 <= port < low for port in ports)
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # raises if the port was not free
