"""The community's domain errors; their message is shown to the user."""

from shop.errors import AlreadySubmitted, DomainError, NotAllowed


class CommunityError(DomainError):
    """A community rule refused an action."""


class IllegalTransition(NotAllowed, CommunityError):
    """A ticket or article cannot take this step from its current state."""


class AlreadyPosted(AlreadySubmitted, CommunityError):
    """The same question, ticket or answer again by the same person within
    ``community.services.common.REPOST_WINDOW``: ``existing`` is the first one."""
