"""Community pages. The blueprint is registered now; its routes arrive with the community work."""
from flask import Blueprint

bp = Blueprint("community", __name__, url_prefix="/community", template_folder="templates")
