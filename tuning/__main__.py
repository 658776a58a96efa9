from tuning.cli import entry

raise SystemExit(entry())
