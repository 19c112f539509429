"""m365audit: audit Microsoft 365 Copilot licences, activity and policy compliance."""

__version__ = "0.1.0"
