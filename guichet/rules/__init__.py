"""The rules core: pure Python, no Django import.

Call definitions, money, SIRET, the dossier interchange format and the eligibility engine live
here so that `guichet check` and the benchmarks run without a database.
"""
