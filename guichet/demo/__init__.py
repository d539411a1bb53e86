"""The demo of `make run`: accounts, dossiers, a decided wave with signed grants.

It sits above the apps it fills (dossiers, review, grants), so that none of them imports
another only to seed demo data.
"""
