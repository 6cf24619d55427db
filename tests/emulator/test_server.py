"""The server process's environment (`ENV_DEFAULTS`) and its refusal of a port already taken."""

from __future__ import annotations

import socket

from emulator import ENV_DEFAULTS, EXIT_ADDRESS_IN_USE, apply_env_defaults
from emulator.server import serve


def test_apply_env_defaults_keeps_values_already_set() -> None:
    environ = {"MOTO_ACM_VALIDATION_WAIT": "5"}
    apply_env_defaults(environ)
    assert environ == {**ENV_DEFAULTS, "MOTO_ACM_VALIDATION_WAIT": "5"}


def test_serve_refuses_a_port_already_taken() -> None:
    """With the status on which the sandbox tries another port (not werkzeug's exit 1)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert serve("127.0.0.1", busy.getsockname()[1]) == EXIT_ADDRESS_IN_USE
