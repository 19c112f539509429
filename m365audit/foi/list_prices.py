"""Microsoft's published UK list prices, which `m365audit foi` estimates expenditure with when it is given
no policy file (a policy's [[costs.prices]] replace them: use the organisation's own agreement).

Microsoft 365 Copilot: £24.70 per user per month on an annual commitment paid up front, excluding VAT
(Microsoft's UK price list; quoted at £24.70 by sharepointnutsandbolts.com, "Copilot for Microsoft 365 -
the surprising truth about time savings and ROI", January 2024, and by microsoftnegotiations.com's
Microsoft 365 Copilot licensing guide, 2026), from 1 November 2023, when Microsoft made it generally
available to enterprise customers (simulator/history.py names the source). Paying an annual commitment
monthly costs 5% more from 1 April 2025; that is a choice of the organisation, so it is in the example
borough council's policy, not here.
"""

from __future__ import annotations

from datetime import date

from m365audit.policy import Policy, Price

LIST_PRICES = (Price("Microsoft_365_Copilot", 24.70, date(2023, 11, 1)),)
LIST_PRICE_NOTE = ("No policy file was given: expenditure is estimated at Microsoft's published UK list price "
                   "for Microsoft 365 Copilot, £24.70 per seat per month on an annual commitment paid up front "
                   "(m365audit's built-in price list). Pass `--policy FILE` with [[costs.prices]] to use the "
                   "organisation's own prices.")


def default_policy() -> Policy:
    """The policy `foi` answers with when no --policy is given: the defaults, plus the list prices."""
    return Policy(prices=LIST_PRICES)
