"""The lab: replay, demo data and evaluation harnesses.

The lab imports the product (cases, models_ml) and drives it through its
services; nothing in the product imports the lab. It is a Django app only so
that `manage.py replay` and `manage.py seed_demo` are found.
"""
