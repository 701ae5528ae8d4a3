"""Everything that faces the outside: channels, router, console, gateway app, CLI."""
