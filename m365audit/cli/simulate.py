"""`m365audit simulate`: serve the simulated tenant on loopback until interrupted."""

from __future__ import annotations

from typing import Annotated

import typer

from m365audit import environment

FAULTS_HELP = ("Inject faults at these rates, deterministic from the seed, e.g. "
               "429=0.05,503=0.02,504=0.02,reset=0.01,truncate=0.01,slow=0.02,audit_failed=0.1,delta_expired=1 "
               "(plus retry_after=SECONDS, slow_seconds=SECONDS).")
AUDIT_LIMITS_HELP = ("The audit log query service's limits, e.g. daily=20,running=5,records=50000,seconds=30,"
                     "refusals=2,retry_after=5: query submissions per rolling 24 hours (Graph's baseline: 200), "
                     "queries queued or running at once (50), records per query (1,000,000), the least time a "
                     "query runs, and how many creations are first refused with 429 and Retry-After seconds, "
                     "as when other tools in a shared tenant have just spent its quota.")
DENY_HELP = "Answer 403 for paths needing these permissions, e.g. Reports.Read.All,AuditLogsQuery.Read.All."


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        port: Annotated[int, typer.Option(min=0, max=65535, help="Loopback port (0 picks a free one).")] = 8765,
        users: Annotated[int, typer.Option(min=1, max=1_500_000, help="Users in the tenant.")] = 2000,
        days: Annotated[int, typer.Option(min=1, max=180, help="Days of Copilot activity.")] = 30,
        seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same tenant.")] = 1,
        shared: Annotated[bool, typer.Option(
            "--shared", help="Share the tenant with a second organisation (an NHS trust), for --scope.")] = False,
        token: Annotated[str | None, typer.Option(envvar=environment.SIMULATOR_TOKEN.name,
                                                  help="Accept only this bearer token (default: any).")] = None,
        faults: Annotated[str | None, typer.Option(help=FAULTS_HELP)] = None,
        deny: Annotated[str | None, typer.Option(help=DENY_HELP)] = None,
        audit_limits: Annotated[str | None, typer.Option(help=AUDIT_LIMITS_HELP)] = None,
    ) -> None:
        """Serve a Graph-compatible simulated tenant on 127.0.0.1."""
        from m365audit.errors import UsageError
        from m365audit.simulator import SimulatorServer, Tenant, TenantConfig
        from m365audit.simulator.behaviour import parse_audit_limits
        from m365audit.simulator.catalogue import NORTHSHIRE_TRUST
        from m365audit.simulator.faults import deny_permissions, install, parse_faults

        try:
            api = parse_audit_limits(audit_limits or "")
        except ValueError as exc:
            raise UsageError(f"--audit-limits: {exc}.") from None
        config = TenantConfig(users=users, days=days, seed=seed, organisations=(NORTHSHIRE_TRUST,) if shared else (),
                              api=api)
        try:
            plan = parse_faults(faults or "")
        except ValueError as exc:
            raise UsageError(f"--faults: {exc}.") from None
        try:
            server = SimulatorServer(Tenant(config), port=port,
                                     accepted_tokens={token} if token else None)
        except OSError as exc:
            raise UsageError(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}.") from None
        if deny:
            server.graph.hooks.append(deny_permissions({p.strip() for p in deny.split(",") if p.strip()}))
        if not plan.empty:
            install(server.graph, plan, seed)
        typer.echo(f"Simulated tenant ({users:,} users, seed {seed}) at {server.url}", err=True)
        typer.echo(f"Collect it with: m365audit collect --graph-url {server.url} --auth token "
                   "(any M365AUDIT_TOKEN value works unless --token is set). Ctrl-C stops.", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop_serving()
