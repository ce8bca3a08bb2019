from tokenopt_tui.cli import main

raise SystemExit(main())
