"""The street's ledgers (台账) as events: `riskwatch import ledger|template` (docs/contract.md §10).

- values.py    cell parsers: dates, numbers, text (Chinese reasons for what cannot be read)
- places.py    楼栋 and 地点 matched to config/area.yaml
- sheets.py    reading .xlsx/.csv with pandas, header detection, the data rows
- base.py      the LedgerKind interface and the RowReader each kind builds its events with
- kinds/       one module per ledger; registry.py lists them in one table
- convert.py   rows to event documents, event ids
- importer.py  import_ledger(): the core the CLI and the upload page call
- workbook.py  blank templates and the --skip-bad errors workbook (openpyxl)
"""
