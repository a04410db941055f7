"""Referral chains: codes, invite and share links, attribution, leads."""
