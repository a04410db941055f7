"""Operator tools: catalog editing, order fulfilment, payroll export."""
