from m3o.cli import main

raise SystemExit(main())
