"""Payroll settlement: the monthly payroll export for HR, recorded once per month."""
