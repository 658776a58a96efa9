from tuning.cli import main

raise SystemExit(main())
