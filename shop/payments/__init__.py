"""Payments: payroll deduction now; card payments through Stripe build on the same orders."""
