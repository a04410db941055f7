"""Referral rules, one module per concept: links and posters (links, poster), sign-up through a
link (join), visits, the funnel event log (events), the network and its figures (network),
leads, chain changes by operators (chains), and abuse patterns (abuse).

Services add and flush, never commit, and raise a ``ReferralError`` (a ``DomainError``) with a
message for the user."""

from shop.errors import DomainError


class ReferralError(DomainError):
    pass
