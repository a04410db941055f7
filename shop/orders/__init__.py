"""Orders: the models, the lock order, stock held and given back, the state machine, expiry,
addresses (placing one: shop/checkout/)."""
