"""The catalog: what is sold, at which price for whom, and the storefront pages."""
