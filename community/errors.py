"""The community's domain errors; their message is shown to the user."""

from shop.errors import DomainError, NotAllowed


class CommunityError(DomainError):
    """A community rule refused an action."""


class IllegalTransition(NotAllowed, CommunityError):
    """A ticket or article cannot take this step from its current state."""
