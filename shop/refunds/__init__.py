"""Refunds of paid orders: by card through Stripe, by payroll as a credit in the next settlement."""
