"""``lookalike serve``: the review app on uvicorn (docs/review.md)."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from cli import context
from core.errors import LookalikeError

#: The app factory, named as a string so that the CLI does not import the web app (its own layer).
APP_FACTORY = "webapp.app:create_app"


def check_port(host: str, port: int) -> None:
    """One clear line instead of uvicorn's traceback when the address is taken or invalid."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise LookalikeError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise LookalikeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (they share the database).")] = 1,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help="Proxies trusted for X-Forwarded-Proto/For (HTTPS detection).")] = "127.0.0.1",
) -> None:
    """Serve the review app; log in with an account from `lookalike users add`."""
    import uvicorn  # imported here: only this command needs the web server (CLI start-up time)

    settings = context.settings()
    context.database(settings).dispose()  # migrate now and fail with one line if the database is unreachable
    check_port(host, port)
    typer.echo(f"Review app on http://{host}:{port}/ (database {settings.database_url.split('@')[-1]}); Ctrl+C stops it.")
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, proxy_headers=True,
                forwarded_allow_ips=forwarded_allow_ips, log_level="info", server_header=False)
