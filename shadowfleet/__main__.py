from shadowfleet.cli import main

raise SystemExit(main())
