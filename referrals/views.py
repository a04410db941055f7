"""Referral pages. The blueprint is registered now; its routes arrive with the referral work."""
from flask import Blueprint

bp = Blueprint("referrals", __name__, template_folder="templates")
