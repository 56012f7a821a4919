from vialguard.cli import main

raise SystemExit(main())
