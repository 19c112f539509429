"""A Graph-compatible simulated tenant on loopback, deterministic from a seed."""

from m365audit.simulator.behaviour import CLEAN_ACTIVITY, ActivityRates, ApiBehaviour
from m365audit.simulator.server import SimulatorServer
from m365audit.simulator.tenant import CLEAN, Rates, Tenant, TenantConfig

__all__ = ["CLEAN", "CLEAN_ACTIVITY", "ActivityRates", "ApiBehaviour", "Rates", "SimulatorServer", "Tenant",
           "TenantConfig"]
