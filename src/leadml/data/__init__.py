"""Data in and out: the table contract and its validation report, column checks, reading tables and writing outputs atomically."""
