"""`m365audit simulate`: serve the simulated tenant on loopback until interrupted."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        port: Annotated[int, typer.Option(min=0, max=65535, help="Loopback port (0 picks a free one).")] = 8765,
        users: Annotated[int, typer.Option(min=1, max=1_500_000, help="Users in the tenant.")] = 2000,
        days: Annotated[int, typer.Option(min=1, max=180, help="Days of Copilot activity.")] = 30,
        seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same tenant.")] = 1,
        shared: Annotated[bool, typer.Option(
            "--shared", help="Share the tenant with a second organisation (an NHS trust), for --scope.")] = False,
        token: Annotated[str | None, typer.Option(envvar="M365AUDIT_SIMULATOR_TOKEN", help="Accept only this bearer token (default: any).")] = None,
    ) -> None:
        """Serve a Graph-compatible simulated tenant on 127.0.0.1."""
        from m365audit.simulator import SimulatorServer, Tenant, TenantConfig
        from m365audit.simulator.catalogue import NORTHSHIRE_TRUST

        config = TenantConfig(users=users, days=days, seed=seed, organisations=(NORTHSHIRE_TRUST,) if shared else ())
        try:
            server = SimulatorServer(Tenant(config), port=port,
                                     accepted_tokens={token} if token else None)
        except OSError as exc:
            from m365audit.errors import UsageError

            raise UsageError(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}.") from None
        typer.echo(f"Simulated tenant ({users:,} users, seed {seed}) at {server.url}", err=True)
        typer.echo(f"Collect it with: m365audit collect --graph-url {server.url} --auth token "
                   "(any M365AUDIT_TOKEN value works unless --token is set). Ctrl-C stops.", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop_serving()
