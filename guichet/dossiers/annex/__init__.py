"""The financial annex of a consortium dossier, one module a concern:

- `schema`: the annex's data, its sheets, columns and words, and the errors of an import;
- `template`: the XLSX workbook to fill in, blank or pre-filled;
- `reader`: the strict import of a filled-in workbook (behind `dossiers.workbook_guard`);
- `export`: the budget as XLSX or ODS, with its totals (`core.spreadsheets`).

Pure modules (no Django models): the caller passes the consortium members and the call's expense
categories, and receives or gives an `AnnexContent`. Money is `Decimal` to the cent, never float.
What people read (sheet names, headers, error messages) is in the active language.
"""
