"""Orders: placement with stock reservation, the state machine, expiry, addresses."""
