"""A Graph-compatible simulated tenant on loopback, deterministic from a seed."""

from m365audit.simulator.server import SimulatorServer
from m365audit.simulator.tenant import CLEAN, Rates, Tenant, TenantConfig

__all__ = ["CLEAN", "Rates", "SimulatorServer", "Tenant", "TenantConfig"]
