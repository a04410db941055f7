"""Referral tables, one module per concept: the funnel event log, link visits and sign-ups, leads."""

from referrals.models.events import EventKind, FunnelEvent
from referrals.models.leads import Lead, LeadCursor, LeadNote, LeadStatus
from referrals.models.visits import Join, Visit

__all__ = ["EventKind", "FunnelEvent", "Join", "Lead", "LeadCursor", "LeadNote", "LeadStatus", "Visit"]
