"""The cart: what a user means to buy, one line per variant."""
