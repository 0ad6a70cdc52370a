"""Reports handed to the funder and the end-of-programme evaluation (see reports/services.py)."""
