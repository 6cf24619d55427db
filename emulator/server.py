"""The emulator's server process: moto's server with the extensions, on one loopback port.

``python -m emulator --host 127.0.0.1 --port N`` (what ``deployer sandbox start`` runs) serves
every service moto emulates, in the foreground, until SIGTERM or SIGINT. The port is bound before
moto is imported; a port already taken ends the process with ``EXIT_ADDRESS_IN_USE``.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
from collections.abc import Mapping, MutableMapping
from types import FrameType

from emulator.dataplane_routes import DataPlaneMiddleware
from emulator.extensions import install_extensions
from emulator.lambda_runtime import set_self_endpoint

# Environment the server process sets before importing moto, unless the caller set it already.
ENV_DEFAULTS: Mapping[str, str] = {
    "MOTO_ACM_VALIDATION_WAIT": "0",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}

# Exit status of the server when its port is taken (the sandbox then retries on another port).
EXIT_ADDRESS_IN_USE = 3

log = logging.getLogger(__name__)


def apply_env_defaults(environ: MutableMapping[str, str] | None = None) -> None:
    """Set ``ENV_DEFAULTS`` in ``environ`` (default ``os.environ``) where not already set."""
    target = os.environ if environ is None else environ
    for name, value in ENV_DEFAULTS.items():
        target.setdefault(name, value)


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(host: str, port: int) -> int:
    """Serve moto and the extensions on ``host:port`` until SIGTERM/SIGINT; return exit code."""
    family, socktype, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, socktype, proto)
    try:
        # Bound here, before the slow moto import, rather than by werkzeug (which exits with
        # status 1 on any bind error).
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            log.error("port %s on %s is already in use", port, host)
            return EXIT_ADDRESS_IN_USE
        raise

    apply_env_defaults()
    from moto import settings
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    # In case moto was imported before the environment was set.
    settings.ACM_VALIDATION_WAIT = int(os.environ["MOTO_ACM_VALIDATION_WAIT"])
    install_extensions()
    # API Gateway's data plane (stage URLs) in front of moto: emulator.dataplane_routes.
    app = DataPlaneMiddleware(DomainDispatcherApplication(create_backend_app))
    with listener:
        server = make_server(host, port, app, threaded=True, fd=listener.fileno())
    # moto builds some URLs (SQS queue URLs, ...) from MOTO_PORT.
    bound_port = int(server.socket.getsockname()[1])
    os.environ["MOTO_PORT"] = str(bound_port)
    # Lambda handlers run by the data plane call AWS back through this server.
    loopback = "127.0.0.1" if host in ("0.0.0.0", "") else host
    set_self_endpoint(f"http://{loopback}:{bound_port}")
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGINT, _raise_exit)
    print(f"deployer emulator listening on http://{host}:{bound_port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    print("deployer emulator stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m emulator --host H --port N``."""
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (default 5000)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return serve(args.host, args.port)
