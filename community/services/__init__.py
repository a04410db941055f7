"""The community's rules, one module per concept: articles, questions (and answers, votes),
moderation, tickets, self-service, search, metrics. Services add and flush, never commit, and
raise ``community.errors.CommunityError`` (or ``NotAllowed``) with a message for the user.

What other areas use is re-exported here.
"""

from community.services.articles import articles_for_product

__all__ = ["articles_for_product"]
