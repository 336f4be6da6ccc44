"""Pure statistics: no project names, no I/O."""
